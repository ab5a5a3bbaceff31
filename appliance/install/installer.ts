// The installation itself (run by the privileged helper): the boot disk's ESP and running root slot are
// copied onto the target with a fresh GPT, each copy is read back and compared by SHA-256, the data
// partition is made anew from the data folder's files (so the wizard's progress carries over) and fills
// the disk, the copied boot entry is pointed at the new root, and the firmware gets a boot entry for the
// target. The source is only ever opened for reading. Works on block devices and on plain files (tests).
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm, stat, writeFile, lstat, type FileHandle } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { bootEntryArgs, bootNumberFor, InstallError, parseSfdiskJson, partOf, planInstall, rewriteEntry, SECTOR, targetSgdiskArgs, type InstallPlan, type TargetPartition } from './layout.js';
import { initialProgress, progressFigures, type InstallProgress } from './progress.js';

export interface InstallDeps {
  /** Runs a command (argument array, never a shell); resolves with stdout, rejects on a non-zero exit. */
  run(argv: string[], env?: Record<string, string>): Promise<string>;
  /** Creates the firmware's boot entry and makes it BootNext (efibootmgr on the box; injected in tests). */
  createBootEntry(disk: string, espNumber: number, espPartUuid: string): Promise<void>;
  onProgress(p: InstallProgress): void;
  now(): number;
  /** /sys, for block device sizes. */
  sysDir: string;
}

export interface InstallRequest {
  /** The boot disk (the stick), read only. */
  source: string;
  /** The whole internal disk to install onto. */
  target: string;
  /** The mounted data folder; its files become the target's data partition. */
  dataDir: string;
  /** PARTUUID of the running root (from the kernel command line); null: the slot not named _empty. */
  runningRootPartUuid: string | null;
  chunkBytes?: number;
  minDataBytes?: number;
}

export interface InstallResult {
  plan: InstallPlan;
  written: number;
  seconds: number;
}

const CHUNK = 4 * 1024 * 1024;
/**
 * The copy flushes to the disk every this many bytes. Without it the page cache takes gigabytes and a
 * failing disk says so only at the final sync, minutes later; with it the bar counts what the disk
 * has taken and a write error is named within seconds. Each window's flush runs while the next window
 * is copied (awaited at the next boundary): waiting for it at once made the install a quarter slower
 * under emulation (385 s instead of about 310 s), as reading the stick and writing back no longer overlapped.
 */
const SYNC_BYTES = 64 * 1024 * 1024;

/** Maps an I/O error to the named failure the wizard shows. */
export function classifyIoError(err: unknown, writing: boolean): InstallError {
  if (err instanceof InstallError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (['ENOENT', 'ENXIO', 'ENODEV', 'ENOMEDIUM'].includes(code)) return new InstallError('diskVanished', `the disk is no longer there (${code})`);
  if (['ENOSPC', 'EFBIG'].includes(code)) return new InstallError('noSpace', `no space left on the disk (${code})`);
  if (writing || ['EROFS', 'EACCES', 'EPERM', 'EIO'].includes(code)) return new InstallError('writeError', `the disk refused a write (${code || 'error'})`);
  return new InstallError('failed', `the installation failed (${code || (err instanceof Error ? err.name : 'error')})`);
}

/** Size in bytes of a block device (from /sys) or a plain file. */
export async function deviceBytes(path: string, sysDir: string): Promise<{ bytes: number; block: boolean }> {
  const st = await stat(path);
  if (st.isBlockDevice()) {
    const sectors = Number(readFileSync(join(sysDir, 'class', 'block', basename(path), 'size'), 'utf8').trim());
    return { bytes: sectors * SECTOR, block: true };
  }
  if (st.isFile()) return { bytes: st.size, block: false };
  throw new InstallError('failed', 'the target is neither a disk nor a file');
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await lstat(join(e.parentPath, e.name))).size;
  }
  return total;
}

export async function install(req: InstallRequest, deps: InstallDeps): Promise<InstallResult> {
  const chunk = req.chunkBytes ?? CHUNK;
  const started = deps.now();
  const progress = initialProgress(basename(req.target));
  const report = (patch: Partial<InstallProgress>): void => {
    Object.assign(progress, patch);
    Object.assign(progress, progressFigures(progress, deps.now() - started));
    deps.onProgress({ ...progress });
  };
  report({});

  // Checks first: nothing is written before the plan is known to fit.
  let targetInfo: { bytes: number; block: boolean };
  try {
    targetInfo = await deviceBytes(req.target, deps.sysDir);
  } catch (err) {
    throw classifyIoError(err, false);
  }
  const layout = parseSfdiskJson(await deps.run(['sfdisk', '--json', req.source]));
  const plan = planInstall(layout, targetInfo.bytes, req.runningRootPartUuid, undefined, req.minDataBytes);
  const esp = partOf(plan, 'esp');
  const rootA = partOf(plan, 'root-a');
  const rootB = partOf(plan, 'root-b');
  const data = partOf(plan, 'data');
  const copies = [esp, rootA];
  const copyBytes = copies.reduce((n, p) => n + sizeOf(p), 0);
  report({ toWrite: copyBytes + (await folderBytes(req.dataDir)), toVerify: copyBytes });

  let touched = false;
  let src: FileHandle | null = null;
  let dst: FileHandle | null = null;
  try {
    // Opening for writing is where a read-only disk says so, before the GPT is touched.
    dst = await open(req.target, 'r+').catch((err: unknown) => {
      throw classifyIoError(err, true);
    });
    src = await open(req.source, 'r');
    report({ phase: 'partitioning' });
    touched = true;
    await runWriting(deps, ['sgdisk', '--zap-all', req.target]);
    await runWriting(deps, ['sgdisk', ...targetSgdiskArgs(plan, req.target)]);

    report({ phase: 'copying' });
    const sums = new Map<number, string>();
    for (const p of copies) {
      const from = p.copyFrom;
      if (!from) continue;
      sums.set(p.number, await copyRange(src, from.firstLba * SECTOR, dst, p.firstLba * SECTOR, sizeOf(p), chunk, (n) => report({ written: progress.written + n })));
    }
    // Root B starts empty: clear its first MiB so no stale file system signature is found there.
    await writeAll(dst, Buffer.alloc(1024 * 1024), rootB.firstLba * SECTOR);
    await dst.sync();
    await dst.close();
    dst = null;

    report({ phase: 'verifying' });
    // Read back what the disk holds, not what the page cache kept.
    if (targetInfo.block) await runWriting(deps, ['blockdev', '--flushbufs', req.target]);
    const check = await open(req.target, 'r');
    try {
      for (const p of copies) {
        const got = await hashRange(check, p.firstLba * SECTOR, sizeOf(p), chunk, (n) => report({ verified: progress.verified + n }));
        if (got !== sums.get(p.number)) throw new InstallError('verifyMismatch', `partition ${p.number} reads back differently from the boot disk`);
      }
    } finally {
      await check.close();
    }

    report({ phase: 'data' });
    const dataOffset = data.firstLba * SECTOR;
    await runWriting(deps, ['mkfs.ext4', '-q', '-F', '-t', 'ext4', '-b', '4096', '-L', data.name, '-m', '1',
      '-E', `offset=${dataOffset},root_owner=0:0`, '-d', req.dataDir, req.target, `${sizeOf(data) / 1024}k`]);
    await runWriting(deps, ['e2fsck', '-fn', `${req.target}?offset=${dataOffset}`]);
    // mkfs reports no progress; the data folder's bytes count as written once it is done.
    report({ written: progress.toWrite });

    report({ phase: 'bootEntry' });
    await pointEntries(deps, req.target, esp, plan.sourceRootPartUuid, rootA.partUuid);
    try {
      await deps.createBootEntry(req.target, esp.number, esp.partUuid);
    } catch (err) {
      throw err instanceof InstallError ? err : new InstallError('bootEntryRefused', 'the firmware refused the new boot entry');
    }
    report({ phase: 'done' });
    return { plan, written: progress.written, seconds: (deps.now() - started) / 1000 };
  } catch (err) {
    const named = classifyIoError(err, true);
    if (touched && named.failure !== 'bootEntryRefused') {
      // A half-written disk must not look bootable to the firmware: remove its partition table.
      await deps.run(['sgdisk', '--zap-all', req.target]).catch(() => undefined);
    }
    report({ phase: 'failed', failure: named.failure });
    throw named;
  } finally {
    await src?.close();
    await dst?.close().catch(() => undefined);
  }
}

function sizeOf(p: TargetPartition): number {
  return (p.lastLba - p.firstLba + 1) * SECTOR;
}

/** A command that writes to the target: its failure is a write error unless the disk vanished. */
async function runWriting(deps: InstallDeps, argv: string[]): Promise<string> {
  try {
    return await deps.run(argv, { MTOOLS_SKIP_CHECK: '1' });
  } catch (err) {
    const target = argv.at(-1)?.split('?')[0] ?? '';
    const gone = target.length > 0 && (await stat(target).then(() => false, () => true));
    throw new InstallError(gone ? 'diskVanished' : 'writeError', `${argv[0]} failed on the disk`);
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    if (bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    off += bytesWritten;
  }
}

/** Copies a byte range and returns the SHA-256 of the source bytes. */
async function copyRange(src: FileHandle, from: number, dst: FileHandle, to: number, length: number, chunk: number, onBytes: (n: number) => void): Promise<string> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(chunk);
  // The flush under way, settled to its error (or null) so a failure waits, unhandled, for the next check.
  let flushing: Promise<unknown> = Promise.resolve(null);
  const flushed = async (): Promise<void> => {
    const err = await flushing;
    if (err) throw err;
  };
  for (let done = 0; done < length; ) {
    const want = Math.min(chunk, length - done);
    const { bytesRead } = await src.read(buf, 0, want, from + done);
    if (bytesRead !== want) throw new InstallError('failed', 'the boot disk ended early');
    const piece = buf.subarray(0, want);
    h.update(piece);
    await writeAll(dst, piece, to + done);
    done += want;
    if (done % SYNC_BYTES < want) {
      await flushed();
      flushing = dst.datasync().then(() => null, (err: unknown) => err);
    }
    onBytes(want);
  }
  await flushed();
  return h.digest('hex');
}

async function hashRange(fh: FileHandle, from: number, length: number, chunk: number, onBytes: (n: number) => void): Promise<string> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(chunk);
  for (let done = 0; done < length; ) {
    const want = Math.min(chunk, length - done);
    const { bytesRead } = await fh.read(buf, 0, want, from + done);
    if (bytesRead !== want) throw new InstallError('verifyMismatch', 'the disk returned fewer bytes than were written');
    h.update(buf.subarray(0, want));
    done += want;
    onBytes(want);
  }
  return h.digest('hex');
}

/**
 * The copied ESP's boot entries still name the stick's root. Each entry naming the running root is
 * rewritten to the new root A; entries naming anything else (the stick's other slot) are removed, so
 * the installed disk never boots a root on the stick. Done with mtools on the ESP's offset: no mount.
 */
async function pointEntries(deps: InstallDeps, target: string, esp: TargetPartition, oldRoot: string, newRoot: string): Promise<void> {
  const img = `${target}@@${esp.firstLba * SECTOR}`;
  const listing = await runWriting(deps, ['mdir', '-b', '-i', img, '::/loader/entries']);
  const entries = listing.split('\n').map((l) => l.trim()).filter((l) => /\.conf$/.test(l));
  const dir = await mkdtemp(join(tmpdir(), 'stube-install-'));
  let pointed = 0;
  try {
    for (const entry of entries) {
      const text = await runWriting(deps, ['mtype', '-i', img, entry]);
      const next = rewriteEntry(text, oldRoot, newRoot);
      if (next === null) {
        await runWriting(deps, ['mdel', '-i', img, entry]);
        continue;
      }
      const file = join(dir, 'entry.conf');
      await writeFile(file, next);
      await runWriting(deps, ['mcopy', '-o', '-i', img, file, entry]);
      if ((await runWriting(deps, ['mtype', '-i', img, entry])) !== next) throw new InstallError('verifyMismatch', 'the boot entry reads back differently');
      pointed++;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (pointed === 0) throw new InstallError('failed', 'no boot entry names the running root slot');
}

/** The box's efibootmgr step: create the entry (first in BootOrder) and boot it next. */
export async function efibootmgrBootEntry(run: InstallDeps['run'], disk: string, espNumber: number, espPartUuid: string): Promise<void> {
  const out = await run(['efibootmgr', ...bootEntryArgs(disk, espNumber)]);
  const num = bootNumberFor(out, espPartUuid);
  if (num === null) throw new InstallError('bootEntryRefused', 'the firmware did not list the new boot entry');
  await run(['efibootmgr', '--bootnext', num]);
}
