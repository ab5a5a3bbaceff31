import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChannelError, fetchPointer } from './channel.js';
import { stickCandidates, withStickChannel, type BlockDevice, type StickDeps } from './usb-channel.js';

const dev = (d: Partial<BlockDevice> & { name: string }): BlockDevice => ({
  path: `/dev/${d.name}`, type: 'part', rm: false, tran: null, fstype: null, pkname: null, mountpoints: [null], ...d,
});

describe('which devices may be an update stick', () => {
  it('takes file systems on USB or removable disks, never the disk the box runs from', () => {
    const devices = [
      // The box booted from a USB stick (before the installation): root and data mounted.
      dev({ name: 'sda', type: 'disk', rm: true, tran: 'usb' }),
      dev({ name: 'sda1', pkname: 'sda', fstype: 'vfat' }),
      dev({ name: 'sda2', pkname: 'sda', fstype: 'ext4', mountpoints: ['/'] }),
      dev({ name: 'sda4', pkname: 'sda', fstype: 'ext4', mountpoints: ['/var/lib/stube'] }),
      // The update stick: a partition, and a second stick formatted without a partition table.
      dev({ name: 'sdb', type: 'disk', rm: true, tran: 'usb' }),
      dev({ name: 'sdb1', pkname: 'sdb', fstype: 'vfat' }),
      dev({ name: 'sdc', type: 'disk', tran: 'usb', fstype: 'exfat' }),
      // Internal disks, swap on a stick, and an unknown file system are not sticks.
      dev({ name: 'nvme0n1', type: 'disk', tran: 'nvme' }),
      dev({ name: 'nvme0n1p1', pkname: 'nvme0n1', fstype: 'ext4' }),
      dev({ name: 'sdd', type: 'disk', rm: true, tran: 'usb' }),
      dev({ name: 'sdd1', pkname: 'sdd', fstype: 'swap' }),
      dev({ name: 'sdd2', pkname: 'sdd', fstype: 'ntfs' }),
    ];
    expect(stickCandidates(devices)).toEqual([{ path: '/dev/sdb1', fstype: 'vfat' }, { path: '/dev/sdc', fstype: 'exfat' }]);
  });

  it('takes no device with an odd path and at most eight', () => {
    const many = Array.from({ length: 12 }, (_, i) => dev({ name: `sd${String.fromCharCode(98 + i)}`, type: 'disk', tran: 'usb', fstype: 'vfat' }));
    expect(stickCandidates(many)).toHaveLength(8);
    expect(stickCandidates([dev({ name: 'x', path: '/dev/../etc/x', type: 'disk', tran: 'usb', fstype: 'vfat' })])).toEqual([]);
  });
});

describe('reading the channel from a stick', () => {
  let dir: string;
  let mounted: string[];
  let unmounted: string[];
  const sticks: Record<string, Record<string, string> | 'broken'> = {};

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stube-usb-'));
    mounted = [];
    unmounted = [];
    for (const k of Object.keys(sticks)) delete sticks[k];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Plays lsblk and mount: "mounting" writes the stick's files into the mount point.
  const deps: StickDeps = {
    devices: async () => Object.keys(sticks).map((name) => dev({ name, type: 'disk', tran: 'usb', fstype: 'vfat' })),
    mount: async (device, _fstype, at) => {
      const files = sticks[device.replace('/dev/', '')];
      if (!files || files === 'broken') throw new Error('mount failed');
      mounted.push(device);
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(join(at, path, '..'), { recursive: true });
        writeFileSync(join(at, path), text);
      }
    },
    unmount: async (at) => {
      unmounted.push(at);
      rmSync(at, { recursive: true, force: true });
      mkdirSync(at);
    },
  };

  it('uses the first stick that carries the folder, skipping broken and unrelated ones, and unmounts every one', async () => {
    const pointer = { version: '0.2.0', file: 'stube-0.2.0-amd64.update.tar', size: 10, sha256: 'c'.repeat(64) };
    sticks['sdb'] = 'broken';
    sticks['sdc'] = { 'photos/a.jpg': 'x' };
    sticks['sdd'] = { 'stube-updates/latest.json': JSON.stringify(pointer) };
    const scratch = join(dir, 'mnt');
    const got = await withStickChannel(scratch, (path) => fetchPointer({ kind: 'file', path }, '0.1.0'), deps);
    expect(got).toEqual(pointer);
    expect(mounted).toEqual(['/dev/sdc', '/dev/sdd']);
    expect(unmounted).toHaveLength(2);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('says plainly that no stick is there, and unmounts even when reading fails', async () => {
    await expect(withStickChannel(join(dir, 'mnt'), async () => 1, deps)).rejects.toThrow(/no USB stick with a "stube-updates" folder/);
    sticks['sdb'] = { 'stube-updates/latest.json': '{not json' };
    await expect(withStickChannel(join(dir, 'mnt'), (path) => fetchPointer({ kind: 'file', path }, '0.1.0'), deps)).rejects.toThrow(ChannelError);
    expect(unmounted).toHaveLength(1);
  });
});
