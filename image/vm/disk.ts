// A VM's own disk: a sparse copy of the built image, made larger the way a bigger USB stick would be,
// so the first boot's growing of the data partition is exercised too. For tests and debugging, extra
// kernel options can be added to the boot entries on the copy's ESP (the image itself is not touched).
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { $ } from 'zx';
import { parseGpt } from '../plan/gpt.js';
import { PARTITION_TYPES } from '../plan/partitions.js';

export interface VmDiskOptions {
  /** Added to every boot entry's options line, e.g. systemd.journald.forward_to_console=1. */
  readonly kernelOptions?: readonly string[];
}

/** Pure: a boot entry with extra options appended to its options line. */
export function withKernelOptions(entry: string, extra: readonly string[]): string {
  return entry.replace(/^(options[ \t]+.*)$/m, (line) => `${line} ${extra.join(' ')}`);
}

export async function makeVmDisk(image: string, disk: string, extraBytes: number, options: VmDiskOptions = {}): Promise<void> {
  mkdirSync(dirname(disk), { recursive: true });
  await $({ quiet: true })`cp --sparse=always ${image} ${disk}`;
  truncateSync(disk, statSync(image).size + extraBytes);
  if (options.kernelOptions && options.kernelOptions.length > 0) await addKernelOptions(disk, options.kernelOptions);
}

async function addKernelOptions(disk: string, extra: readonly string[]): Promise<void> {
  const head = Buffer.alloc(34 * 512);
  const fd = openSync(disk, 'r');
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const esp = parseGpt(head).entries.find((e) => e.typeGuid === PARTITION_TYPES.esp);
  if (!esp) throw new Error(`${disk} has no EFI system partition`);
  const tmp = mkdtempSync(join(dirname(disk), 'esp-'));
  const img = join(tmp, 'esp.img');
  const offset = esp.firstLba * 512;
  const size = (esp.lastLba - esp.firstLba + 1) * 512;
  const m = $({ quiet: true, env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  try {
    await m`dd if=${disk} of=${img} bs=1M iflag=skip_bytes,count_bytes skip=${offset} count=${size} status=none`;
    const names = (await m`mdir -b -i ${img} ::/loader/entries`).stdout.split('\n').filter((l) => l.endsWith('.conf'));
    for (const path of names) {
      const text = (await m`mtype -i ${img} ${path}`).stdout;
      const local = join(tmp, 'entry.conf');
      writeFileSync(local, withKernelOptions(text, extra));
      await m`mcopy -o -i ${img} ${local} ${path}`;
    }
    await m`dd if=${img} of=${disk} bs=1M oflag=seek_bytes seek=${offset} conv=notrunc status=none`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
