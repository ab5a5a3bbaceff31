// Stage "backports": newer janus and coturn for the base suite, built from Debian's source packages in
// a throw-away build chroot (or, for the binary route, downloaded as they are), cached by source version.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backport } from '../config/schema.js';
import type { BuildContext } from '../context.js';
import { ImageError } from '../errors.js';
import { cacheKey } from '../plan/cachekey.js';
import { backportBuildScript, backportMmdebstrapArgs } from '../plan/mmdebstrap.js';
import { runLogged } from '../run.js';
import { commitDir, isComplete } from './fsutil.js';

/** Bump when the build recipe changes in a way that changes the packages. */
const RECIPE = 1;

export interface BackportsResult {
  /** The .deb files to install into the root file system. */
  readonly debs: readonly string[];
  readonly built: readonly string[];
}

export function backportCacheDir(ctx: BuildContext, pkg: Backport): string {
  const { config } = ctx;
  const key = cacheKey('bp', {
    recipe: RECIPE,
    pkg,
    base: [config.distribution, config.suite, config.architecture, config.sources],
    from: config.backports.from,
    tools: [config.backports.buildToolSources, config.backports.buildToolPackages],
    suffix: config.backports.versionSuffix,
  });
  return join(ctx.paths.cache, 'backports', `${pkg.source}_${pkg.version}_${key}`);
}

function wantedDebs(dir: string, pkg: Backport): string[] {
  const files = readdirSync(dir);
  return pkg.binaries.map((bin) => {
    const file = files.find((f) => f.startsWith(`${bin}_`) && f.endsWith('.deb'));
    if (!file) throw new ImageError('STAGE_FAILED', `backports: ${pkg.source} produced no ${bin} package in ${dir}`);
    return join(dir, file);
  });
}

export async function backportsStage(ctx: BuildContext): Promise<BackportsResult> {
  const packages = ctx.config.backports.packages;
  const missing = packages.filter((p) => !isComplete(backportCacheDir(ctx, p)));
  if (missing.length > 0) {
    ctx.log(`backports: building ${missing.map((p) => `${p.source} ${p.version} (${p.route})`).join(', ')}`);
    const work = join(ctx.paths.work, 'backports');
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'out'), { recursive: true });
    const aptArchive = join(ctx.paths.cache, 'apt-archives');
    mkdirSync(aptArchive, { recursive: true });
    const scriptFile = join(work, 'build.sh');
    writeFileSync(scriptFile, backportBuildScript(ctx.config, missing));
    const args = backportMmdebstrapArgs({ config: ctx.config, packages: missing, aptArchive, outDir: join(work, 'out'), scriptFile });
    await runLogged(ctx, 'backports', 'mmdebstrap', args);
    for (const pkg of missing) {
      const produced = join(work, 'out', pkg.source);
      if (!existsSync(produced)) throw new ImageError('STAGE_FAILED', `backports: nothing produced for ${pkg.source}`);
      wantedDebs(produced, pkg);
      commitDir(produced, backportCacheDir(ctx, pkg), { source: pkg.source, version: pkg.version, route: pkg.route });
    }
    rmSync(work, { recursive: true, force: true });
  } else {
    ctx.log('backports: all packages cached');
  }
  return {
    debs: packages.flatMap((p) => wantedDebs(backportCacheDir(ctx, p), p)),
    built: missing.map((p) => p.source),
  };
}
