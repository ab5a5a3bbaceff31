// Stages "filesystems" and "assemble": partition images from folders (no loop devices, no mounts), a
// GPT disk image, its compressed copy, SHA256SUMS and the manifest. Outputs move into out/ at the end.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from '../context.js';
import { ddArgs, dataMkfsArgs, espMkfsArgs, rootMkfsArgs } from '../plan/filesystems.js';
import { buildManifest, parseDpkgList, parseLockfile, sha256sums, type Manifest } from '../plan/manifest.js';
import { derivedUuid, partitionOf, sgdiskArgs } from '../plan/partitions.js';
import { capture, runLogged } from '../run.js';
import type { AppResult } from './app.js';
import type { ConfigureResult } from './configure.js';
import type { RootfsResult } from './rootfs.js';

export interface ImageOutputs {
  readonly image: string;
  readonly compressed: string;
  readonly sums: string;
  readonly manifest: string;
}

export function outputsOf(ctx: BuildContext, dir = ctx.paths.out): ImageOutputs {
  return {
    image: join(dir, `${ctx.imageName}.img`),
    compressed: join(dir, `${ctx.imageName}.img.zst`),
    sums: join(dir, 'SHA256SUMS'),
    manifest: join(dir, `${ctx.imageName}.manifest.json`),
  };
}

/** True when out/ holds a complete image built from the same inputs. */
export function upToDate(ctx: BuildContext, inputsKey: string): boolean {
  const o = outputsOf(ctx);
  if (![o.image, o.compressed, o.sums, o.manifest].every((f) => existsSync(f))) return false;
  try {
    return (JSON.parse(readFileSync(o.manifest, 'utf8')) as Manifest).inputsKey === inputsKey;
  } catch {
    return false;
  }
}

async function sha256Stream(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function assembleStage(
  ctx: BuildContext,
  configured: ConfigureResult,
  rootfs: RootfsResult,
  app: AppResult,
  inputsKey: string,
): Promise<ImageOutputs> {
  const work = join(ctx.paths.work, 'assemble');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'data'), { recursive: true });
  const plan = ctx.plan;
  const env = { E2FSPROGS_FAKE_TIME: String(ctx.config.sourceDateEpoch), MTOOLS_SKIP_CHECK: '1' };

  // File systems, each in its own file of exactly the partition's size.
  const esp = partitionOf(plan, 'esp');
  const rootA = partitionOf(plan, 'root-a');
  const data = partitionOf(plan, 'data');
  const espFile = join(work, 'esp.img');
  const rootFile = join(work, 'root-a.img');
  const dataFile = join(work, 'data.img');
  await runLogged(ctx, 'filesystems', 'mkfs.vfat', espMkfsArgs(esp, espFile), { env });
  await runLogged(ctx, 'filesystems', 'mcopy', ['-s', '-p', '-m', '-i', espFile, join(configured.esp, 'EFI'), join(configured.esp, 'loader'), join(configured.esp, 'stube'), '::/'], { env });
  await runLogged(ctx, 'filesystems', 'truncate', ['-s', String(rootA.sizeBytes), rootFile]);
  await runLogged(ctx, 'filesystems', 'mkfs.ext4', rootMkfsArgs(rootA, derivedUuid(`${ctx.imageName}`, 'fs:root-a'), configured.root, rootFile), { env });
  writeFileSync(join(work, 'data', '.stube-data'), 'format 1\n');
  await runLogged(ctx, 'filesystems', 'truncate', ['-s', String(data.sizeBytes), dataFile]);
  await runLogged(ctx, 'filesystems', 'mkfs.ext4', dataMkfsArgs(data, derivedUuid(`${ctx.imageName}`, 'fs:data'), join(work, 'data'), dataFile), { env });

  // The disk: a sparse file, its GPT, the partitions at their offsets. Slot B stays empty (zeros).
  const staging = join(work, 'out');
  mkdirSync(staging, { recursive: true });
  const o = outputsOf(ctx, staging);
  await runLogged(ctx, 'assemble', 'truncate', ['-s', String(plan.diskBytes), o.image]);
  await runLogged(ctx, 'assemble', 'sgdisk', sgdiskArgs(plan, o.image));
  for (const [part, file] of [[esp, espFile], [rootA, rootFile], [data, dataFile]] as const) {
    await runLogged(ctx, 'assemble', 'dd', ddArgs(part, file, o.image));
  }
  await runLogged(ctx, 'assemble', 'sgdisk', ['--verify', o.image]);
  for (const f of [espFile, rootFile, dataFile]) rmSync(f, { force: true });

  await runLogged(ctx, 'assemble', 'zstd', ['-q', '-T0', '-10', '--force', '-o', o.compressed, o.image]);

  const lock = JSON.parse(readFileSync(join(app.app, 'package-lock.json'), 'utf8')) as Parameters<typeof parseLockfile>[0];
  const manifest = buildManifest({
    config: ctx.config,
    version: ctx.version,
    inputsKey,
    plan,
    debian: parseDpkgList(readFileSync(rootfs.packageList, 'utf8')),
    npm: parseLockfile(lock),
  });
  writeFileSync(o.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  const names = [o.image, o.compressed, o.manifest];
  const sums = [];
  for (const file of names) sums.push({ file: file.slice(staging.length + 1), sha256: await sha256Stream(file) });
  writeFileSync(o.sums, sha256sums(sums));

  // Move into out/ only now, so out/ never holds half an image.
  mkdirSync(ctx.paths.out, { recursive: true });
  const final = outputsOf(ctx);
  for (const k of ['image', 'compressed', 'manifest', 'sums'] as const) renameSync(o[k], final[k]);
  ctx.log(`assemble: ${final.image}\n${await capture('sgdisk', ['--print', final.image])}`);
  return final;
}
