// Checks an update bundle before anything of it is written where it could take effect: the archive's
// member list, the OpenPGP signature of SHA256SUMS against the image's keyring (sqv), the manifest
// (schema, name, architecture, a newer version), and the hash of every member. Only a bundle that passes
// all of that is moved into the folder systemd-sysupdate reads. Runs in the root update helper.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { bundleManifestSchema, bundleMembers, type BundleManifest } from './bundle-format.js';
import { sha256File } from './digest.js';
import { compareVersions, isVersion } from './version.js';

const run = promisify(execFile);

/** Larger than any root slot we build (2 GiB compressed to a few hundred MiB), smaller than a mistake. */
export const MAX_BUNDLE_BYTES = 4 * 1024 ** 3;
const MAX_META_BYTES = 1024 * 1024;

export type RefusalCode =
  | 'too-large' | 'not-a-bundle' | 'bad-signature' | 'bad-manifest' | 'wrong-name' | 'wrong-architecture'
  | 'not-newer' | 'hash-mismatch';

/** A bundle that must not be installed; the message says why in words a host understands. */
export class BundleRefused extends Error {
  constructor(readonly code: RefusalCode, message: string) {
    super(message);
    this.name = 'BundleRefused';
  }
}

export interface CheckOptions {
  /** OpenPGP keyring with the public key(s) that may sign bundles. */
  readonly keyring: string;
  readonly name: string;
  readonly architecture: string;
  readonly currentVersion: string;
  /** Scratch folder (emptied); on success it holds the checked payload files. */
  readonly workDir: string;
  /** sqv's path (tests may point elsewhere). */
  readonly sqv?: string;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validateManifest = ajv.compile<BundleManifest>(bundleManifestSchema);


/** Parses "hash  name" lines; names must be plain file names. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) [ *]([A-Za-z0-9_.+-]{1,120})$/.exec(line);
    if (!m || sums.has(m[2] ?? '')) throw new BundleRefused('bad-manifest', 'the bundle\'s SHA256SUMS is malformed');
    sums.set(m[2] ?? '', m[1] ?? '');
  }
  return sums;
}

/** The manifest's own rules, apart from the signature: what this box can and may install. */
export function checkManifest(m: unknown, opts: Pick<CheckOptions, 'name' | 'architecture' | 'currentVersion'>): BundleManifest {
  if (!validateManifest(m)) {
    const e = validateManifest.errors?.[0];
    throw new BundleRefused('bad-manifest', `the bundle's manifest is invalid (${e?.instancePath || '/'} ${e?.message ?? ''})`);
  }
  if (m.name !== opts.name) throw new BundleRefused('wrong-name', `the bundle is for "${m.name}", not for this box ("${opts.name}")`);
  if (m.architecture !== opts.architecture) {
    throw new BundleRefused('wrong-architecture', `the bundle is for the ${m.architecture} architecture; this box is ${opts.architecture}`);
  }
  if (!isVersion(m.version)) throw new BundleRefused('bad-manifest', 'the bundle\'s version is not a version');
  if (compareVersions(m.version, opts.currentVersion) <= 0) {
    throw new BundleRefused('not-newer', `the bundle has version ${m.version}; this box already runs ${opts.currentVersion}`);
  }
  const prefix = `${m.name}_${m.version}`;
  const f = m.files;
  if (!new RegExp(`^${prefix.replace(/[.+]/g, '\\$&')}_[0-9a-f-]{36}\\.root\\.raw\\.gz$`).test(f.root)
    || f.kernel !== `${prefix}.vmlinuz` || f.initrd !== `${prefix}.initrd` || f.entry !== `${prefix}.conf`) {
    throw new BundleRefused('bad-manifest', 'the bundle\'s file names do not match its version');
  }
  return m;
}

async function listMembers(bundle: string): Promise<string[]> {
  try {
    const { stdout } = await run('tar', ['--list', '--file', bundle], { maxBuffer: 1024 * 1024 });
    return stdout.split('\n').filter(Boolean);
  } catch {
    throw new BundleRefused('not-a-bundle', 'the file is not a complete update bundle (the archive is damaged or cut short)');
  }
}

async function extract(bundle: string, dir: string, members: readonly string[]): Promise<void> {
  try {
    // 1 MiB records: tar then writes 1 MiB at a time instead of 10 KiB (fewer system calls, which count
    // on a slow box and a great deal under emulation).
    await run('tar', ['--extract', '--blocking-factor=2048', '--read-full-records', '--file', bundle, '--directory', dir,
      '--no-same-owner', '--no-same-permissions', '--', ...members], { maxBuffer: 1024 * 1024 });
  } catch {
    throw new BundleRefused('not-a-bundle', 'the update bundle could not be unpacked (damaged or cut short)');
  }
}

/**
 * Checks `bundle` and leaves its payload files in `<workDir>/payload`. Throws BundleRefused for a bundle
 * that must not be installed. Nothing outside workDir is written.
 */
export async function checkBundle(bundle: string, opts: CheckOptions): Promise<{ manifest: BundleManifest; payload: string }> {
  const size = (await stat(bundle)).size;
  if (size > MAX_BUNDLE_BYTES) throw new BundleRefused('too-large', 'the update bundle is larger than any bundle can be');
  await rm(opts.workDir, { recursive: true, force: true });
  const meta = join(opts.workDir, 'meta');
  const payload = join(opts.workDir, 'payload');
  await mkdir(meta, { recursive: true, mode: 0o700 });
  await mkdir(payload, { recursive: true, mode: 0o700 });

  const members = await listMembers(bundle);
  const head = ['SHA256SUMS', 'SHA256SUMS.gpg', 'manifest.json'];
  if (!head.every((m) => members.includes(m))) throw new BundleRefused('not-a-bundle', 'the file is not an update bundle (SHA256SUMS, signature or manifest missing)');
  await extract(bundle, meta, head);
  for (const m of head) {
    if ((await stat(join(meta, m))).size > MAX_META_BYTES) throw new BundleRefused('not-a-bundle', `the bundle's ${m} is too large`);
  }

  // The signature first: nothing the bundle says is believed before it.
  try {
    // --not-after far ahead: a box whose clock is behind (no battery, no network yet) must not take a
    // fresh signature for one "from the future". Replays of old bundles are stopped by the version rule.
    await run(opts.sqv ?? 'sqv', ['--keyring', opts.keyring, '--not-after', '2199-12-31', join(meta, 'SHA256SUMS.gpg'), join(meta, 'SHA256SUMS')]);
  } catch {
    throw new BundleRefused('bad-signature', 'the update bundle is not signed with this box\'s update key');
  }
  const sums = parseSha256Sums(await readFile(join(meta, 'SHA256SUMS'), 'utf8'));
  if (sums.get('manifest.json') !== await sha256File(join(meta, 'manifest.json'))) throw new BundleRefused('hash-mismatch', 'the bundle\'s manifest does not match its signed checksums');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(meta, 'manifest.json'), 'utf8'));
  } catch {
    throw new BundleRefused('bad-manifest', 'the bundle\'s manifest is not JSON');
  }
  const manifest = checkManifest(parsed, opts);
  const expected = bundleMembers(manifest.files);
  if (members.length !== expected.length || !expected.every((m) => members.includes(m))) {
    throw new BundleRefused('not-a-bundle', 'the bundle holds other files than its manifest names');
  }
  const payloadNames = [manifest.files.entry, manifest.files.kernel, manifest.files.initrd, manifest.files.root];
  for (const f of payloadNames) if (!sums.has(f)) throw new BundleRefused('bad-manifest', `the signed checksums do not cover ${f}`);
  await extract(bundle, payload, payloadNames);
  for (const f of payloadNames) {
    if (await sha256File(join(payload, f)) !== sums.get(f)) throw new BundleRefused('hash-mismatch', `${f} in the bundle does not match its signed checksum`);
  }
  return { manifest, payload };
}

/** Replaces the contents of `verified` by the checked payload (same file system: renames only). */
export async function promotePayload(payload: string, verified: string, manifest: BundleManifest): Promise<void> {
  await rm(verified, { recursive: true, force: true });
  await mkdir(verified, { recursive: true, mode: 0o700 });
  for (const f of [manifest.files.root, manifest.files.kernel, manifest.files.initrd, manifest.files.entry]) {
    await rename(join(payload, f), join(verified, f));
  }
}
