// Entry point: read settings, start the service, stop cleanly on SIGTERM/SIGINT. Nothing else here.
import { loadSettings, loadSetupSettings, SettingsError, type Settings, type SetupSettings } from './config/settings.js';
import { createLogger, type Logger } from './log.js';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { startService, type RunningService } from './service.js';
import { adminAccountsOf } from './accounts/accounts.js';
import { mountSetup, type MountedSetup } from './setup/mount.js';

async function main(): Promise<void> {
  let settings: Settings;
  // The box sets STUBE_SETUP=1: the setup wizard (and its privileged helper) belong to the appliance.
  let setupSettings: SetupSettings | null = null;
  try {
    settings = loadSettings(process.argv.slice(2), process.env);
    if (process.env.STUBE_SETUP === '1') setupSettings = loadSetupSettings(process.env);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const log = createLogger({ level: settings.logLevel });
  let service: RunningService | null = null;
  const setup = setupSettings ? await wizard(settings, setupSettings, log, () => service) : null;
  service = await startService(settings, log, setup ? { routes: setup.routes } : {});
  setup?.listen();
  // The console banner shows the code from <runtimeDir>/setup-code; this is for `journalctl -u stube`.
  if (setup?.code) console.log('Setup is open: the setup code is on the box\'s console.');
  // Printed for people; the log line above has no address on purpose.
  console.log(`Stube is running at ${service.url}`);
  if (settings.devAdmin) await devAdmin(service);
  const shutdown = (signal: string): void => {
    log.info('stopping', { signal });
    Promise.all([setup?.close(), service?.stop()]).then(
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

function wizard(settings: Settings, setup: SetupSettings, log: Logger, service: () => RunningService | null): Promise<MountedSetup> {
  const running = (): RunningService => {
    const s = service();
    if (!s) throw new Error('the service is still starting');
    return s;
  };
  return mountSetup({
    settings,
    setup,
    log,
    internalHost: process.env.STUBE_LAN_ADDRESS ?? lanAddress(),
    accounts: () => adminAccountsOf(running().db),
    reloadTls: async () => {
      if (!settings.https) throw new Error('the wizard needs the service on HTTPS');
      await running().reloadTls(settings.https.certFile, settings.https.keyFile);
    },
  });
}

/** The box's first IPv4 address that is not loopback: what the router forwards to. */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
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
