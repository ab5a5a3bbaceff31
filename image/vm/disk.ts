// A VM's own disk: a sparse copy of the built image, made larger the way a bigger USB stick would be,
// so the first boot's growing of the data partition is exercised too.
import { mkdirSync, truncateSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { $ } from 'zx';

export async function makeVmDisk(image: string, disk: string, extraBytes: number): Promise<void> {
  mkdirSync(dirname(disk), { recursive: true });
  await $({ quiet: true })`cp --sparse=always ${image} ${disk}`;
  truncateSync(disk, statSync(image).size + extraBytes);
}
