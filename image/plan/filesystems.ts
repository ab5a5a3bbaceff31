// Command lines that build each partition's file system from a folder, without loop devices or mounts.
import { PARTITION_LABELS, type PlannedPartition } from './partitions.js';

/** mkfs.ext4 for a root slot: no journal (mounted read-only), contents from a folder. */
export function rootMkfsArgs(part: PlannedPartition, fsUuid: string, sourceDir: string, file: string): string[] {
  // The GPT name carries the slot's version (for systemd-sysupdate); the file system keeps a fixed label.
  return ['-q', '-F', '-t', 'ext4', '-b', '4096', '-L', PARTITION_LABELS[part.role], '-U', fsUuid, '-O', '^has_journal',
    '-E', `root_owner=0:0,hash_seed=${fsUuid.toLowerCase()}`, '-m', '0', '-d', sourceDir, file];
}

/** mkfs.ext4 for the data partition: journaled (it takes power cuts), grows on first boot. */
export function dataMkfsArgs(part: PlannedPartition, fsUuid: string, sourceDir: string, file: string): string[] {
  return ['-q', '-F', '-t', 'ext4', '-b', '4096', '-L', part.label, '-U', fsUuid,
    '-E', `root_owner=0:0,hash_seed=${fsUuid.toLowerCase()}`, '-m', '1', '-d', sourceDir, file];
}

/** FAT volume IDs are 32-bit hex; take them from the partition's UUID so they are stable too. */
export function fatVolumeId(partUuid: string): string {
  return partUuid.replaceAll('-', '').slice(0, 8);
}

export function espMkfsArgs(part: PlannedPartition, file: string): string[] {
  return ['-C', '-F', '32', '-n', 'STUBE-ESP', '-i', fatVolumeId(part.partUuid), file, String(part.sizeBytes / 1024)];
}

/** dd that writes a partition image into the disk image at the partition's offset. */
export function ddArgs(part: PlannedPartition, partFile: string, diskFile: string): string[] {
  return [`if=${partFile}`, `of=${diskFile}`, 'bs=4M', `seek=${part.offsetBytes}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none'];
}
