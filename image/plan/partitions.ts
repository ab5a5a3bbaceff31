// GPT layout of the appliance disk: EFI system partition, root slot A, root slot B, data.
// Pure arithmetic, so it can be tested without a disk: the assemble stage turns the plan into an sgdisk
// command line and dd offsets.
import { createHash } from 'node:crypto';
import { ImageError } from '../errors.js';
import type { PartitionSizes } from '../config/schema.js';

export const SECTOR = 512;
const MIB = 1024 * 1024;
/** Partitions start on 1 MiB boundaries; the first one at 1 MiB, after the primary GPT. */
const ALIGN_SECTORS = MIB / SECTOR;
/** The backup GPT (header and 128 entries of 128 bytes) takes the last 33 sectors. */
const BACKUP_GPT_SECTORS = 33;

/** GPT partition type GUIDs (UEFI spec and the Discoverable Partitions Specification). */
export const PARTITION_TYPES = {
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  rootX86_64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  linuxGeneric: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
} as const;

/** GPT attribute bit 59: "grow the file system to the partition" (Discoverable Partitions Spec). */
export const GPT_FLAG_GROWFS = 59;

export type PartitionRole = 'esp' | 'root-a' | 'root-b' | 'data';

export interface PlannedPartition {
  readonly number: number;
  readonly role: PartitionRole;
  /** GPT partition name; fstab finds the ESP and the data partition by it on every slot. */
  readonly label: string;
  readonly typeGuid: string;
  readonly partUuid: string;
  readonly firstLba: number;
  readonly lastLba: number;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  readonly attributeBits: readonly number[];
}

export interface PartitionPlan {
  readonly diskGuid: string;
  readonly diskBytes: number;
  readonly partitions: readonly PlannedPartition[];
}

export const PARTITION_LABELS: Record<PartitionRole, string> = {
  esp: 'stube-esp',
  'root-a': 'stube-root-a',
  'root-b': 'stube-root-b',
  data: 'stube-data',
};

/**
 * systemd-sysupdate keeps the version of a root slot in its GPT name ("stube_0.2.0") and writes updates
 * only into a slot named "_empty"; so the image names slot A after its version and leaves slot B empty.
 */
export const EMPTY_SLOT_LABEL = '_empty';

export function slotLabel(name: string, version: string): string {
  return `${name}_${version}`;
}

/**
 * A stable UUID from a seed and a name: the same image version always gets the same identifiers, so
 * builds are reproducible, and different versions get different ones. Formatted as a version 4 /
 * RFC 4122 variant UUID so every tool accepts it.
 */
export function derivedUuid(seed: string, name: string): string {
  const h = createHash('sha256').update(`${seed}\0${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x40;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

export function planPartitions(sizes: PartitionSizes, seed: string, rootALabel: string = PARTITION_LABELS['root-a']): PartitionPlan {
  for (const [field, value] of Object.entries(sizes)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new ImageError('PLAN_INVALID', `partitions.${field} must be a positive whole number of MiB, got ${value}`);
    }
  }
  const layout: [PartitionRole, number, string, number[]][] = [
    ['esp', sizes.espMiB, PARTITION_TYPES.esp, []],
    ['root-a', sizes.rootMiB, PARTITION_TYPES.rootX86_64, []],
    ['root-b', sizes.rootMiB, PARTITION_TYPES.rootX86_64, []],
    ['data', sizes.dataMiB, PARTITION_TYPES.linuxGeneric, [GPT_FLAG_GROWFS]],
  ];
  let next = ALIGN_SECTORS;
  const partitions = layout.map(([role, mib, typeGuid, attributeBits], i): PlannedPartition => {
    const sectors = (mib * MIB) / SECTOR;
    const firstLba = next;
    next += sectors;
    return {
      number: i + 1,
      role,
      label: role === 'root-a' ? rootALabel : role === 'root-b' ? EMPTY_SLOT_LABEL : PARTITION_LABELS[role],
      typeGuid,
      partUuid: derivedUuid(seed, `partition:${role}`),
      firstLba,
      lastLba: firstLba + sectors - 1,
      offsetBytes: firstLba * SECTOR,
      sizeBytes: sectors * SECTOR,
      attributeBits,
    };
  });
  // Room for the backup GPT, rounded up to a whole MiB so the disk size is a round number.
  const diskSectors = next + Math.ceil(BACKUP_GPT_SECTORS / ALIGN_SECTORS) * ALIGN_SECTORS;
  return { diskGuid: derivedUuid(seed, 'disk'), diskBytes: diskSectors * SECTOR, partitions };
}

export function partitionOf(plan: PartitionPlan, role: PartitionRole): PlannedPartition {
  const p = plan.partitions.find((x) => x.role === role);
  if (!p) throw new ImageError('PLAN_INVALID', `partition plan has no ${role} partition`);
  return p;
}

/** sgdisk arguments that write the plan's GPT into an existing file of plan.diskBytes bytes. */
export function sgdiskArgs(plan: PartitionPlan, imageFile: string): string[] {
  const args = ['--clear', `--disk-guid=${plan.diskGuid}`];
  for (const p of plan.partitions) {
    args.push(
      `--new=${p.number}:${p.firstLba}:${p.lastLba}`,
      `--typecode=${p.number}:${p.typeGuid}`,
      `--change-name=${p.number}:${p.label}`,
      `--partition-guid=${p.number}:${p.partUuid}`,
    );
    for (const bit of p.attributeBits) args.push(`--attributes=${p.number}:set:${bit}`);
  }
  args.push(imageFile);
  return args;
}
