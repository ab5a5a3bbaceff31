// Image benchmark: build time (cold caches and warm caches), image size (raw and compressed), and the
// time from starting the VM to /healthz answering under software emulation. A program, not a test:
// it prints a table with the machine it ran on and asserts nothing.
//   npx tsx bench/image.ts [--cold] [--boots 3]
// --cold builds once with an empty cache in a temporary folder (rebuilds janus: tens of minutes).
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv } from 'zx';
import { buildImage, contextFor } from '../image/pipeline.js';
import { outputsOf } from '../image/stages/assemble.js';
import { makeVmDisk } from '../image/vm/disk.js';
import { Vm } from '../image/vm/machine.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const configFile = join(repo, 'image/configs/debian-13-amd64.json');
const rows: [string, string][] = [];
const quiet = (): void => {};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function timedBuild(env: NodeJS.ProcessEnv, outDir?: string): Promise<number> {
  const t = Date.now();
  await buildImage({ repo, configFile, env, log: quiet, ...(outDir ? { outDir } : {}) });
  return (Date.now() - t) / 1000;
}

const ctx = contextFor({ repo, configFile, log: quiet });
if (argv['cold']) {
  const cache = mkdtempSync('/var/tmp/stube-bench-cold-');
  try {
    const s = await timedBuild({ ...process.env, STUBE_IMAGE_CACHE: cache }, join(cache, 'out'));
    rows.push(['build, cold caches (empty cache folder)', `${(s / 60).toFixed(1)} min`]);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
await timedBuild(process.env); // make sure the caches are warm
try {
  unlinkSync(outputsOf(ctx).manifest); // forces configure + assemble with every cache warm
} catch {
  // no previous image
}
rows.push(['build, warm caches (configure + assemble again)', `${(await timedBuild(process.env)).toFixed(0)} s`]);
rows.push(['build, nothing changed', `${(await timedBuild(process.env)).toFixed(0)} s`]);

const o = outputsOf(ctx);
const raw = statSync(o.image);
rows.push(['image size, raw (allocated)', `${(raw.size / 1024 ** 3).toFixed(2)} GiB (${(raw.blocks * 512 / 1024 ** 2).toFixed(0)} MiB)`]);
rows.push(['image size, compressed (zstd)', `${(statSync(o.compressed).size / 1024 ** 2).toFixed(0)} MiB`]);

const boots = Number(argv['boots'] ?? 1);
const times: number[] = [];
process.env['STUBE_VM_ACCEL'] = 'tcg';
for (let i = 0; i < boots; i++) {
  const dir = mkdtempSync(join(ctx.paths.work, 'bench-vm-'));
  const disk = join(dir, 'disk.img');
  await makeVmDisk(o.image, disk, 1024 ** 3);
  const vm = await Vm.start({ disk, dir });
  try {
    await vm.waitForHttps('/healthz', Date.now() + 30 * 60_000, 1000);
    times.push((Date.now() - vm.startedAt) / 1000);
  } finally {
    await vm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
rows.push([`VM start to /healthz 200, software emulation (median of ${boots}, first boot)`, `${median(times).toFixed(0)} s`]);

const cpu = cpus()[0]?.model ?? 'unknown';
console.log(`\nImage benchmark on ${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ${new Date().toISOString()}\n`);
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
