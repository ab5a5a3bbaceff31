// Stage "bundle": the signed update bundle for the image just built, next to it in out/:
//   <name>-<version>-<arch>.update.tar  SHA256SUMS, SHA256SUMS.gpg, manifest.json, boot entry, kernel,
//                                       initrd, root slot (gzip; systemd-sysupdate decompresses it)
//   <name>-<version>-<arch>.update.json the channel's pointer to it (version, file, size, sha256)
// The root slot, kernel and initrd are read back from the finished image, so the bundle is exactly
// what the image boots. SHA256SUMS covers every other member and is signed with the builder's key.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from '../context.js';
import { bootEntryData } from '../plan/files.js';
import type { Manifest } from '../plan/manifest.js';
import { partitionOf } from '../plan/partitions.js';
import { bundleFileName, bundleMembers, bundleNames, espInitrdPath, espKernelPath, type BundleManifest } from '../plan/update.js';
import { renderTemplate } from '../templates.js';
import { runLogged } from '../run.js';
import type { ImageOutputs } from './assemble.js';
import { signFile } from './signing.js';

export interface BundleOutputs {
  readonly bundle: string;
  /** Channel pointer: what an update channel serves as latest.json. */
  readonly pointer: string;
}

export interface ChannelPointer {
  readonly version: string;
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  /** The image inputs this bundle was made from (the pipeline's cache key; not read by boxes). */
  readonly inputsKey?: string;
}

export function bundleOutputsOf(ctx: BuildContext, dir = ctx.paths.out, version = ctx.version): BundleOutputs {
  const base = bundleFileName(ctx.config.name, version, ctx.config.architecture);
  return { bundle: join(dir, base), pointer: join(dir, base.replace(/\.tar$/, '.json')) };
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Writes manifest.json and SHA256SUMS into `dir` (which already holds the four payload files), signs,
 * and packs the archive to `bundle`. Used by the stage and by the tests that make bad bundles.
 */
export async function packBundle(ctx: BuildContext, dir: string, manifest: BundleManifest, bundle: string): Promise<void> {
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const covered = ['manifest.json', manifest.files.entry, manifest.files.kernel, manifest.files.initrd, manifest.files.root];
  const lines: string[] = [];
  for (const f of covered) lines.push(`${await sha256File(join(dir, f))}  ${f}`);
  writeFileSync(join(dir, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  await signFile(ctx, join(dir, 'SHA256SUMS'), manifest.signedAt);
  rmSync(`${bundle}.partial`, { force: true });
  await runLogged(ctx, 'bundle', 'tar', ['--create', '--format=gnu', '--sparse', '--owner=0', '--group=0', '--numeric-owner',
    `--mtime=@${ctx.config.sourceDateEpoch}`, '--file', `${bundle}.partial`, '--directory', dir, ...bundleMembers(manifest.files)]);
  renameSync(`${bundle}.partial`, bundle);
}

function changelogOf(ctx: BuildContext): string {
  const file = join(ctx.paths.repo, 'CHANGELOG.md');
  return existsSync(file) ? readFileSync(file, 'utf8').slice(0, 65536) : `Stube ${ctx.version}`;
}

/** True when out/ holds the bundle of the image built from `inputsKey`. */
export function bundleUpToDate(ctx: BuildContext, inputsKey: string): boolean {
  const o = bundleOutputsOf(ctx);
  if (!existsSync(o.bundle) || !existsSync(o.pointer)) return false;
  try {
    return (JSON.parse(readFileSync(o.pointer, 'utf8')) as ChannelPointer).inputsKey === inputsKey;
  } catch {
    return false;
  }
}

export async function bundleStage(ctx: BuildContext, image: ImageOutputs, inputsKey: string): Promise<BundleOutputs> {
  if (bundleUpToDate(ctx, inputsKey)) {
    ctx.log(`bundle: up to date (${bundleOutputsOf(ctx).bundle})`);
    return bundleOutputsOf(ctx);
  }
  const work = join(ctx.paths.work, 'bundle');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const name = ctx.config.name;
  const rootA = partitionOf(ctx.plan, 'root-a');
  const esp = partitionOf(ctx.plan, 'esp');
  const names = bundleNames(name, ctx.version, rootA.partUuid);
  const env = { MTOOLS_SKIP_CHECK: '1' };

  // Kernel and initrd from the image's ESP; the root slot from its partition.
  const espFile = join(work, 'esp.img');
  await runLogged(ctx, 'bundle', 'dd', [`if=${image.image}`, `of=${espFile}`, 'bs=1M', `skip=${esp.offsetBytes}`, `count=${esp.sizeBytes}`,
    'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
  await runLogged(ctx, 'bundle', 'mcopy', ['-n', '-i', espFile, `::${espKernelPath(name, ctx.version)}`, join(work, names.kernel)], { env });
  await runLogged(ctx, 'bundle', 'mcopy', ['-n', '-i', espFile, `::${espInitrdPath(name, ctx.version)}`, join(work, names.initrd)], { env });
  rmSync(espFile);
  const rootRaw = join(work, 'root.raw');
  await runLogged(ctx, 'bundle', 'dd', [`if=${image.image}`, `of=${rootRaw}`, 'bs=1M', `skip=${rootA.offsetBytes}`, `count=${rootA.sizeBytes}`,
    'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
  // gzip -n: no name or time stamp in the header, so the same slot gives the same bytes. Level 1: on two
  // busy cores -6 took four minutes for a few per cent less; systemd-import reads gzip, xz and bzip2 only.
  await runLogged(ctx, 'bundle', 'sh', ['-c', 'gzip -n -1 -c root.raw > "$1"', 'sh', names.root], { cwd: work });
  rmSync(rootRaw);
  writeFileSync(join(work, names.entry), renderTemplate(join(ctx.paths.repo, 'templates'), 'boot/entry.conf', bootEntryData(name, ctx.version, rootA.partUuid)));

  const imageManifest = JSON.parse(readFileSync(image.manifest, 'utf8')) as Manifest;
  const manifest: BundleManifest = {
    format: 1,
    name,
    version: ctx.version,
    architecture: ctx.config.architecture,
    signedAt: Math.floor(Date.now() / 1000),
    changelog: changelogOf(ctx),
    files: names,
    packages: {
      debian: imageManifest.debian.map((p) => ({ name: p.name, version: p.version })),
      npm: imageManifest.npm.map((p) => ({ name: p.name, version: p.version })),
    },
  };
  const o = bundleOutputsOf(ctx);
  mkdirSync(ctx.paths.out, { recursive: true });
  await packBundle(ctx, work, manifest, o.bundle);
  const pointer: ChannelPointer = {
    version: ctx.version, file: bundleFileName(name, ctx.version, ctx.config.architecture), size: statSync(o.bundle).size, sha256: await sha256File(o.bundle), inputsKey,
  };
  writeFileSync(o.pointer, `${JSON.stringify(pointer, null, 2)}\n`);
  rmSync(work, { recursive: true, force: true });
  ctx.log(`bundle: ${o.bundle} (${Math.round(pointer.size / 1024 / 1024)} MiB)`);
  return o;
}
