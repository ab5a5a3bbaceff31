// `npm test`: make sure the Debian packages the tests need are here, then run every vitest project.
// Thin on purpose: the package list lives in test/packages.ts, the tests in their projects.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { REQUIRED_PACKAGES } from './packages.js';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function ensurePackages(): void {
  const missing = [...new Set(REQUIRED_PACKAGES.filter((p) => !existsSync(p.probe)).map((p) => p.pkg))];
  if (missing.length === 0) return;
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`The tests need these Debian packages: ${missing.join(', ')}.\nRun as root:\n  apt-get update && ${cmd}`);
    process.exit(2);
  }
  console.log(`Installing missing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update'], env) !== 0) throw new Error('apt-get update failed');
  if (run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], env) !== 0) {
    throw new Error(`apt-get install failed: ${cmd}`);
  }
}

ensurePackages();
// Projects run one after another: integration and image tests both want the machine's two cores, and
// a cheap failure should stop the run before the expensive part starts.
const only = process.argv.slice(2);
const projects = only.length > 0 ? only : ['unit', 'integration', 'image'];
// Types first: strict TypeScript catches in seconds what the slower projects would find later.
console.log('\n=== typecheck ===');
if (run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) process.exit(1);

// Integration and image tests serve the built client and ship the built service: build them first.
if (projects.some((p) => p !== 'unit')) {
  console.log('\n=== npm run build ===');
  const status = run('npm', ['run', 'build']);
  if (status !== 0) process.exit(status);
}
for (const project of projects) {
  console.log(`\n=== vitest project: ${project} ===`);
  const status = run('npx', ['vitest', 'run', '--project', project]);
  if (status !== 0) process.exit(status);
}
