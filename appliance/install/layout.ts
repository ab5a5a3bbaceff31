// The installer's plan: the source disk's GPT (as sfdisk reports it) turned into the target's GPT with
// fresh identifiers. Pure, so the rules (sizes, names, which root slot is copied) are unit-tested.
import { randomUUID } from 'node:crypto';
import type { InstallFailure } from './progress.js';

export const SECTOR = 512;
/** Partitions end on 1 MiB boundaries, like the image's. */
const ALIGN = (1024 * 1024) / SECTOR;
/** The backup GPT takes the last 33 sectors. */
const BACKUP_GPT_SECTORS = 33;
/** The image's data partition (image/configs/*.json partitions.dataMiB; a unit test keeps them equal). */
export const MIN_DATA_BYTES = 256 * 1024 * 1024;

export const TYPE_ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
export const TYPE_ROOT_X86_64 = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';
export const DATA_LABEL = 'stube-data';
export const EMPTY_SLOT = '_empty';

export class InstallError extends Error {
  override readonly name = 'InstallError';
  constructor(
    readonly failure: InstallFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface SourcePartition {
  number: number;
  firstLba: number;
  sectors: number;
  typeGuid: string;
  partUuid: string;
  name: string;
  /** GPT attribute bits set (0–63). */
  attributeBits: number[];
}

export interface SourceLayout {
  diskGuid: string;
  partitions: SourcePartition[];
}

const NAMED_BITS: Record<string, number> = { RequiredPartition: 0, NoBlockIOProtocol: 1, LegacyBIOSBootable: 2 };

/** sfdisk's attribute string, e.g. "RequiredPartition GUID:59,60". */
export function attributeBits(attrs: string | undefined): number[] {
  const bits: number[] = [];
  for (const word of (attrs ?? '').split(/\s+/).filter((w) => w.length > 0)) {
    if (word.startsWith('GUID:')) for (const n of word.slice(5).split(',')) bits.push(Number(n));
    else if (word in NAMED_BITS) bits.push(NAMED_BITS[word] as number);
  }
  return bits.filter((b) => Number.isInteger(b) && b >= 0 && b <= 63).sort((a, b) => a - b);
}

/** Reads `sfdisk --json <disk>`; anything but a GPT is refused. */
export function parseSfdiskJson(text: string): SourceLayout {
  let doc: { partitiontable?: { label?: string; id?: string; sectorsize?: number; partitions?: Record<string, unknown>[] } };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new InstallError('failed', 'the boot disk\'s partition table could not be read');
  }
  const t = doc.partitiontable;
  if (!t || t.label !== 'gpt' || typeof t.id !== 'string') throw new InstallError('failed', 'the boot disk has no GPT');
  if ((t.sectorsize ?? SECTOR) !== SECTOR) throw new InstallError('failed', 'the boot disk does not use 512-byte sectors');
  const partitions = (t.partitions ?? []).map((p, i): SourcePartition => {
    const node = String(p.node ?? '');
    const m = /(\d+)$/.exec(node);
    return {
      number: m ? Number(m[1]) : i + 1,
      firstLba: Number(p.start),
      sectors: Number(p.size),
      typeGuid: String(p.type ?? '').toUpperCase(),
      partUuid: String(p.uuid ?? '').toUpperCase(),
      name: String(p.name ?? ''),
      attributeBits: attributeBits(typeof p.attrs === 'string' ? p.attrs : undefined),
    };
  });
  return { diskGuid: t.id.toUpperCase(), partitions };
}

export interface TargetPartition {
  number: number;
  role: 'esp' | 'root-a' | 'root-b' | 'data';
  firstLba: number;
  lastLba: number;
  typeGuid: string;
  partUuid: string;
  name: string;
  attributeBits: number[];
  /** Where its bytes come from on the source (raw copies: ESP and the running root slot). */
  copyFrom: SourcePartition | null;
}

export interface InstallPlan {
  diskGuid: string;
  targetBytes: number;
  partitions: TargetPartition[];
  /** PARTUUID the copied boot entries name (the source's running root), replaced by the new root A. */
  sourceRootPartUuid: string;
}

/** Smallest target that holds the boot disk's ESP and root slots and the image's data partition. */
export function minimumTargetBytes(layout: SourceLayout, minDataBytes = MIN_DATA_BYTES): number {
  const data = layout.partitions.find((p) => p.name === DATA_LABEL);
  if (!data) throw new InstallError('failed', 'the boot disk has no data partition');
  const sectors = data.firstLba + Math.ceil(minDataBytes / SECTOR / ALIGN) * ALIGN + Math.ceil(BACKUP_GPT_SECTORS / ALIGN) * ALIGN;
  return sectors * SECTOR;
}

/**
 * The target gets the source's layout with fresh identifiers: a new disk GUID and new partition UUIDs,
 * so nothing on the installed disk can be mistaken for the stick's partitions. Root A holds a copy of the
 * running slot (named after its version); root B is empty; data fills the rest of the disk.
 */
export function planInstall(layout: SourceLayout, targetBytes: number, runningRootPartUuid: string | null, newUuid: () => string = () => randomUUID().toUpperCase(), minDataBytes = MIN_DATA_BYTES): InstallPlan {
  const esp = layout.partitions.find((p) => p.typeGuid === TYPE_ESP);
  const roots = layout.partitions.filter((p) => p.typeGuid === TYPE_ROOT_X86_64).sort((a, b) => a.firstLba - b.firstLba);
  const data = layout.partitions.find((p) => p.name === DATA_LABEL);
  if (!esp || roots.length !== 2 || !data) throw new InstallError('failed', 'the boot disk does not have the Stube layout (ESP, two root slots, data)');
  const [slotA, slotB] = roots as [SourcePartition, SourcePartition];
  const running = runningRootPartUuid
    ? roots.find((r) => r.partUuid === runningRootPartUuid.toUpperCase())
    : roots.find((r) => r.name !== EMPTY_SLOT);
  if (!running) throw new InstallError('failed', 'the running root slot is not on the boot disk');
  if (slotA.sectors !== slotB.sectors) throw new InstallError('failed', 'the root slots differ in size');
  const need = minimumTargetBytes(layout, minDataBytes);
  if (targetBytes < need) throw new InstallError('noSpace', `the disk is too small: ${targetBytes} bytes, at least ${need} needed`);
  const lastUsable = Math.floor(targetBytes / SECTOR) - BACKUP_GPT_SECTORS - 1;
  const dataLast = Math.floor((lastUsable + 1) / ALIGN) * ALIGN - 1;
  const part = (role: TargetPartition['role'], src: SourcePartition, name: string, lastLba: number, copyFrom: SourcePartition | null): TargetPartition => ({
    number: src.number, role, firstLba: src.firstLba, lastLba, typeGuid: src.typeGuid, partUuid: newUuid(), name, attributeBits: src.attributeBits, copyFrom,
  });
  return {
    diskGuid: newUuid(),
    targetBytes,
    sourceRootPartUuid: running.partUuid,
    partitions: [
      part('esp', esp, esp.name, esp.firstLba + esp.sectors - 1, esp),
      part('root-a', slotA, running.name, slotA.firstLba + slotA.sectors - 1, running),
      part('root-b', slotB, EMPTY_SLOT, slotB.firstLba + slotB.sectors - 1, null),
      part('data', data, data.name, dataLast, null),
    ],
  };
}

export function partOf(plan: InstallPlan, role: TargetPartition['role']): TargetPartition {
  const p = plan.partitions.find((x) => x.role === role);
  if (!p) throw new InstallError('failed', `no ${role} partition in the plan`);
  return p;
}

/** sgdisk arguments for the target's GPT (after `sgdisk --zap-all`). */
export function targetSgdiskArgs(plan: InstallPlan, target: string): string[] {
  const args = ['--clear', `--disk-guid=${plan.diskGuid}`];
  for (const p of plan.partitions) {
    args.push(`--new=${p.number}:${p.firstLba}:${p.lastLba}`, `--typecode=${p.number}:${p.typeGuid}`, `--change-name=${p.number}:${p.name}`, `--partition-guid=${p.number}:${p.partUuid}`);
    for (const bit of p.attributeBits) args.push(`--attributes=${p.number}:set:${bit}`);
  }
  args.push(target);
  return args;
}

/** The boot entry of the installed disk: root= names the new root A, everything else stays. */
export function rewriteEntry(text: string, oldRoot: string, newRoot: string): string | null {
  const re = new RegExp(`root=PARTUUID=${oldRoot}(?=\\s|$)`, 'gi');
  if (!re.test(text)) return null;
  return text.replace(re, `root=PARTUUID=${newRoot.toLowerCase()}`);
}

/** efibootmgr arguments: a new entry for systemd-boot on the target's ESP (efibootmgr puts it first in BootOrder). */
export function bootEntryArgs(disk: string, espNumber: number, label = 'Stube'): string[] {
  return ['--create', '--disk', disk, '--part', String(espNumber), '--label', label, '--loader', '\\EFI\\systemd\\systemd-bootx64.efi'];
}

/** The number efibootmgr gave the entry that points at the ESP with this PARTUUID. */
export function bootNumberFor(efibootmgrOutput: string, espPartUuid: string): string | null {
  const uuid = espPartUuid.toLowerCase();
  for (const line of efibootmgrOutput.split('\n')) {
    const m = /^Boot([0-9A-Fa-f]{4})\*?\s/.exec(line);
    if (m && line.toLowerCase().includes(uuid)) return m[1] ?? null;
  }
  return null;
}
