// The udev helper that links the ESP and the data partition only on the disk the root is on: with the
// USB stick still plugged in after an installation, both disks carry the same partition names.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderTemplate } from '../../image/templates.js';

function fakeSys(dir: string): void {
  const dev = (path: string, partition: boolean): void => {
    mkdirSync(join(dir, 'devices', path), { recursive: true });
    if (partition) writeFileSync(join(dir, 'devices', path, 'partition'), '1\n');
  };
  mkdirSync(join(dir, 'dev', 'block'), { recursive: true });
  mkdirSync(join(dir, 'class', 'block'), { recursive: true });
  const parts: [string, string, string][] = [
    ['nvme0n1p2', 'pci/nvme/nvme0/nvme0n1/nvme0n1p2', '259:2'],
    ['nvme0n1p4', 'pci/nvme/nvme0/nvme0n1/nvme0n1p4', '259:4'],
    ['sda2', 'pci/usb2/2-1/host0/block/sda/sda2', '8:2'],
    ['sda4', 'pci/usb2/2-1/host0/block/sda/sda4', '8:4'],
  ];
  for (const [name, path, majmin] of parts) {
    dev(path, true);
    symlinkSync(join(dir, 'devices', path), join(dir, 'class', 'block', name));
    symlinkSync(join(dir, 'devices', path), join(dir, 'dev', 'block', majmin));
  }
}

describe('stube-on-boot-disk', () => {
  const script = renderTemplate(resolve('templates'), 'scripts/stube-on-boot-disk', {});
  const dir = mkdtempSync(join(tmpdir(), 'stube-bootdisk-'));
  const file = join(dir, 'on-boot-disk.sh');
  writeFileSync(file, script);
  const sys = join(dir, 'sys');
  fakeSys(sys);
  const onBootDisk = (part: string, rootDev: string): boolean =>
    spawnSync('sh', [file, part], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', STUBE_SYSFS: sys, STUBE_ROOT_DEV: rootDev } }).status === 0;

  it('links the internal disk\'s partitions when the root is on the internal disk, not the stick\'s', () => {
    expect(onBootDisk('nvme0n1p4', '259:2')).toBe(true);
    expect(onBootDisk('sda4', '259:2')).toBe(false);
  });

  it('links the stick\'s partitions while the box runs from the stick', () => {
    expect(onBootDisk('sda4', '8:2')).toBe(true);
    expect(onBootDisk('nvme0n1p4', '8:2')).toBe(false);
  });

  it('links nothing when the root is not a known block device (the initrd) or the partition is unknown', () => {
    expect(onBootDisk('sda4', '0:31')).toBe(false);
    expect(onBootDisk('sdz9', '8:2')).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
