// The privileged helper's side of installing: checks a request against the disks as they are now, then
// runs the installation in the background and writes its progress where the service reads it (a small
// JSON file in the runtime folder: numbers and the disk's kernel name only).
import { execFile } from 'node:child_process';
import { open, readFile, rename } from 'node:fs/promises';
import { confirmationText, findBootDisk, isRemovable, readDisks, type DiskFacts } from './disks.js';
import { efibootmgrBootEntry, install } from './installer.js';
import { InstallError, minimumTargetBytes, parseSfdiskJson } from './layout.js';
import { initialProgress, type InstallProgress } from './progress.js';
import type { Logger } from '../log.js';

export interface InstallSurvey {
  disks: DiskFacts[];
  bootDisk: string | null;
  minBytes: number;
}

export interface InstallHost {
  survey(): Promise<InstallSurvey>;
  running(): boolean;
  /**
   * Starts the installation onto this disk. Resolves once the progress file shows the new attempt
   * (phase "checking"), before any disk work: the wizard's first poll must never read the failure of
   * an earlier attempt. The work goes on in the background (progress goes to the progress file).
   */
  begin(disk: DiskFacts): Promise<void>;
}

export type InstallCheck = { ok: true; disk: DiskFacts } | { ok: false; reason: string };

/** Every rule a request must pass; pure, so the operation's refusals are unit-tested. */
export function checkInstallRequest(s: InstallSurvey, diskPath: string, confirmation: string, busy: boolean): InstallCheck {
  if (busy) return { ok: false, reason: 'an installation is already running' };
  const disk = s.disks.find((d) => d.path === diskPath);
  if (!disk) return { ok: false, reason: 'not a whole disk that is present now' };
  if (s.bootDisk === null) return { ok: false, reason: 'the boot disk is unknown' };
  if (disk.name === s.bootDisk) return { ok: false, reason: 'that is the disk the box runs from' };
  const boot = s.disks.find((d) => d.name === s.bootDisk);
  if (!boot || !isRemovable(boot)) return { ok: false, reason: 'the box does not run from a removable disk' };
  if (isRemovable(disk)) return { ok: false, reason: 'not an internal disk' };
  if (disk.readOnly) return { ok: false, reason: 'the disk is read-only' };
  if (disk.sizeBytes < s.minBytes) return { ok: false, reason: `the disk is too small (at least ${s.minBytes} bytes needed)` };
  const said = confirmation.trim().replace(/\s+/g, ' ');
  if (said !== confirmationText(disk) && (disk.serial === '' || said !== disk.serial)) return { ok: false, reason: 'the confirmation does not name this disk' };
  return { ok: true, disk };
}

export function run(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 3_600_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

/** PARTUUID of the running root from the kernel command line. */
export function rootPartUuidOf(cmdline: string): string | null {
  return /(?:^|\s)root=PARTUUID=([0-9a-fA-F-]{36})(?:\s|$)/.exec(cmdline)?.[1] ?? null;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    // The helper runs with umask 0077; the service (another user) reads this file.
    await fh.chmod(0o644);
    await fh.writeFile(JSON.stringify(value) + '\n');
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export function createInstallHost(o: { progressFile: string; dataDir: string; log: Logger; sysDir?: string; bootDisk?: () => Promise<string | null> }): InstallHost {
  let busy = false;
  const sysDir = o.sysDir ?? '/sys';
  const bootDiskOf = o.bootDisk ?? (() => findBootDisk());
  return {
    async survey() {
      const [disks, bootDisk] = await Promise.all([readDisks(), findBootDisk()]);
      let minBytes = Number.MAX_SAFE_INTEGER;
      if (bootDisk) minBytes = minimumTargetBytes(parseSfdiskJson(await run(['sfdisk', '--json', `/dev/${bootDisk}`])));
      return { disks, bootDisk, minBytes };
    },
    running: () => busy,
    async begin(disk) {
      busy = true;
      try {
        await writeJson(o.progressFile, initialProgress(disk.name));
      } catch (err) {
        busy = false;
        throw err;
      }
      let last = 0;
      let lastPhase = 'checking' as InstallProgress['phase'];
      let pending: Promise<void> = Promise.resolve();
      const onProgress = (p: InstallProgress): void => {
        const now = Date.now();
        // Twice a second is plenty for a progress bar; phase changes always go out.
        if (p.phase === lastPhase && (p.phase === 'copying' || p.phase === 'verifying')) {
          if (now - last < 500) return;
        }
        last = now;
        lastPhase = p.phase;
        pending = pending.then(() => writeJson(o.progressFile, p)).catch(() => undefined);
      };
      void (async () => {
        try {
          const bootDisk = await bootDiskOf();
          if (!bootDisk) throw new InstallError('failed', 'the boot disk is unknown');
          const cmdline = await readFile('/proc/cmdline', 'utf8').catch(() => '');
          const result = await install(
            { source: `/dev/${bootDisk}`, target: disk.path, dataDir: o.dataDir, runningRootPartUuid: rootPartUuidOf(cmdline) },
            { run, createBootEntry: (d, n, u) => efibootmgrBootEntry(run, d, n, u), onProgress, now: () => Date.now(), sysDir },
          );
          o.log.info('installed onto the internal disk', { bytes: result.written, seconds: Math.round(result.seconds) });
        } catch (err) {
          const failure = err instanceof InstallError ? err.failure : 'failed';
          o.log.warn('installation failed; the box keeps running from the stick', { failure });
          // A failure before the installer reported it (no boot disk, an unexpected error) is shown too.
          if (lastPhase !== 'failed') onProgress({ ...initialProgress(disk.name), phase: 'failed', failure });
        } finally {
          await pending;
          busy = false;
        }
      })();
    },
  };
}
