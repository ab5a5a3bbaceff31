// The root update helper's work for one request: check the channel, download (resuming), install (check
// the bundle's signature and contents, then let systemd-sysupdate write the inactive slot, its kernel
// and its boot entry with boot counting), or reboot. Dependencies come in, so tests can run it against
// real bundles with a fake sysupdate and reboot; helper-main.ts wires the real ones.
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BundleRefused, checkBundle, promotePayload } from './bundle-check.js';
import { ChannelError, downloadBundle, fetchPointer } from './channel.js';
import type { HelperRequest, HelperStatus } from './helper-protocol.js';
import { loadUpdateSettings, UpdateSettingsError, type Channel, type DirectChannel } from './settings.js';
import { realStickDeps, withStickChannel, type StickDeps } from './usb-channel.js';
import { compareVersions } from './version.js';

const run = promisify(execFile);

export interface HelperPaths {
  /** Root-only folder (bound from the data partition by the unit). */
  readonly private: string;
  readonly keyring: string;
  readonly definitions: string;
  readonly settings: string;
  readonly versionFile: string;
}

export interface HelperDeps {
  readonly paths: HelperPaths;
  readonly name: string;
  readonly architecture: string;
  /** Writes the checked payload to the inactive slot (systemd-sysupdate update <version>). */
  readonly sysupdate: (version: string) => Promise<void>;
  readonly reboot: () => Promise<void>;
  readonly sqv?: string;
  /** Status so far (for progress); the helper's last word is its return value. */
  readonly report: (status: HelperStatus) => Promise<void>;
  readonly now?: () => Date;
  /**
   * Resolves once the running version's boot is no longer under assessment (marked good, or not counted).
   * Until then the inactive slot is the fall-back if this boot fails, and must not be overwritten.
   */
  readonly bootSettled?: () => Promise<void>;
  /** Finding and mounting USB sticks (the real lsblk and mount unless a test says otherwise). */
  readonly sticks?: StickDeps;
  /** Where sticks are mounted while they are read (the unit gives the helper a private /tmp). */
  readonly stickScratch?: string;
}

/** The real systemd-sysupdate: definitions from the image, nothing from /etc or the data partition. */
export function realSysupdate(definitions: string): (version: string) => Promise<void> {
  return async (version) => {
    await run('/usr/lib/systemd/systemd-sysupdate', [`--definitions=${definitions}`, '--no-pager', 'update', version], { maxBuffer: 4 * 1024 * 1024 });
  };
}

/**
 * Waits while systemd-bless-boot says the running entry is "indeterminate" (it still has boot tries and
 * was not yet marked good: /healthz/join has not answered since this boot). Gives up after `maxMs`.
 */
export function realBootSettled(maxMs = 20 * 60_000, everyMs = 5_000): () => Promise<void> {
  return async () => {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const { stdout } = await run('/usr/lib/systemd/systemd-bless-boot', ['status']).catch(() => ({ stdout: 'clean' }));
      if (stdout.trim() !== 'indeterminate') return;
      if (Date.now() > deadline) throw new Error('this version has not been marked good since it started; the update waits');
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
}

export async function realReboot(): Promise<void> {
  await run('systemctl', ['reboot']);
}

/** The folder must be root's and closed to others, or the service user could have placed its contents. */
export async function checkPrivateFolder(dir: string): Promise<void> {
  const s = await lstat(dir);
  if (!s.isDirectory() || s.uid !== 0 || (s.mode & 0o077) !== 0) throw new Error(`${dir} is not a root-only folder`);
}

async function downloadedBundle(dir: string): Promise<string | null> {
  try {
    const done = (await readdir(dir)).filter((f) => f.endsWith('.update.tar'));
    return done.length === 1 && done[0] ? join(dir, done[0]) : null;
  } catch {
    return null;
  }
}

/** Runs `use` on the channel as the box reads it: a USB stick's folder is mounted for that time only. */
function viaChannel<T>(channel: Channel, deps: HelperDeps, use: (c: DirectChannel) => Promise<T>): Promise<T> {
  if (channel.kind !== 'usb') return use(channel);
  return withStickChannel(deps.stickScratch ?? join(tmpdir(), 'stube-sticks'), (path) => use({ kind: 'file', path }), deps.sticks ?? realStickDeps);
}

export async function runRequest(request: HelperRequest, previous: HelperStatus | null, deps: HelperDeps): Promise<HelperStatus> {
  const now = deps.now ?? (() => new Date());
  const currentVersion = (await readFile(deps.paths.versionFile, 'utf8')).trim();
  const downloads = join(deps.paths.private, 'download');
  let status: HelperStatus = {
    ...(previous ?? {}), id: request.id, op: request.op, state: 'working', currentVersion, error: undefined, updatedAt: now().toISOString(),
  };
  const report = async (patch: Partial<HelperStatus>): Promise<void> => {
    status = { ...status, ...patch, updatedAt: now().toISOString() };
    await deps.report(status);
  };
  await report({});
  try {
    await checkPrivateFolder(deps.paths.private);
    switch (request.op) {
      case 'check': {
        const settings = await loadUpdateSettings(deps.paths.settings);
        const pointer = await viaChannel(settings.channel, deps, (c) => fetchPointer(c, currentVersion));
        const newer = compareVersions(pointer.version, currentVersion) > 0;
        await report({ available: newer ? { version: pointer.version, size: pointer.size } : undefined, checkedAt: now().toISOString() });
        break;
      }
      case 'download': {
        const settings = await loadUpdateSettings(deps.paths.settings);
        // One pointer and its bundle from the same channel (and the same stick, mounted once).
        const pointer = await viaChannel(settings.channel, deps, async (channel) => {
          const p = await fetchPointer(channel, currentVersion);
          if (compareVersions(p.version, currentVersion) <= 0) return null;
          await mkdir(downloads, { recursive: true, mode: 0o700 });
          // Older finished or partial bundles make room for this one.
          for (const f of await readdir(downloads)) if (!f.startsWith(p.file)) await rm(join(downloads, f), { force: true });
          let last = 0;
          await downloadBundle(channel, p, downloads, currentVersion, (bytes) => {
            if (bytes - last >= 8 * 1024 * 1024) {
              last = bytes;
              void deps.report({ ...status, downloaded: { version: p.version, bytes, total: p.size }, updatedAt: now().toISOString() });
            }
          });
          return p;
        });
        if (!pointer) {
          await report({ available: undefined, checkedAt: now().toISOString() });
          break;
        }
        await report({ available: { version: pointer.version, size: pointer.size }, downloaded: { version: pointer.version, bytes: pointer.size, total: pointer.size } });
        break;
      }
      case 'install': {
        const bundle = await downloadedBundle(downloads);
        if (!bundle) throw new ChannelError('no downloaded update to install');
        const work = join(deps.paths.private, 'work');
        const verified = join(deps.paths.private, 'verified');
        try {
          const { manifest, payload } = await checkBundle(bundle, {
            keyring: deps.paths.keyring, name: deps.name, architecture: deps.architecture, currentVersion, workDir: work, ...(deps.sqv ? { sqv: deps.sqv } : {}),
          });
          await promotePayload(payload, verified, manifest);
          // A version just switched to is still on trial: its predecessor in the inactive slot is the
          // fall-back, so the slot waits until this boot is marked good.
          await deps.bootSettled?.();
          // In the journal: the moment the inactive slot starts being written (tests cut the power here).
          console.log(`update helper: bundle ${manifest.version} checked; writing the inactive slot`);
          await deps.sysupdate(manifest.version);
          await report({ installed: { version: manifest.version, changelog: manifest.changelog.slice(0, 4096) } });
        } finally {
          await rm(work, { recursive: true, force: true });
          await rm(verified, { recursive: true, force: true });
        }
        await rm(bundle, { force: true });
        break;
      }
      case 'reboot':
        await report({ state: 'done' });
        await deps.reboot();
        return status;
    }
    status = { ...status, state: 'done', updatedAt: now().toISOString() };
  } catch (err) {
    if (err instanceof BundleRefused) {
      // A refused bundle is never tried again: remove it, so the next download starts afresh.
      const bundle = await downloadedBundle(downloads);
      if (bundle) await rm(bundle, { force: true });
      status = { ...status, state: 'failed', error: { code: err.code, message: err.message }, updatedAt: now().toISOString() };
    } else if (err instanceof ChannelError || err instanceof UpdateSettingsError) {
      status = { ...status, state: 'failed', error: { code: 'channel', message: err.message }, updatedAt: now().toISOString() };
    } else {
      status = { ...status, state: 'failed', error: { code: 'internal', message: err instanceof Error ? err.message.slice(0, 300) : 'failed' }, updatedAt: now().toISOString() };
    }
  }
  await deps.report(status);
  return status;
}
