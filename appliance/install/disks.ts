// Where the box booted from and which internal disks it could be installed onto. Reading (systeminformation
// plus /sys) is kept apart from deciding (selectDisks), so the decisions are unit-tested on tables of facts.
import si from 'systeminformation';
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export type DiskKind = 'nvme' | 'ssd' | 'hdd' | 'usb' | 'other';

/** What the reader found out about one whole disk. */
export interface DiskFacts {
  /** Kernel name, e.g. `nvme0n1`, `sda`. */
  name: string;
  /** Device path, e.g. `/dev/nvme0n1`. */
  path: string;
  model: string;
  serial: string;
  sizeBytes: number;
  /** /sys/block/<name>/removable is 1. */
  removable: boolean;
  /** /sys/block/<name>/queue/rotational is 1. */
  rotational: boolean;
  /** The device's bus path (the /sys/block link target) contains a USB hop. */
  usb: boolean;
  /** nvme, sata, ata, scsi, virtio, mmc, … ('' when unknown). */
  transport: string;
  readOnly: boolean;
  /** Holds a partition table. */
  partitionTable: boolean;
  /** File system or RAID signatures found on the disk or its partitions (ext4, vfat, ntfs, …). */
  filesystems: string[];
}

export type RefusalReason = 'tooSmall' | 'readOnly' | 'removable' | 'bootDisk';

export interface CandidateDisk {
  name: string;
  path: string;
  model: string;
  serial: string;
  sizeBytes: number;
  kind: DiskKind;
  /** Installing would overwrite something: the wizard shows the data warning. */
  holdsData: boolean;
  filesystems: string[];
  /** Null when the disk may be chosen; otherwise why not. */
  refused: RefusalReason | null;
  /** The text the person confirms with: the disk's name as they see it (model, else kernel name). */
  confirmation: string;
}

export interface InstallChoice {
  /** The disk holding the running root file system; null when not found (development machines). */
  bootDisk: string | null;
  /** True when the box runs from a removable or USB disk: only then is installing offered. */
  bootRemovable: boolean;
  /** Skip the step: already running from an internal disk (or no boot disk found). */
  skip: boolean;
  /** The smallest disk the image fits on. */
  minBytes: number;
  candidates: CandidateDisk[];
}

export function diskKind(d: Pick<DiskFacts, 'name' | 'transport' | 'rotational' | 'usb'>): DiskKind {
  if (d.usb || d.transport === 'usb') return 'usb';
  if (d.transport === 'nvme' || /^nvme\d+n\d+$/.test(d.name)) return 'nvme';
  if (d.rotational) return 'hdd';
  if (['sata', 'ata', 'scsi', 'sas', 'virtio', 'mmc'].includes(d.transport) || /^(sd|vd|mmcblk)/.test(d.name)) return 'ssd';
  return 'other';
}

export function isRemovable(d: Pick<DiskFacts, 'removable' | 'usb' | 'transport'>): boolean {
  return d.removable || d.usb || d.transport === 'usb';
}

/** The words the person types (or the box's label): model when the disk reports one, else its kernel name. */
export function confirmationText(d: Pick<DiskFacts, 'model' | 'name'>): string {
  const model = d.model.trim().replace(/\s+/g, ' ');
  return model.length > 0 ? model : d.name;
}

/**
 * Decides what the wizard offers. `minBytes` is the image's disk size (every partition fits). Removable
 * disks (other sticks) are never offered; the boot disk is never offered; a disk that is too small or
 * read-only is shown refused with the reason.
 */
export function selectDisks(disks: readonly DiskFacts[], bootDisk: string | null, minBytes: number): InstallChoice {
  const boot = bootDisk === null ? undefined : disks.find((d) => d.name === bootDisk);
  const bootRemovable = boot !== undefined && isRemovable(boot);
  const candidates: CandidateDisk[] = [];
  for (const d of disks) {
    if (d.name === bootDisk) continue;
    // Other sticks and card readers are not where a server should live; not listed at all.
    if (isRemovable(d)) continue;
    if (d.sizeBytes <= 0) continue; // empty card slots, optical drives without media
    const refused: RefusalReason | null = d.readOnly ? 'readOnly' : d.sizeBytes < minBytes ? 'tooSmall' : null;
    candidates.push({
      name: d.name,
      path: d.path,
      model: d.model,
      serial: d.serial,
      sizeBytes: d.sizeBytes,
      kind: diskKind(d),
      holdsData: d.partitionTable || d.filesystems.length > 0,
      filesystems: d.filesystems,
      refused,
      confirmation: confirmationText(d),
    });
  }
  candidates.sort((a, b) => Number(a.refused !== null) - Number(b.refused !== null) || a.name.localeCompare(b.name));
  return { bootDisk, bootRemovable, skip: !bootRemovable, minBytes, candidates };
}

/** Kernel names of whole disks worth considering (no loop, ram, zram, device-mapper or md devices). */
export function isWholeDiskName(name: string): boolean {
  return /^(sd[a-z]+|vd[a-z]+|hd[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/.test(name);
}

/** The whole disk that holds a partition or a disk, from its /sys/class/block link (…/nvme0n1/nvme0n1p2). */
export function wholeDiskOf(sysLink: string): string {
  const parts = sysLink.split('/').filter((p) => p.length > 0);
  const last = parts.at(-1) ?? '';
  const parent = parts.at(-2) ?? '';
  return isWholeDiskName(last) ? last : isWholeDiskName(parent) ? parent : last;
}

export interface SysPaths {
  sys: string;
  dev: string;
}

async function readSys(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return '';
  }
}

/** The disk holding the mounted root file system (`/`), from the device number of `/`. */
export async function findBootDisk(root = '/', sys: SysPaths = { sys: '/sys', dev: '/dev' }): Promise<string | null> {
  const st = await stat(root);
  const major = Math.floor(Number(st.dev) / 256) & 0xfff;
  const minor = (Number(st.dev) & 0xff) | ((Number(st.dev) >> 12) & 0xfff00);
  try {
    const link = await readlink(join(sys.sys, 'dev', 'block', `${major}:${minor}`));
    const disk = wholeDiskOf(link);
    return isWholeDiskName(disk) ? disk : null;
  } catch {
    return null; // overlay, tmpfs or a container: no block device under /
  }
}

/** Reads every whole disk's facts. systeminformation gives model, serial, size, file systems; /sys the rest. */
export async function readDisks(sys: SysPaths = { sys: '/sys', dev: '/dev' }): Promise<DiskFacts[]> {
  const [blocks, layout] = await Promise.all([si.blockDevices(), si.diskLayout()]);
  const names = (await readdir(join(sys.sys, 'block')).catch(() => [] as string[])).filter(isWholeDiskName);
  const out: DiskFacts[] = [];
  for (const name of names) {
    const base = join(sys.sys, 'block', name);
    const link = await readlink(base).catch(() => '');
    const path = join(sys.dev, name);
    const block = blocks.find((b) => b.name === name);
    const lay = layout.find((l) => basename(l.device) === name);
    const children = blocks.filter((b) => b.name !== name && b.name.startsWith(name) && b.type === 'part');
    const sectors = Number(await readSys(join(base, 'size')));
    const transport = (block?.protocol ?? '').toLowerCase() || (name.startsWith('nvme') ? 'nvme' : name.startsWith('vd') ? 'virtio' : '');
    out.push({
      name,
      path,
      model: (lay?.name ?? block?.model ?? '').trim(),
      serial: (lay?.serialNum ?? block?.serial ?? '').trim(),
      sizeBytes: Number.isFinite(sectors) && sectors > 0 ? sectors * 512 : (block?.size ?? 0),
      removable: (await readSys(join(base, 'removable'))) === '1',
      rotational: (await readSys(join(base, 'queue', 'rotational'))) === '1',
      usb: /\/usb\d*\//.test(link),
      transport,
      readOnly: (await readSys(join(base, 'ro'))) === '1',
      partitionTable: children.length > 0 || (await readdir(base).catch(() => [] as string[])).some((f) => f.startsWith(name)),
      filesystems: [...new Set([block?.fsType ?? '', ...children.map((c) => c.fsType)].filter((f) => f.length > 0))],
    });
  }
  return out;
}

/**
 * The smallest disk the image fits on, from the boot disk's partitions in /sys (readable without root):
 * everything up to the data partition, the image's data partition size and the backup GPT's MiB.
 */
export async function minimumBytesFromSys(bootDisk: string, minDataBytes: number, sys: SysPaths = { sys: '/sys', dev: '/dev' }): Promise<number | null> {
  const base = join(sys.sys, 'block', bootDisk);
  for (const child of await readdir(base).catch(() => [] as string[])) {
    if (!child.startsWith(bootDisk)) continue;
    if (!/^PARTNAME=stube-data$/m.test(await readSys(join(base, child, 'uevent')))) continue;
    const start = Number(await readSys(join(base, child, 'start')));
    if (Number.isInteger(start) && start > 0) return start * 512 + minDataBytes + 1024 * 1024;
  }
  return null;
}

/** Everything the wizard's install step needs. */
export async function readInstallChoice(minDataBytes: number): Promise<InstallChoice> {
  const [disks, boot] = await Promise.all([readDisks(), findBootDisk()]);
  const min = boot === null ? null : await minimumBytesFromSys(boot, minDataBytes);
  // Without the boot disk's layout nothing can be checked: every disk is refused as too small.
  return selectDisks(disks, boot, min ?? Number.MAX_SAFE_INTEGER);
}
