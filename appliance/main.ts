// Entry point: read settings, start the service, stop cleanly on SIGTERM/SIGINT. Nothing else here.
import { loadSettings, SettingsError } from './config/settings.js';
import { createLogger } from './log.js';
import { randomBytes } from 'node:crypto';
import { startService, type RunningService } from './service.js';

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
  if (settings.devAdmin) await devAdmin(service);
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

/** Development only: an admin account with a fresh password each start, printed for the person at the console. */
async function devAdmin(service: RunningService): Promise<void> {
  const password = randomBytes(12).toString('base64url');
  const existing = service.accounts.list().find((a) => a.name === 'admin');
  if (existing) await service.accounts.resetPassword(existing.id, password);
  else await service.accounts.create({ name: 'admin', password, role: 'admin' });
  console.log(`admin login: admin / ${password}  (${service.url}/admin)`);
}

main().catch((err: unknown) => {
  console.error('Stube could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
