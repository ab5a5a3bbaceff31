// Stage "rootfs": the root file system's packages, installed by mmdebstrap into a folder. Cached by a
// hash of everything that goes in (sources, package list, the backport .debs), so a warm build skips it.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BuildContext } from '../context.js';
import { ImageError } from '../errors.js';
import { cacheKey } from '../plan/cachekey.js';
import { rootfsMmdebstrapArgs } from '../plan/mmdebstrap.js';
import { capture, runLogged } from '../run.js';
import { commitDir, isComplete, pruneCache, sha256File } from './fsutil.js';

export interface RootfsResult {
  /** Folder with the installed root file system (read it, copy it; never change it). */
  readonly root: string;
  /** dpkg-query output: package, version, architecture, source, source version (tab separated). */
  readonly packageList: string;
  readonly cached: boolean;
}

/**
 * The publication date of every configured suite (the Date: of its InRelease). With it in the cache key,
 * a build made after the archive changed (e.g. a Debian security update) installs the new packages;
 * without it a warm cache keeps the packages of the first build. Release builds ask for it.
 */
export async function archiveState(ctx: BuildContext): Promise<string[]> {
  const dates: string[] = [];
  for (const source of ctx.config.sources) {
    for (const suite of source.suites) {
      const url = `${source.uri.replace(/\/+$/, '')}/dists/${suite}/InRelease`;
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch(() => null);
      const date = res?.ok ? /^Date: (.+)$/m.exec(await res.text())?.[1] : undefined;
      if (!date) throw new ImageError('STAGE_FAILED', `rootfs: could not read the publication date of ${suite} (${url})`);
      dates.push(`${suite} ${date}`);
    }
  }
  return dates;
}

export async function rootfsStage(ctx: BuildContext, debs: readonly string[], refresh = false): Promise<RootfsResult> {
  const dir = join(ctx.paths.cache, 'rootfs');
  const aptArchive = join(ctx.paths.cache, 'apt-archives');
  const localPackages: string[] = [];
  for (const deb of debs) {
    const [name, version] = (await capture('dpkg-deb', ['--field', deb, 'Package', 'Version'])).split('\n').map((l) => l.replace(/^[A-Za-z]+: /, '').trim());
    localPackages.push(`${name}=${version}`);
  }
  // The key sees the command line with placeholder paths, plus the content of every local .deb.
  const keyArgs = rootfsMmdebstrapArgs({
    config: ctx.config,
    localRepo: '/repo',
    localPackages,
    aptArchive: '/apt',
    target: '/target',
    packageListOut: '/packages',
  });
  const archive = refresh ? await archiveState(ctx) : [];
  if (refresh) ctx.log(`rootfs: archive state ${archive.join('; ')}`);
  const key = cacheKey('rootfs', { args: keyArgs, debs: debs.map(sha256File), ...(refresh ? { archive } : {}) });
  const final = join(dir, key);
  const result = { root: join(final, 'root'), packageList: join(final, 'packages.tsv') };
  if (isComplete(final)) {
    ctx.log(`rootfs: cached (${key})`);
    return { ...result, cached: true };
  }
  const staging = `${final}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'root'), { recursive: true });
  mkdirSync(aptArchive, { recursive: true });
  const localRepo = join(ctx.paths.work, 'localrepo');
  rmSync(localRepo, { recursive: true, force: true });
  mkdirSync(localRepo, { recursive: true });
  for (const deb of debs) copyFileSync(deb, join(localRepo, basename(deb)));
  await runLogged(ctx, 'rootfs', 'sh', ['-c', 'dpkg-scanpackages --multiversion . /dev/null > Packages'], { cwd: localRepo });
  const args = rootfsMmdebstrapArgs({
    config: ctx.config,
    localRepo,
    localPackages,
    aptArchive,
    target: join(staging, 'root'),
    packageListOut: join(staging, 'packages.tsv'),
  });
  await runLogged(ctx, 'rootfs', 'mmdebstrap', args);
  commitDir(staging, final, { key, debs: debs.map((d) => basename(d)) });
  pruneCache(dir, 'rootfs-', 2, final);
  return { ...result, cached: false };
}
