import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { attributeBits, bootEntryArgs, bootNumberFor, InstallError, MIN_DATA_BYTES, minimumTargetBytes, parseSfdiskJson, planInstall, rewriteEntry, targetSgdiskArgs } from '../../appliance/install/layout.js';
import { classifyIoError } from '../../appliance/install/installer.js';
import { progressFigures } from '../../appliance/install/progress.js';

const MIB = 1024 * 1024;
const sfdisk = JSON.stringify({
  partitiontable: {
    label: 'gpt', id: '0A1B2C3D-0000-4000-8000-000000000001', device: '/dev/sda', unit: 'sectors', sectorsize: 512,
    partitions: [
      { node: '/dev/sda1', start: 2048, size: 1048576, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', uuid: 'AAAAAAAA-0000-4000-8000-000000000001', name: 'stube-esp' },
      { node: '/dev/sda2', start: 1050624, size: 4194304, type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', uuid: 'AAAAAAAA-0000-4000-8000-000000000002', name: 'stube_0.3.0' },
      { node: '/dev/sda3', start: 5244928, size: 4194304, type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', uuid: 'AAAAAAAA-0000-4000-8000-000000000003', name: '_empty' },
      { node: '/dev/sda4', start: 9439232, size: 52000000, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uuid: 'AAAAAAAA-0000-4000-8000-000000000004', name: 'stube-data', attrs: 'GUID:59' },
    ],
  },
});

let n = 0;
const uuid = (): string => `BBBBBBBB-0000-4000-8000-${String(++n).padStart(12, '0')}`;

describe('install plan', () => {
  const layout = parseSfdiskJson(sfdisk);

  it('reads sfdisk\'s JSON and attribute strings', () => {
    expect(layout.partitions.map((p) => [p.number, p.name, p.attributeBits])).toEqual([[1, 'stube-esp', []], [2, 'stube_0.3.0', []], [3, '_empty', []], [4, 'stube-data', [59]]]);
    expect(attributeBits('RequiredPartition LegacyBIOSBootable GUID:59,60')).toEqual([0, 2, 59, 60]);
    expect(() => parseSfdiskJson('{"partitiontable":{"label":"dos","id":"0x1234"}}')).toThrow(InstallError);
    expect(() => parseSfdiskJson('not json')).toThrow(InstallError);
  });

  it('needs room for ESP, both slots and the image\'s data partition, however much the stick\'s data grew', () => {
    expect(minimumTargetBytes(layout)).toBe(9439232 * 512 + MIN_DATA_BYTES + MIB);
    expect(() => planInstall(layout, minimumTargetBytes(layout) - 512, null, uuid)).toThrow(expect.objectContaining({ failure: 'noSpace' }));
    expect(() => planInstall(layout, minimumTargetBytes(layout), null, uuid)).not.toThrow();
  });

  it('gives every partition and the disk a fresh UUID and fills the disk with data', () => {
    const target = 500_107_862_016; // a "500 GB" NVMe
    const plan = planInstall(layout, target, null, uuid);
    const ids = [plan.diskGuid, ...plan.partitions.map((p) => p.partUuid)];
    expect(new Set(ids).size).toBe(5);
    for (const p of layout.partitions) expect(ids).not.toContain(p.partUuid);
    expect(plan.partitions.map((p) => p.name)).toEqual(['stube-esp', 'stube_0.3.0', '_empty', 'stube-data']);
    const data = plan.partitions[3]!;
    expect((data.lastLba + 1) % 2048).toBe(0);
    expect(target / 512 - 34 - data.lastLba).toBeLessThan(2048 + 1);
    expect(data.lastLba).toBeLessThanOrEqual(target / 512 - 34);
    expect(plan.partitions.map((p) => p.copyFrom?.number ?? null)).toEqual([1, 2, null, null]);
  });

  it('copies the running slot into root A, also when the stick runs from slot B', () => {
    const swapped = parseSfdiskJson(sfdisk.replace('"stube_0.3.0"', '"stube_0.2.0"').replace('"_empty"', '"stube_0.3.0"'));
    const plan = planInstall(swapped, 64e9, 'aaaaaaaa-0000-4000-8000-000000000003', uuid);
    expect(plan.partitions[1]).toMatchObject({ name: 'stube_0.3.0', firstLba: 1050624 });
    expect(plan.partitions[1]!.copyFrom?.number).toBe(3);
    expect(plan.partitions[2]!.name).toBe('_empty');
    expect(plan.sourceRootPartUuid).toBe('AAAAAAAA-0000-4000-8000-000000000003');
    expect(() => planInstall(swapped, 64e9, 'ffffffff-0000-4000-8000-000000000000', uuid)).toThrow(/running root/);
  });

  it('turns the plan into sgdisk arguments (an argument array, one option per value)', () => {
    const plan = planInstall(layout, 64e9, null, uuid);
    const args = targetSgdiskArgs(plan, '/dev/nvme0n1');
    expect(args[0]).toBe('--clear');
    expect(args).toContain(`--partition-guid=2:${plan.partitions[1]!.partUuid}`);
    expect(args).toContain('--change-name=3:_empty');
    expect(args).toContain('--attributes=4:set:59');
    expect(args.at(-1)).toBe('/dev/nvme0n1');
  });

  it('rewrites root= of the boot entry and only that', () => {
    const text = 'title Stube\noptions root=PARTUUID=aaaaaaaa-0000-4000-8000-000000000002 ro rootwait console=tty0\n';
    expect(rewriteEntry(text, 'AAAAAAAA-0000-4000-8000-000000000002', 'CCCCCCCC-0000-4000-8000-000000000002')).toBe(
      'title Stube\noptions root=PARTUUID=cccccccc-0000-4000-8000-000000000002 ro rootwait console=tty0\n',
    );
    expect(rewriteEntry(text, 'AAAAAAAA-0000-4000-8000-000000000003', 'CCCCCCCC-0000-4000-8000-000000000002')).toBeNull();
    // A PARTUUID that merely starts the same is not the same partition.
    expect(rewriteEntry('options root=PARTUUID=aaaaaaaa-0000-4000-8000-0000000000021 ro', 'AAAAAAAA-0000-4000-8000-000000000002', 'C')).toBeNull();
  });

  it('asks efibootmgr for an entry on the target\'s ESP and finds its number', () => {
    expect(bootEntryArgs('/dev/nvme0n1', 1)).toEqual(['--create', '--disk', '/dev/nvme0n1', '--part', '1', '--label', 'Stube', '--loader', '\\EFI\\systemd\\systemd-bootx64.efi']);
    const out = 'BootCurrent: 0001\nBootOrder: 0004,0001,0000\nBoot0000* UiApp\tFvVol(7cb8bdc9)\nBoot0001* UEFI QEMU USB HARDDRIVE\tPciRoot(0x0)/USB(0x0,0x0)\nBoot0004* Stube\tHD(1,GPT,cccccccc-0000-4000-8000-000000000001,0x800,0x100000)/File(\\EFI\\systemd\\systemd-bootx64.efi)\n';
    expect(bootNumberFor(out, 'CCCCCCCC-0000-4000-8000-000000000001')).toBe('0004');
    expect(bootNumberFor(out, 'DDDDDDDD-0000-4000-8000-000000000001')).toBeNull();
  });

  it('names I/O failures plainly', () => {
    const e = (code: string): Error => Object.assign(new Error('x'), { code });
    expect(classifyIoError(e('ENOENT'), true).failure).toBe('diskVanished');
    expect(classifyIoError(e('ENXIO'), true).failure).toBe('diskVanished');
    expect(classifyIoError(e('ENOSPC'), true).failure).toBe('noSpace');
    expect(classifyIoError(e('EIO'), false).failure).toBe('writeError');
    expect(classifyIoError(e('EROFS'), false).failure).toBe('writeError');
    expect(classifyIoError(e('EBADF'), false).failure).toBe('failed');
  });

  it('keeps the minimum data size equal to the image\'s data partition', () => {
    const config = JSON.parse(readFileSync(new URL('../../image/configs/debian-13-amd64.json', import.meta.url), 'utf8')) as { partitions: { dataMiB: number } };
    expect(MIN_DATA_BYTES).toBe(config.partitions.dataMiB * MIB);
  });
});

describe('progress maths', () => {
  it.each([
    // written, toWrite, verified, toVerify, elapsed ms → rate, seconds left, fraction
    [0, 100 * MIB, 0, 80 * MIB, 5000, null, null, 0],
    [50 * MIB, 100 * MIB, 0, 80 * MIB, 500, null, null, 50 / 180],
    [50 * MIB, 100 * MIB, 0, 80 * MIB, 10_000, 5 * MIB, 26, 50 / 180],
    [100 * MIB, 100 * MIB, 40 * MIB, 80 * MIB, 28_000, 5 * MIB, 8, 140 / 180],
    [100 * MIB, 100 * MIB, 80 * MIB, 80 * MIB, 36_000, 5 * MIB, 0, 1],
    // Counters past their totals (the data folder's estimate) never give negative time.
    [120 * MIB, 100 * MIB, 0, 80 * MIB, 20_000, 5 * MIB, 16, 100 / 180],
    [0, 0, 0, 0, 1000, null, null, 0],
  ])('%d/%d written, %d/%d verified after %d ms', (written, toWrite, verified, toVerify, ms, rate, left, fraction) => {
    const f = progressFigures({ written, toWrite, verified, toVerify }, ms);
    expect(f.rate).toBe(rate);
    expect(f.secondsLeft).toBe(left);
    expect(f.fraction).toBeCloseTo(fraction, 6);
  });
});
