// `npm run vm`: boot the built image in qemu with the box's web port on 127.0.0.1, serial console here.
//   npm run vm -- [--image out/stube-<version>-amd64.img] [--fresh] [--port 8443]
// The VM gets its own disk (out/vm/disk.img, a copy of the image plus 4 GiB) that persists between runs
// unless --fresh is given. Leave the console with Ctrl-A X.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv } from 'zx';
import { ImageError } from './errors.js';
import { contextFor } from './pipeline.js';
import { outputsOf } from './stages/assemble.js';
import { preflightProblems, hostFacts, VM_TOOLS } from './preflight.js';
import { makeVmDisk } from './vm/disk.js';
import { Vm } from './vm/machine.js';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
try {
  const ctx = contextFor({ repo, configFile: resolve(String(argv['config'] ?? `${repo}/image/configs/debian-13-amd64.json`)), log: () => {} });
  const problems = preflightProblems(ctx.config, hostFacts(repo), VM_TOOLS).filter((p) => !p.includes('root') && !p.includes('GiB free'));
  if (problems.length > 0) throw new ImageError('PREFLIGHT', problems.join('\n'));
  const image = resolve(String(argv['image'] ?? outputsOf(ctx).image));
  if (!existsSync(image)) throw new ImageError('VM', `${image} does not exist: build it first with npm run image`);
  const dir = join(repo, 'out', 'vm');
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, 'disk.img');
  if (argv['fresh'] || !existsSync(disk)) await makeVmDisk(image, disk, 4 * 1024 ** 3);
  const vm = await Vm.start({ disk, dir, interactive: true, ...(argv['port'] ? { hostPort: Number(argv['port']) } : {}) });
  console.error(`Stube VM (${vm.accel}): open https://127.0.0.1:${vm.hostPort}/ once it has booted. Ctrl-A X quits.`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void vm.close());
  await vm.waitForExit();
} catch (error) {
  if (error instanceof ImageError) {
    console.error(`npm run vm: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
