// Starts the real service with a real Janus for a test: free HTTP port on loopback, Janus in its own
// network namespace, a fresh data folder. Everything is removed again by stop().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../appliance/config/settings.js';
import { createLogger, type LogLevel } from '../../appliance/log.js';
import { startService, type RunningService } from '../../appliance/service.js';
import { createNetns, type TestNetns } from './netns.js';

export interface TestService extends RunningService {
  netns: TestNetns;
  /** Every line the service (and Janus, through it) logged. */
  logLines: string[];
  dataDir: string;
}

export async function startTestService(opts: {
  logLevel?: LogLevel;
  echo?: boolean;
  /** More environment for loadSettings (e.g. the update agent's folders). */
  env?: Record<string, string>;
  /** Called with the fresh data folder before the service starts (to place files a box would have). */
  prepareData?: (dataDir: string) => void;
} = {}): Promise<TestService> {
  const netns = createNetns();
  const dataDir = mkdtempSync(join(tmpdir(), 'stube-data-'));
  // Short: unix socket paths are limited to 107 bytes.
  const janusDir = mkdtempSync('/tmp/stj-');
  const base = 30000 + Math.floor(Math.random() * 300) * 100;
  const settings = loadSettings(
    ['--http', '127.0.0.1:0', '--data', dataDir, '--janus-dir', janusDir, '--rtp-ports', `${base}-${base + 99}`],
    {
      STUBE_JANUS_WRAPPER: netns.exec.join(' '),
      STUBE_ICE_ENFORCE: netns.nsIf,
      STUBE_EVENT_LOOPS: '2',
      ...opts.env,
    },
  );
  opts.prepareData?.(dataDir);
  const logLines: string[] = [];
  const log = createLogger({
    level: opts.logLevel ?? 'info',
    write: (line) => {
      logLines.push(line);
      if (opts.echo || process.env.STUBE_TEST_ECHO) process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
    },
  });
  let service: RunningService;
  try {
    service = await startService(settings, log);
  } catch (err) {
    netns.destroy();
    throw err;
  }
  return {
    ...service,
    netns,
    logLines,
    dataDir,
    async stop() {
      try {
        await service.stop();
      } finally {
        netns.destroy();
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(janusDir, { recursive: true, force: true });
      }
    },
  };
}

/** Polls `check` until it returns a value other than undefined/null/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 100): Promise<Exclude<T, false | undefined | null>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false && value !== null) return value as Exclude<T, false | undefined | null>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
