// Reads a GPT (primary header at LBA 1 and its entries) from the first bytes of a disk image, so tests
// check the layout the firmware will see without any partitioning tool.
export interface GptEntry {
  readonly number: number;
  readonly typeGuid: string;
  readonly partUuid: string;
  readonly firstLba: number;
  readonly lastLba: number;
  readonly attributes: bigint;
  readonly name: string;
}

export interface Gpt {
  readonly diskGuid: string;
  readonly lastUsableLba: number;
  readonly alternateLba: number;
  readonly entries: readonly GptEntry[];
}

/** GUIDs are stored with their first three fields little-endian. */
export function guidFromBytes(b: Buffer): string {
  const hex = (x: Buffer): string => x.toString('hex');
  const le = (x: Buffer): string => hex(Buffer.from(x).reverse());
  return `${le(b.subarray(0, 4))}-${le(b.subarray(4, 6))}-${le(b.subarray(6, 8))}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`.toUpperCase();
}

/** Needs at least the first 34 sectors (512-byte) of the disk. */
export function parseGpt(disk: Buffer, sector = 512): Gpt {
  const header = disk.subarray(sector, sector * 2);
  if (header.toString('latin1', 0, 8) !== 'EFI PART') throw new Error('no GPT header at LBA 1');
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const size = header.readUInt32LE(84);
  const entries: GptEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = disk.subarray(entriesLba * sector + i * size, entriesLba * sector + (i + 1) * size);
    if (e.length < 128 || e.subarray(0, 16).every((x) => x === 0)) continue;
    entries.push({
      number: i + 1,
      typeGuid: guidFromBytes(e.subarray(0, 16)),
      partUuid: guidFromBytes(e.subarray(16, 32)),
      firstLba: Number(e.readBigUInt64LE(32)),
      lastLba: Number(e.readBigUInt64LE(40)),
      attributes: e.readBigUInt64LE(48),
      name: e.toString('utf16le', 56, 128).replace(/\0.*$/s, ''),
    });
  }
  return {
    diskGuid: guidFromBytes(header.subarray(56, 72)),
    lastUsableLba: Number(header.readBigUInt64LE(48)),
    alternateLba: Number(header.readBigUInt64LE(32)),
    entries,
  };
}
