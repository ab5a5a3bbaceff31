import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confirmationText, diskKind, findBootDisk, minimumBytesFromSys, isWholeDiskName, selectDisks, wholeDiskOf, type DiskFacts } from '../../appliance/install/disks.js';

const GB = 1_000_000_000;
const MIN = 2_900 * 1024 * 1024; // about the image's disk size

function disk(name: string, over: Partial<DiskFacts> = {}): DiskFacts {
  return {
    name, path: `/dev/${name}`, model: '', serial: '', sizeBytes: 256 * GB, removable: false, rotational: false,
    usb: false, transport: '', readOnly: false, partitionTable: false, filesystems: [], ...over,
  };
}

const stick = disk('sda', { model: 'SanDisk Ultra', sizeBytes: 32 * GB, removable: true, usb: true, transport: 'usb', partitionTable: true, filesystems: ['vfat', 'ext4'] });

describe('disk kind', () => {
  it.each([
    [{ name: 'nvme0n1', transport: 'nvme', rotational: false, usb: false }, 'nvme'],
    [{ name: 'sdb', transport: 'sata', rotational: false, usb: false }, 'ssd'],
    [{ name: 'sdb', transport: 'sata', rotational: true, usb: false }, 'hdd'],
    [{ name: 'sdc', transport: 'sata', rotational: false, usb: true }, 'usb'],
    [{ name: 'sdc', transport: 'usb', rotational: true, usb: false }, 'usb'],
    [{ name: 'vda', transport: '', rotational: false, usb: false }, 'ssd'],
    [{ name: 'xvda', transport: '', rotational: false, usb: false }, 'other'],
  ] as const)('%o is %s', (d, kind) => {
    expect(diskKind(d)).toBe(kind);
  });
});

describe('disk selection', () => {
  it('offers the internal disk when booted from a USB stick', () => {
    const c = selectDisks([stick, disk('nvme0n1', { model: 'Samsung SSD 980 500GB', serial: 'S64DNX0R', transport: 'nvme' })], 'sda', MIN);
    expect(c.bootRemovable).toBe(true);
    expect(c.skip).toBe(false);
    expect(c.candidates).toHaveLength(1);
    expect(c.candidates[0]).toMatchObject({ name: 'nvme0n1', kind: 'nvme', refused: null, holdsData: false, confirmation: 'Samsung SSD 980 500GB' });
  });

  it('counts a stick as removable by its bus even when /sys says "not removable"', () => {
    const fixedStick = { ...stick, removable: false, transport: 'sata' };
    expect(selectDisks([fixedStick, disk('nvme0n1')], 'sda', MIN).skip).toBe(false);
  });

  it('skips the step when running from an internal disk', () => {
    const c = selectDisks([stick, disk('nvme0n1', { transport: 'nvme', partitionTable: true })], 'nvme0n1', MIN);
    expect(c.skip).toBe(true);
    expect(c.candidates.map((d) => d.name)).toEqual([]);
  });

  it('skips the step when the boot disk is unknown (development machine, container)', () => {
    expect(selectDisks([disk('nvme0n1')], null, MIN).skip).toBe(true);
  });

  it('never lists the boot disk or other removable disks', () => {
    const other = disk('sdb', { removable: true, sizeBytes: 64 * GB });
    const c = selectDisks([stick, other, disk('sdc', { transport: 'sata' })], 'sda', MIN);
    expect(c.candidates.map((d) => d.name)).toEqual(['sdc']);
  });

  it('refuses disks below the image size and read-only disks, with the reason, and lists them last', () => {
    const c = selectDisks([
      stick,
      disk('mmcblk0', { sizeBytes: MIN - 1 }),
      disk('sdb', { readOnly: true }),
      disk('sdc', { sizeBytes: MIN }),
    ], 'sda', MIN);
    expect(c.candidates.map((d) => [d.name, d.refused])).toEqual([['sdc', null], ['mmcblk0', 'tooSmall'], ['sdb', 'readOnly']]);
  });

  it('leaves out disks without media (size 0)', () => {
    expect(selectDisks([stick, disk('sdb', { sizeBytes: 0 })], 'sda', MIN).candidates).toEqual([]);
  });

  it.each([
    [{ partitionTable: false, filesystems: [] }, false],
    [{ partitionTable: true, filesystems: [] }, true],
    [{ partitionTable: false, filesystems: ['ntfs'] }, true],
    [{ partitionTable: true, filesystems: ['ext4', 'swap'] }, true],
  ])('data warning for %o: %s', (over, warn) => {
    const c = selectDisks([stick, disk('sdb', over)], 'sda', MIN);
    expect(c.candidates[0]?.holdsData).toBe(warn);
  });

  it('names the disk for the confirmation by its model, else by its kernel name', () => {
    expect(confirmationText({ model: '  WDC  WD10EZEX ', name: 'sdb' })).toBe('WDC WD10EZEX');
    expect(confirmationText({ model: '', name: 'nvme0n1' })).toBe('nvme0n1');
  });
});

describe('reading /sys', () => {
  it('recognises whole disks and the disk of a partition link', () => {
    expect(['sda', 'nvme0n1', 'mmcblk0', 'vdb'].every(isWholeDiskName)).toBe(true);
    expect(['sda1', 'nvme0n1p2', 'loop0', 'dm-0', 'zram0', 'md0', 'sr0'].some(isWholeDiskName)).toBe(false);
    expect(wholeDiskOf('../../devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1/nvme0n1p2')).toBe('nvme0n1');
    expect(wholeDiskOf('../../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host0/target0:0:0/0:0:0:0/block/sda/sda2')).toBe('sda');
    expect(wholeDiskOf('../../devices/virtual/block/sda')).toBe('sda');
  });

  it('reads the minimum disk size from the boot disk\'s data partition in /sys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-disks-'));
    try {
      const { writeFileSync } = await import('node:fs');
      for (const [part, name, start] of [['sda1', 'stube-esp', 2048], ['sda4', 'stube-data', 9439232]] as const) {
        mkdirSync(join(dir, 'block', 'sda', part), { recursive: true });
        writeFileSync(join(dir, 'block', 'sda', part, 'uevent'), `MAJOR=8\nDEVNAME=${part}\nDEVTYPE=partition\nPARTNAME=${name}\n`);
        writeFileSync(join(dir, 'block', 'sda', part, 'start'), `${start}\n`);
      }
      expect(await minimumBytesFromSys('sda', 256 * 1024 * 1024, { sys: dir, dev: '/dev' })).toBe(9439232 * 512 + 257 * 1024 * 1024);
      expect(await minimumBytesFromSys('sdb', 256 * 1024 * 1024, { sys: dir, dev: '/dev' })).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the disk of a root through /sys/dev/block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-disks-'));
    try {
      const { statSync } = await import('node:fs');
      const dev = Number(statSync(dir).dev);
      const major = Math.floor(dev / 256) & 0xfff;
      const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
      mkdirSync(join(dir, 'sys', 'dev', 'block'), { recursive: true });
      symlinkSync('../../devices/pci0000:00/0000:00:14.0/usb2/2-1/host0/block/sdb/sdb2', join(dir, 'sys', 'dev', 'block', `${major}:${minor}`));
      expect(await findBootDisk(dir, { sys: join(dir, 'sys'), dev: '/dev' })).toBe('sdb');
      rmSync(join(dir, 'sys', 'dev', 'block', `${major}:${minor}`));
      expect(await findBootDisk(dir, { sys: join(dir, 'sys'), dev: '/dev' })).toBe(null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
