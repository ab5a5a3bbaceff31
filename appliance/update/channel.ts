// An update channel: a place with latest.json (which bundle is newest) and the bundles themselves, either
// an HTTPS server or a folder (a USB stick for a box without internet). The request carries nothing but
// what HTTPS needs and the box's version (in User-Agent): no identifier, no cookie, no query string.
// Downloads resume: a partial file is continued with an HTTP Range request (or a read offset).
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { READ_CHUNK_BYTES, sha256File } from './digest.js';
import type { DirectChannel } from './settings.js';
import { isVersion } from './version.js';

export interface ChannelPointer {
  readonly version: string;
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

export class ChannelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelError';
  }
}

const MAX_POINTER_BYTES = 16 * 1024;
const TIMEOUT_MS = 30_000;

export function parsePointer(value: unknown): ChannelPointer {
  const v = value as Partial<ChannelPointer> | null;
  if (!v || typeof v !== 'object') throw new ChannelError('the channel\'s latest.json is not an object');
  if (typeof v.version !== 'string' || !isVersion(v.version)) throw new ChannelError('the channel\'s latest.json has no valid version');
  if (typeof v.file !== 'string' || !/^[a-z0-9][a-z0-9._+-]{0,120}\.update\.tar$/.test(v.file)) throw new ChannelError('the channel\'s latest.json names no bundle file');
  if (typeof v.size !== 'number' || !Number.isInteger(v.size) || v.size <= 0 || v.size > 4 * 1024 ** 3) throw new ChannelError('the channel\'s latest.json has no valid size');
  if (typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256)) throw new ChannelError('the channel\'s latest.json has no valid sha256');
  return { version: v.version, file: v.file, size: v.size, sha256: v.sha256 };
}

function headers(currentVersion: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': `Stube/${currentVersion}`, accept: '*/*', ...extra };
}

/** Reads latest.json from the channel. */
export async function fetchPointer(channel: DirectChannel, currentVersion: string): Promise<ChannelPointer> {
  let text: string;
  if (channel.kind === 'none') throw new ChannelError('no update channel is configured');
  if (channel.kind === 'file') {
    try {
      const file = join(channel.path, 'latest.json');
      if ((await stat(file)).size > MAX_POINTER_BYTES) throw new ChannelError('the channel\'s latest.json is too large');
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (err instanceof ChannelError) throw err;
      throw new ChannelError('no latest.json in the update folder (is the stick plugged in?)');
    }
  } else {
    let res: Response;
    try {
      res = await fetch(`${channel.url.replace(/\/+$/, '')}/latest.json`, { headers: headers(currentVersion), signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch {
      throw new ChannelError('the update channel could not be reached');
    }
    if (!res.ok) throw new ChannelError(`the update channel answered HTTP ${res.status}`);
    text = await res.text();
    if (text.length > MAX_POINTER_BYTES) throw new ChannelError('the channel\'s latest.json is too large');
  }
  try {
    return parsePointer(JSON.parse(text));
  } catch (err) {
    if (err instanceof ChannelError) throw err;
    throw new ChannelError('the channel\'s latest.json is not JSON');
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}


/**
 * Downloads the pointer's bundle into `dir` (<file>.part while incomplete, resumed from where it stopped)
 * and returns the finished file. `progress` gets the bytes so far.
 */
export async function downloadBundle(channel: DirectChannel, pointer: ChannelPointer, dir: string, currentVersion: string,
  progress: (bytes: number) => void = () => {}): Promise<string> {
  const final = join(dir, pointer.file);
  if (await sizeOf(final) === pointer.size && await sha256File(final) === pointer.sha256) return final;
  const part = `${final}.part`;
  let offset = await sizeOf(part);
  if (offset > pointer.size) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (offset < pointer.size) {
    let body: Readable;
    if (channel.kind === 'none') throw new ChannelError('no update channel is configured');
    if (channel.kind === 'file') {
      body = createReadStream(join(channel.path, pointer.file), { start: offset, highWaterMark: READ_CHUNK_BYTES });
    } else {
      const res = await fetch(`${channel.url.replace(/\/+$/, '')}/${pointer.file}`, {
        headers: headers(currentVersion, offset > 0 ? { range: `bytes=${offset}-` } : {}), redirect: 'error',
      }).catch(() => {
        throw new ChannelError('the update channel could not be reached');
      });
      if (res.status === 200 && offset > 0) offset = 0; // the server ignored the range: start over
      else if (!(res.status === 206 && offset > 0) && res.status !== 200) throw new ChannelError(`the update channel answered HTTP ${res.status}`);
      if (!res.body) throw new ChannelError('the update channel sent no body');
      body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    }
    let bytes = offset;
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > pointer.size) body.destroy(new ChannelError('the bundle is larger than the channel said'));
      progress(bytes);
    });
    await pipeline(body, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w', mode: 0o600 }));
  }
  if (await sizeOf(part) !== pointer.size) throw new ChannelError('the download stopped early; it resumes at the next try');
  if (await sha256File(part) !== pointer.sha256) {
    await rm(part, { force: true });
    throw new ChannelError('the downloaded bundle does not match the channel\'s checksum; it will be downloaded again');
  }
  await rename(part, final);
  return final;
}
