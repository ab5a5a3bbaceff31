// SHA-256 of a file, read 1 MiB at a time: bundles are hundreds of MiB, and on a small box (or under
// emulation) the number of reads counts as much as the hashing.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const READ_CHUNK_BYTES = 1024 * 1024;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK_BYTES })) h.update(chunk as Buffer);
  return h.digest('hex');
}
