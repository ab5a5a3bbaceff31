// Entry point: read settings, start the service, stop cleanly on SIGTERM/SIGINT. Nothing else here.
import { loadSettings, SettingsError } from './config/settings.js';
import { createLogger } from './log.js';
import { startService } from './service.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const log = createLogger({ level: settings.logLevel });
  const service = await startService(settings, log);
  // Printed for people; the log line above has no address on purpose.
  console.log(`Stube is running at ${service.url}`);
  const shutdown = (signal: string): void => {
    log.info('stopping', { signal });
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('stopping failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('Stube could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
