import { describe, expect, it } from 'vitest';
import { derivedUuid, GPT_FLAG_GROWFS, PARTITION_TYPES, partitionOf, planPartitions, SECTOR, sgdiskArgs } from '../../image/plan/partitions.js';
import { ddArgs, espMkfsArgs, fatVolumeId, rootMkfsArgs } from '../../image/plan/filesystems.js';

const MIB = 1024 * 1024;
const sizes = { espMiB: 512, rootMiB: 2048, dataMiB: 256 };

describe('partition plan', () => {
  const plan = planPartitions(sizes, 'stube-0.1.0');

  it('lays out ESP, root A, root B and data in order, 1 MiB aligned, without overlap', () => {
    expect(plan.partitions.map((p) => p.role)).toEqual(['esp', 'root-a', 'root-b', 'data']);
    let end = 2047;
    for (const p of plan.partitions) {
      expect(p.firstLba).toBe(end + 1);
      expect(p.offsetBytes % MIB).toBe(0);
      expect(p.sizeBytes % MIB).toBe(0);
      expect(p.offsetBytes).toBe(p.firstLba * SECTOR);
      expect((p.lastLba - p.firstLba + 1) * SECTOR).toBe(p.sizeBytes);
      end = p.lastLba;
    }
    expect(partitionOf(plan, 'esp').offsetBytes).toBe(MIB);
  });

  it('makes both root slots the same size and type', () => {
    const a = partitionOf(plan, 'root-a');
    const b = partitionOf(plan, 'root-b');
    expect(a.sizeBytes).toBe(2048 * MIB);
    expect(b.sizeBytes).toBe(a.sizeBytes);
    expect(a.typeGuid).toBe(PARTITION_TYPES.rootX86_64);
    expect(b.typeGuid).toBe(PARTITION_TYPES.rootX86_64);
    expect(a.partUuid).not.toBe(b.partUuid);
  });

  it('leaves room for the backup GPT and sizes the disk in whole MiB', () => {
    const last = partitionOf(plan, 'data');
    expect(plan.diskBytes % MIB).toBe(0);
    expect(plan.diskBytes - (last.lastLba + 1) * SECTOR).toBeGreaterThanOrEqual(33 * SECTOR);
    expect(plan.diskBytes).toBe((1 + 512 + 2048 * 2 + 256 + 1) * MIB);
  });

  it('marks only the data partition for growing', () => {
    expect(partitionOf(plan, 'data').attributeBits).toEqual([GPT_FLAG_GROWFS]);
    expect(partitionOf(plan, 'esp').attributeBits).toEqual([]);
  });

  it('derives stable, well-formed identifiers from the seed', () => {
    expect(planPartitions(sizes, 'stube-0.1.0')).toEqual(plan);
    expect(planPartitions(sizes, 'stube-0.2.0').diskGuid).not.toBe(plan.diskGuid);
    const u = derivedUuid('a', 'b');
    expect(u).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  });

  it('refuses sizes that are not whole MiB', () => {
    expect(() => planPartitions({ ...sizes, dataMiB: 1.5 }, 's')).toThrow(/partitions.dataMiB/);
  });

  it('turns the plan into sgdisk, mkfs and dd arguments', () => {
    const args = sgdiskArgs(plan, '/x/disk.img');
    expect(args[0]).toBe('--clear');
    expect(args).toContain(`--new=1:2048:${2048 + 512 * 2048 - 1}`);
    expect(args).toContain('--change-name=4:stube-data');
    expect(args).toContain(`--attributes=4:set:${GPT_FLAG_GROWFS}`);
    expect(args.at(-1)).toBe('/x/disk.img');
    const rootA = partitionOf(plan, 'root-a');
    expect(ddArgs(rootA, 'r.img', 'd.img')).toContain(`seek=${rootA.offsetBytes}`);
    expect(ddArgs(rootA, 'r.img', 'd.img')).toContain('conv=notrunc,sparse');
    expect(rootMkfsArgs(rootA, 'U', '/src', 'r.img')).toEqual(expect.arrayContaining(['-d', '/src', '-O', '^has_journal', '-L', 'stube-root-a']));
    const esp = partitionOf(plan, 'esp');
    expect(espMkfsArgs(esp, 'e.img').at(-1)).toBe(String(512 * 1024));
    expect(fatVolumeId(esp.partUuid)).toMatch(/^[0-9A-F]{8}$/);
  });
});

describe('GPT reader', () => {
  it('reads back what sgdisk wrote, when sgdisk is there', { timeout: 30_000 }, async () => {
    const { which } = await import('../../image/preflight.js');
    if (!which('sgdisk')) return;
    const { closeSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { execFileSync } = await import('node:child_process');
    const { parseGpt } = await import('../../image/plan/gpt.js');
    const small = planPartitions({ espMiB: 64, rootMiB: 512, dataMiB: 64 }, 'gpt-test');
    const dir = mkdtempSync(join(tmpdir(), 'stube-gpt-'));
    try {
      const file = join(dir, 'disk.img');
      writeFileSync(file, '');
      truncateSync(file, small.diskBytes);
      execFileSync('sgdisk', sgdiskArgs(small, file), { stdio: 'ignore' });
      const head = Buffer.alloc(34 * 512);
      const fd = openSync(file, 'r');
      readSync(fd, head, 0, head.length, 0);
      closeSync(fd);
      const gpt = parseGpt(head);
      expect(gpt.diskGuid).toBe(small.diskGuid);
      expect(gpt.entries.map((e) => [e.name, e.typeGuid, e.partUuid, e.firstLba, e.lastLba])).toEqual(
        small.partitions.map((p) => [p.label, p.typeGuid, p.partUuid, p.firstLba, p.lastLba]),
      );
      expect(gpt.entries[3]?.attributes).toBe(1n << BigInt(GPT_FLAG_GROWFS));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
