// The installer on plain files: a small source "disk" with the image's GPT (sgdisk, mkfs.ext4 -d, mtools;
// no loop devices, no mounts) is installed onto an empty sparse file; the result is checked with our own
// GPT reader, byte comparisons and the real file-system tools.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, readSync, closeSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGpt } from '../../image/plan/gpt.js';
import { planPartitions, sgdiskArgs, partitionOf, slotLabel } from '../../image/plan/partitions.js';
import { install, type InstallDeps } from '../../appliance/install/installer.js';
import { InstallError } from '../../appliance/install/layout.js';
import type { InstallProgress } from '../../appliance/install/progress.js';

const MIB = 1024 * 1024;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { env, encoding: 'utf8' });

function run(argv: string[], extra: Record<string, string> = {}): Promise<string> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) =>
    execFile(cmd as string, args, { env: { ...env, ...extra }, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

function readRange(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let source: string;
let dataDir: string;
const plan = planPartitions({ espMiB: 8, rootMiB: 16, dataMiB: 8 }, 'install-test', slotLabel('stube', '0.9.1'));
const rootA = partitionOf(plan, 'root-a');
const espP = partitionOf(plan, 'esp');
const entryName = 'stube_0.9.1+3.conf';
const entryText = (uuid: string): string => `title Stube 0.9.1\nlinux /stube/0.9.1/vmlinuz\noptions root=PARTUUID=${uuid} ro rootwait console=tty0\n`;

function deps(progress: InstallProgress[], boot: { calls: unknown[][]; fail?: boolean } = { calls: [] }): InstallDeps {
  let t = 0;
  return {
    run,
    createBootEntry: async (...args) => {
      boot.calls.push(args);
      if (boot.fail) throw new Error('EFI variables are not writable');
    },
    onProgress: (p) => progress.push(p),
    now: () => (t += 250),
    sysDir: '/sys',
  };
}

beforeAll(() => {
  // (Each install takes a few seconds on a loaded machine: mkfs, e2fsck and mtools runs.)
  dir = mkdtempSync(join(tmpdir(), 'stube-install-'));
  source = join(dir, 'stick.img');
  // Partition file systems, built from folders.
  const espFile = join(dir, 'esp.img');
  sh('mkfs.vfat', ['-C', '-n', 'STUBE-ESP', espFile, String(espP.sizeBytes / 1024)]);
  writeFileSync(join(dir, entryName), entryText(rootA.partUuid.toLowerCase()));
  writeFileSync(join(dir, 'stale.conf'), entryText(partitionOf(plan, 'root-b').partUuid.toLowerCase()));
  sh('mmd', ['-i', espFile, '::/loader', '::/loader/entries']);
  sh('mcopy', ['-i', espFile, join(dir, entryName), join(dir, 'stale.conf'), '::/loader/entries/']);
  const rootDir = join(dir, 'root');
  mkdirSync(join(rootDir, 'etc'), { recursive: true });
  writeFileSync(join(rootDir, 'etc', 'os-release'), 'NAME=Stube\n');
  const rootFile = join(dir, 'root.img');
  sh('truncate', ['-s', String(rootA.sizeBytes), rootFile]);
  sh('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-d', rootDir, rootFile]);
  sh('truncate', ['-s', String(plan.diskBytes), source]);
  sh('sgdisk', sgdiskArgs(plan, source));
  for (const [p, f] of [[espP, espFile], [rootA, rootFile]] as const) {
    sh('dd', [`if=${f}`, `of=${source}`, 'bs=1M', `seek=${p.offsetBytes}`, 'oflag=seek_bytes', 'conv=notrunc', 'status=none']);
  }
  // The running box's data folder: what the wizard wrote so far.
  dataDir = join(dir, 'data');
  mkdirSync(join(dataDir, 'secrets'), { recursive: true });
  writeFileSync(join(dataDir, 'install-carry.json'), '{"code":"ABCDEFGHJK","language":"de"}\n');
  writeFileSync(join(dataDir, 'secrets', 'turn'), 'x'.repeat(5000));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('installing onto a file', { timeout: 30_000 }, () => {
  it('writes a fresh GPT, copies ESP and root A, fills the disk with data and points the entry at the new root', async () => {
    const target = join(dir, 'nvme.img');
    sh('truncate', ['-s', String(64 * MIB), target]);
    const progress: InstallProgress[] = [];
    const boot = { calls: [] as unknown[][] };
    const result = await install({ source, target, dataDir, runningRootPartUuid: rootA.partUuid.toLowerCase(), minDataBytes: 8 * MIB, chunkBytes: MIB }, deps(progress, boot));

    const src = parseGpt(readRange(source, 0, 34 * 512));
    const gpt = parseGpt(readRange(target, 0, 34 * 512));
    // Fresh identifiers everywhere.
    expect(gpt.diskGuid).not.toBe(src.diskGuid);
    for (const e of gpt.entries) expect(src.entries.map((s) => s.partUuid)).not.toContain(e.partUuid);
    expect(new Set(gpt.entries.map((e) => e.partUuid)).size).toBe(4);
    expect(gpt.entries.map((e) => e.name)).toEqual(['stube-esp', 'stube_0.9.1', '_empty', 'stube-data']);
    expect(gpt.entries.map((e) => e.typeGuid)).toEqual(src.entries.map((e) => e.typeGuid));
    // Data fills the disk (to the last whole MiB before the backup GPT) and keeps the grow flag.
    const data = gpt.entries[3]!;
    expect((data.lastLba + 1) % 2048).toBe(0);
    expect(gpt.lastUsableLba - data.lastLba).toBeLessThan(2048);
    expect(data.attributes & (1n << 59n)).toBe(1n << 59n);
    expect(sh('sgdisk', ['--verify', target])).toMatch(/No problems found/);

    // Root A: byte for byte the stick's.
    const ta = gpt.entries[1]!;
    expect(sha(readRange(target, ta.firstLba * 512, rootA.sizeBytes))).toBe(sha(readRange(source, rootA.offsetBytes, rootA.sizeBytes)));
    // The entry names the new root A, the stale one (pointing at the stick's other slot) is gone.
    const img = `${target}@@${gpt.entries[0]!.firstLba * 512}`;
    expect(sh('mtype', ['-i', img, `::/loader/entries/${entryName}`])).toBe(entryText(ta.partUuid.toLowerCase()));
    expect(sh('mdir', ['-b', '-i', img, '::/loader/entries']).trim().split('\n')).toEqual([`::/loader/entries/${entryName}`]);
    // The data partition holds the data folder's files.
    const dataImg = `${target}?offset=${data.firstLba * 512}`;
    expect(execFileSync('debugfs', ['-R', 'cat /install-carry.json', dataImg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toContain('"language":"de"');
    expect(sh('dumpe2fs', ['-h', dataImg]).match(/Block count:\s+(\d+)/)?.[1]).toBe(String(((data.lastLba - data.firstLba + 1) * 512) / 4096));
    // The stick is untouched.
    expect(parseGpt(readRange(source, 0, 34 * 512))).toEqual(src);

    expect(boot.calls).toEqual([[target, 1, gpt.entries[0]!.partUuid]]);
    const last = progress.at(-1)!;
    expect(last.phase).toBe('done');
    expect(last.written).toBe(last.toWrite);
    expect(last.verified).toBe(espP.sizeBytes + rootA.sizeBytes);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['partitioning', 'copying', 'verifying', 'data', 'bootEntry']));
    expect(result.written).toBeGreaterThanOrEqual(espP.sizeBytes + rootA.sizeBytes);
  });

  it('refuses a target that is too small before writing anything', async () => {
    const target = join(dir, 'small.img');
    sh('truncate', ['-s', String(30 * MIB), target]);
    const progress: InstallProgress[] = [];
    const err = await install({ source, target, dataDir, runningRootPartUuid: null, minDataBytes: 8 * MIB }, deps(progress)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstallError);
    expect((err as InstallError).failure).toBe('noSpace');
    expect(readRange(target, 0, 1024).every((b) => b === 0)).toBe(true);
  });

  it('names a read-only target a write error and leaves it as it was', async () => {
    const target = join(dir, 'ro.img');
    sh('truncate', ['-s', String(64 * MIB), target]);
    chmodSync(target, 0o444);
    sh('chattr', ['+i', target]); // root ignores file modes; the immutable flag stops root too
    try {
      const progress: InstallProgress[] = [];
      const err = await install({ source, target, dataDir, runningRootPartUuid: null, minDataBytes: 8 * MIB }, deps(progress)).catch((e: unknown) => e);
      expect((err as InstallError).failure).toBe('writeError');
      expect(progress.at(-1)).toMatchObject({ phase: 'failed', failure: 'writeError' });
    } finally {
      sh('chattr', ['-i', target]);
    }
  });

  it('names a disk that stops taking writes after its partition table a write error, and wipes that table', async () => {
    const target = join(dir, 'failing.img');
    sh('truncate', ['-s', String(56 * MIB), target]);
    const progress: InstallProgress[] = [];
    const d = deps(progress);
    let locked = false;
    let tableWritten: string[] = [];
    // The disk takes the new GPT, then refuses every write (the immutable flag fails writes through the
    // installer's open handle, as a failing disk fails them); it is unlocked for the clean-up's zap.
    d.run = async (argv, extra) => {
      if (locked && argv[0] === 'sgdisk') {
        sh('chattr', ['-i', target]);
        locked = false;
      }
      const out = await run(argv, extra);
      if (argv[0] === 'sgdisk' && !argv.includes('--zap-all')) {
        tableWritten = parseGpt(readRange(target, 0, 34 * 512)).entries.map((e) => e.name);
        sh('chattr', ['+i', target]);
        locked = true;
      }
      return out;
    };
    try {
      const err = await install({ source, target, dataDir, runningRootPartUuid: null, minDataBytes: 8 * MIB }, d).catch((e: unknown) => e);
      expect((err as InstallError).failure).toBe('writeError');
    } finally {
      if (locked) sh('chattr', ['-i', target]);
    }
    expect(tableWritten).toHaveLength(4);
    expect(progress.map((p) => p.phase)).toContain('copying');
    expect(progress.at(-1)).toMatchObject({ phase: 'failed', failure: 'writeError' });
    // The half-written disk keeps no partition table the firmware could try to boot.
    expect(() => parseGpt(readRange(target, 0, 34 * 512))).toThrow(/no GPT/);
  });

  it('names a vanished target', async () => {
    const err = await install({ source, target: join(dir, 'gone.img'), dataDir, runningRootPartUuid: null, minDataBytes: 8 * MIB }, deps([])).catch((e: unknown) => e);
    expect((err as InstallError).failure).toBe('diskVanished');
  });

  it('names a target that reads back differently a verification mismatch and removes its partition table', async () => {
    const target = join(dir, 'flaky.img');
    sh('truncate', ['-s', String(56 * MIB), target]);
    const d = deps([]);
    // The disk changes under us between writing and reading back, as a failing disk would.
    d.onProgress = (p) => {
      if (p.phase === 'verifying' && p.verified === 0) {
        const fd = openSync(target, 'r+');
        writeSync(fd, Buffer.from('bit rot'), 0, 7, rootA.offsetBytes + 4096);
        closeSync(fd);
      }
    };
    const err = await install({ source, target, dataDir, runningRootPartUuid: null, minDataBytes: 8 * MIB }, d).catch((e: unknown) => e);
    expect((err as InstallError).failure).toBe('verifyMismatch');
    expect(() => parseGpt(readRange(target, 0, 34 * 512))).toThrow(/no GPT/);
  });

  it('names a refused firmware entry after a complete install', async () => {
    const target = join(dir, 'nvme2.img');
    sh('truncate', ['-s', String(56 * MIB), target]);
    const err = await install({ source, target, dataDir, runningRootPartUuid: null, minDataBytes: 8 * MIB }, deps([], { calls: [], fail: true })).catch((e: unknown) => e);
    expect((err as InstallError).failure).toBe('bootEntryRefused');
  });
});
