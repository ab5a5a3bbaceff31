// The USB stick channel, for boxes without internet: the host copies a channel folder (latest.json and
// the bundle it names) as `stube-updates/` onto any stick and plugs it in. The box has no desktop to
// mount sticks, so the root update helper does it for each check or download: it looks at USB and
// removable partitions (never the disk the box runs from), mounts each read-only, without devices,
// set-uid or executables, in its own private folder, uses the first that holds `stube-updates/latest.json`
// as a folder channel, and unmounts it again. The stick's contents are believed no more than an HTTPS
// server's: the bundle's signature decides.
import { execFile } from 'node:child_process';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChannelError } from './channel.js';

const run = promisify(execFile);

/** The folder a stick must carry at its top level. */
export const USB_CHANNEL_FOLDER = 'stube-updates';

/** File systems a stick may have: what people format sticks with, and what Linux mounts read-only safely. */
const STICK_FILESYSTEMS = new Set(['vfat', 'exfat', 'ext2', 'ext3', 'ext4', 'iso9660']);
/** More would be a mistake, or something trying to make the box mount a great deal. */
const MAX_CANDIDATES = 8;

/** One row of `lsblk --json --list`. */
export interface BlockDevice {
  readonly name: string;
  readonly path: string;
  readonly type: string;
  readonly rm: boolean;
  readonly tran: string | null;
  readonly fstype: string | null;
  readonly pkname: string | null;
  readonly mountpoints: readonly (string | null)[];
}

/** The disk a device belongs to (itself for a whole disk). */
function diskOf(d: BlockDevice, byName: ReadonlyMap<string, BlockDevice>): BlockDevice {
  let cur = d;
  for (let i = 0; i < 4 && cur.pkname; i++) {
    const parent = byName.get(cur.pkname);
    if (!parent) break;
    cur = parent;
  }
  return cur;
}

/**
 * The devices that may be an update stick: a file system of a stick's kind, on a USB or removable disk,
 * not on a disk that has anything mounted (the box's own disk — which may itself be a USB stick before
 * the installation — has its root and data partitions mounted). At most MAX_CANDIDATES, in name order.
 */
export function stickCandidates(devices: readonly BlockDevice[]): { readonly path: string; readonly fstype: string }[] {
  const byName = new Map(devices.map((d) => [d.name, d]));
  const busy = new Set<string>();
  for (const d of devices) if (d.mountpoints.some((m) => m !== null && m !== '')) busy.add(diskOf(d, byName).name);
  return devices
    .filter((d) => d.fstype !== null && STICK_FILESYSTEMS.has(d.fstype) && (d.type === 'part' || d.type === 'disk'))
    .filter((d) => {
      const disk = diskOf(d, byName);
      return (disk.rm || disk.tran === 'usb' || d.rm || d.tran === 'usb') && !busy.has(disk.name);
    })
    .filter((d) => /^\/dev\/[A-Za-z0-9]+$/.test(d.path))
    .map((d) => ({ path: d.path, fstype: d.fstype ?? '' }))
    .sort((a, b) => a.path.localeCompare(b.path))
    .slice(0, MAX_CANDIDATES);
}

export async function listBlockDevices(): Promise<BlockDevice[]> {
  const { stdout } = await run('lsblk', ['--json', '--list', '--bytes', '--output', 'NAME,PATH,TYPE,RM,TRAN,FSTYPE,PKNAME,MOUNTPOINTS'], { maxBuffer: 1024 * 1024 });
  const parsed = JSON.parse(stdout) as { blockdevices?: BlockDevice[] };
  return (parsed.blockdevices ?? []).map((d) => ({ ...d, mountpoints: d.mountpoints ?? [] }));
}

export interface StickDeps {
  readonly devices: () => Promise<BlockDevice[]>;
  readonly mount: (device: string, fstype: string, at: string) => Promise<void>;
  readonly unmount: (at: string) => Promise<void>;
}

export const realStickDeps: StickDeps = {
  devices: listBlockDevices,
  mount: async (device, fstype, at) => {
    // ext3/ext4 replay an unclean journal even when mounted read-only; "noload" leaves the stick as it is.
    const options = `ro,nosuid,nodev,noexec${fstype === 'ext3' || fstype === 'ext4' ? ',noload' : ''}`;
    await run('mount', ['-t', fstype, '-o', options, device, at]);
  },
  unmount: async (at) => {
    await run('umount', [at]);
  },
};

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Runs `use` with the path of the channel folder on the first stick that has one, mounted under
 * `scratch` for that time only. Throws ChannelError when no stick has the folder.
 */
export async function withStickChannel<T>(scratch: string, use: (folder: string) => Promise<T>, deps: StickDeps = realStickDeps): Promise<T> {
  const candidates = stickCandidates(await deps.devices());
  await mkdir(scratch, { recursive: true, mode: 0o700 });
  for (const [i, device] of candidates.entries()) {
    const at = join(scratch, `stick${i}`);
    await mkdir(at, { mode: 0o700 }).catch(() => {});
    try {
      await deps.mount(device.path, device.fstype, at);
    } catch {
      await rmdir(at).catch(() => {});
      continue; // not mountable (damaged, or a file system this kernel lacks): try the next one
    }
    try {
      const folder = join(at, USB_CHANNEL_FOLDER);
      if (await isDirectory(folder)) return await use(folder);
    } finally {
      await deps.unmount(at).catch(() => {});
      await rmdir(at).catch(() => {});
    }
  }
  throw new ChannelError(`no USB stick with a "${USB_CHANNEL_FOLDER}" folder is plugged in`);
}
