// The build as a flat list of stages, each a typed function of one context. Stages whose inputs did not
// change are skipped (their outputs are cached by a hash of those inputs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageVersion, loadConfig } from './config/load.js';
import { buildPaths, createContext, type BuildContext } from './context.js';
import { cacheKey } from './plan/cachekey.js';
import { preflight } from './preflight.js';
import { appStage } from './stages/app.js';
import { assembleStage, outputsOf, upToDate, type ImageOutputs } from './stages/assemble.js';
import { backportsStage } from './stages/backports.js';
import { bundleStage, type BundleOutputs } from './stages/bundle.js';
import { configureStage } from './stages/configure.js';
import { hashTree } from './stages/fsutil.js';
import { rootfsStage } from './stages/rootfs.js';
import { signingKeyOf } from './stages/signing.js';

/** Bump when configure/assemble change in a way the other inputs do not show. */
const ASSEMBLY_RECIPE = 2;

export interface BuildOptions {
  readonly repo: string;
  readonly configFile: string;
  readonly outDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly skipServiceBuild?: boolean;
  /** Install the archive's current packages (security fixes) even when a cached root file system exists. */
  readonly refreshPackages?: boolean;
  readonly log?: (message: string) => void;
}

export interface BuildReport {
  readonly outputs: ImageOutputs;
  /** The signed update bundle of the same root slot. */
  readonly bundle: BundleOutputs;
  readonly reused: boolean;
  readonly seconds: Record<string, number>;
}

export function contextFor(options: BuildOptions): BuildContext {
  const config = loadConfig(options.configFile);
  const pkg = JSON.parse(readFileSync(join(options.repo, 'package.json'), 'utf8')) as { version: string };
  const paths = buildPaths(options.repo, options.env ?? process.env, options.outDir);
  return createContext(config, imageVersion(config, pkg.version), paths, options.log ?? ((m) => console.log(m)));
}

export async function buildImage(options: BuildOptions): Promise<BuildReport> {
  const ctx = contextFor(options);
  preflight(ctx.config, ctx.paths.cache);
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const r = await f();
    seconds[name] = Math.round((Date.now() - t) / 1000);
    return r;
  };
  ctx.log(`building ${ctx.imageName} (cache ${ctx.paths.cache})`);
  const backports = await timed('backports', () => backportsStage(ctx));
  const rootfs = await timed('rootfs', () => rootfsStage(ctx, backports.debs, options.refreshPackages ?? false));
  const app = await timed('app', () => appStage(ctx, { skipServiceBuild: options.skipServiceBuild ?? false }));
  const inputsKey = cacheKey('image', {
    recipe: ASSEMBLY_RECIPE,
    config: ctx.config,
    version: ctx.version,
    rootfs: rootfs.root,
    app: app.app,
    templates: hashTree(join(ctx.paths.repo, 'templates')),
    // The signing key's public half goes into the image; a different key is a different image.
    signingKey: signingKeyOf(ctx).secretKey,
  });
  if (upToDate(ctx, inputsKey)) {
    ctx.log(`image up to date: ${outputsOf(ctx).image}`);
    const bundle = await timed('bundle', () => bundleStage(ctx, outputsOf(ctx), inputsKey));
    return { outputs: outputsOf(ctx), bundle, reused: true, seconds };
  }
  const configured = await timed('configure', () => configureStage(ctx, rootfs, app));
  const outputs = await timed('assemble', () => assembleStage(ctx, configured, rootfs, app, inputsKey));
  const bundle = await timed('bundle', () => bundleStage(ctx, outputs, inputsKey));
  return { outputs, bundle, reused: false, seconds };
}
