// Signed A/B updates, end to end: the pipeline's update bundle, the root update helper's checks against
// real bundles and real signatures (bad signature, cut short, another architecture: refused before
// anything is written), and a box in qemu that finds a newer bundle in its update folder, installs it
// with systemd-sysupdate into the empty slot, restarts into it, reports healthy, gets the new boot entry
// marked good, and still has its data.
//
// Version 0.2.0 is made from the built root slot by changing only its version files, then signed with the
// build's key through the same packBundle() the pipeline uses: a second full build would take minutes
// this test's budget does not have, and the slot's contents are not what is under test here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleManifest } from '../../appliance/update/bundle-format.js';
import type { HelperStatus } from '../../appliance/update/helper-protocol.js';
import { runRequest } from '../../appliance/update/helper.js';
import { DEFAULT_UPDATE_SETTINGS, type UpdateSettings } from '../../appliance/update/settings.js';
import type { BuildContext } from '../../image/context.js';
import { bootEntryData } from '../../image/plan/files.js';
import { parseGpt, type GptEntry } from '../../image/plan/gpt.js';
import { derivedUuid } from '../../image/plan/partitions.js';
import { bundleFileName, bundleNames, osReleaseLines, UPDATE_PATHS } from '../../image/plan/update.js';
import { buildImage, contextFor, type BuildReport } from '../../image/pipeline.js';
import { packBundle, sha256File } from '../../image/stages/bundle.js';
import { renderTemplate } from '../../image/templates.js';
import { makeVmDisk, withKernelOptions } from '../../image/vm/disk.js';
import { httpsGet, Vm } from '../../image/vm/machine.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const configFile = join(repo, 'image/configs/debian-13-amd64.json');
const BOOT_DEADLINE_MS = 20 * 60_000;
const UPDATE_DEADLINE_MS = 25 * 60_000;
const ROLLBACK_DEADLINE_MS = 40 * 60_000;
const GROW_BYTES = 3 * 1024 ** 3;
const NEW = '0.2.0';
// On every boot entry of the test's disk (the image's and the test bundle's): the journal goes to the serial
// console, so the test sees the update helper's progress; and on two cores shared with other test jobs
// under software emulation, udev and networkd can take longer than systemd's default 90 s, which
// on a box would be a broken disk or network, so the VM waits longer instead of failing the boot.
const VM_KERNEL_OPTIONS = ['systemd.journald.forward_to_console=1', 'systemd.default_timeout_start_sec=900', 'systemd.default_device_timeout_sec=900'];

let ctx: BuildContext;
let report: BuildReport;
let work: string;
let keyring: string;
let v1Dir: string;
let good: { bundle: string; pointer: { version: string; file: string; size: number; sha256: string } };
const vms: Vm[] = [];
const figures: string[] = [];

function readHead(file: string, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, bytes, 0);
  } finally {
    closeSync(fd);
  }
  return buf;
}

function extractPartition(disk: string, number: number, out: string): void {
  const e = parseGpt(readHead(disk, 34 * 512)).entries.find((x) => x.number === number);
  if (!e) throw new Error(`no partition ${number}`);
  execFileSync('dd', [`if=${disk}`, `of=${out}`, 'bs=1M', `skip=${e.firstLba * 512}`, `count=${(e.lastLba - e.firstLba + 1) * 512}`,
    'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
}

function espEntries(disk: string): string[] {
  const esp = `${disk}.esp`;
  extractPartition(disk, 1, esp);
  try {
    const out = execFileSync('mdir', ['-b', '-i', esp, '::/loader/entries'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    return out.split('\n').map((l) => l.replace(/^.*\//, '')).filter((l) => l.endsWith('.conf'));
  } finally {
    rmSync(esp, { force: true });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A bundle of `version` made from the built root slot: its version files changed (and `debugfs` commands
 * made from the raw slot, e.g. to break the service), a partition UUID of its own, signed with the
 * build's key.
 */
async function variantBundle(version: string, opts: { debugfs?: (raw: string, dir: string) => string[]; changelog?: string } = {}): Promise<string> {
  const dir = join(work, `v${version}-${ctx.config.architecture}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const v1 = bundleNames(ctx.config.name, ctx.version, derivedUuid(`${ctx.config.name}-${ctx.version}`, 'partition:root-a'));
  const uuid = derivedUuid(`${ctx.config.name}-${version}`, 'partition:root-a');
  const names = bundleNames(ctx.config.name, version, uuid);
  const raw = join(dir, 'root.raw');
  execFileSync('sh', ['-c', 'gzip -dc "$1" | dd of="$2" bs=1M conv=sparse status=none', 'sh', join(v1Dir, v1.root), raw]);
  writeFileSync(join(dir, 'version'), `${version}\n`);
  const osRelease = execFileSync('debugfs', ['-R', 'cat /usr/lib/os-release', raw], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .replace(/^IMAGE_VERSION=.*\n/m, '');
  writeFileSync(join(dir, 'os-release'), `${osRelease.replace(/^IMAGE_ID=.*\n/m, '')}${osReleaseLines(ctx.config.name, version)}`);
  for (const f of ['version', 'os-release']) chmodSync(join(dir, f), 0o644);
  const script = [
    'rm /usr/lib/stube/version', `write ${join(dir, 'version')} /usr/lib/stube/version`,
    'rm /usr/lib/os-release', `write ${join(dir, 'os-release')} /usr/lib/os-release`,
    ...(opts.debugfs?.(raw, dir) ?? []),
  ];
  writeFileSync(join(dir, 'debugfs.cmd'), `${script.join('\n')}\n`);
  execFileSync('debugfs', ['-w', '-f', join(dir, 'debugfs.cmd'), raw], { stdio: 'ignore' });
  execFileSync('sh', ['-c', 'gzip -n -1 -c "$1" > "$2"', 'sh', raw, join(dir, names.root)]);
  rmSync(raw);
  copyFileSync(join(v1Dir, v1.kernel), join(dir, names.kernel));
  copyFileSync(join(v1Dir, v1.initrd), join(dir, names.initrd));
  writeFileSync(join(dir, names.entry), withKernelOptions(renderTemplate(join(repo, 'templates'), 'boot/entry.conf', bootEntryData(ctx.config.name, version, uuid)), VM_KERNEL_OPTIONS));
  const v1Manifest = JSON.parse(readFileSync(join(v1Dir, 'manifest.json'), 'utf8')) as BundleManifest;
  const manifest: BundleManifest = {
    ...v1Manifest, version, files: names,
    signedAt: Math.floor(Date.now() / 1000), changelog: opts.changelog ?? `Test build ${version}`,
  };
  const bundle = join(work, bundleFileName(ctx.config.name, version, manifest.architecture));
  await packBundle(ctx, dir, manifest, bundle);
  return bundle;
}

/** The same payload as `fromBundle`'s folder with a changed manifest, signed with the build's key again. */
async function repackedBundle(version: string, patch: Partial<BundleManifest>): Promise<string> {
  const dir = join(work, `v${version}-${ctx.config.architecture}`);
  const manifest = { ...(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BundleManifest), ...patch, signedAt: Math.floor(Date.now() / 1000) };
  const other = join(work, `repacked-${manifest.architecture}`);
  rmSync(other, { recursive: true, force: true });
  mkdirSync(other);
  for (const f of Object.values(manifest.files)) execFileSync('ln', [join(dir, f), join(other, f)]);
  const bundle = join(work, bundleFileName(ctx.config.name, version, manifest.architecture));
  await packBundle(ctx, other, manifest, bundle);
  rmSync(other, { recursive: true, force: true });
  return bundle;
}

/** Runs the root helper's install step on `bundle`, as on the box, with systemd-sysupdate recorded. */
async function helperInstall(bundle: string, bootSettled: () => Promise<void> = async () => {}): Promise<{ status: HelperStatus; sysupdate: { version: string; files: Record<string, string> }[]; leftOver: boolean; order: string[] }> {
  const order: string[] = [];
  const priv = mkdtempSync(join(work, 'private-'));
  chmodSync(priv, 0o700);
  mkdirSync(join(priv, 'download'), { mode: 0o700 });
  execFileSync('cp', ['--reflink=auto', bundle, join(priv, 'download', bundle.replace(/^.*\//, ''))]);
  const versionFile = join(priv, 'version');
  writeFileSync(versionFile, `${ctx.version}\n`);
  const calls: { version: string; files: Record<string, string> }[] = [];
  const status = await runRequest({ id: 'test', op: 'install' }, null, {
    paths: { private: priv, keyring, definitions: '/nonexistent', settings: join(priv, 'settings.json'), versionFile },
    name: ctx.config.name,
    architecture: ctx.config.architecture,
    bootSettled: async () => {
      order.push('boot settled?');
      await bootSettled();
    },
    sysupdate: async (version) => {
      order.push('sysupdate');
      const files: Record<string, string> = {};
      for (const f of execFileSync('ls', [join(priv, 'verified')], { encoding: 'utf8' }).split('\n').filter(Boolean)) files[f] = await sha256File(join(priv, 'verified', f));
      calls.push({ version, files });
    },
    reboot: async () => {
      throw new Error('no reboot in this test');
    },
    report: async () => {},
  });
  const leftOver = existsSync(join(priv, 'verified')) || existsSync(join(priv, 'work'));
  rmSync(priv, { recursive: true, force: true });
  return { status, sysupdate: calls, leftOver, order };
}

beforeAll(async () => {
  ctx = contextFor({ repo, configFile, log: () => {} });
  const started = Date.now();
  report = await buildImage({ repo, configFile, log: (m) => console.log(`[update] ${m}`) });
  console.log(`[update] image and bundle ready after ${Math.round((Date.now() - started) / 1000)} s (reused: ${report.reused})`);
  work = mkdtempSync(join(ctx.paths.work, 'update-test-'));
  v1Dir = join(work, 'v1');
  mkdirSync(v1Dir);
  execFileSync('tar', ['-x', '-f', report.bundle.bundle, '-C', v1Dir]);
  // The keyring the image carries, read from its root slot.
  const root = join(work, 'root-a.img');
  extractPartition(report.outputs.image, 2, root);
  keyring = join(work, 'update-keyring.pgp');
  execFileSync('debugfs', ['-R', `dump ${UPDATE_PATHS.keyring} ${keyring}`, root], { stdio: 'ignore' });
  rmSync(root);
  const t = Date.now();
  const bundle = await variantBundle(NEW);
  console.log(`[update] test bundle ${NEW} made in ${Math.round((Date.now() - t) / 1000)} s`);
  good = { bundle, pointer: { version: NEW, file: bundle.replace(/^.*\//, ''), size: statSync(bundle).size, sha256: await sha256File(bundle) } };
});

afterAll(async () => {
  for (const vm of vms) await vm.close();
  if (work) rmSync(work, { recursive: true, force: true });
  if (figures.length) console.log(`[update] figures (2 shared cores, software emulation):\n  ${figures.join('\n  ')}`);
});

describe('the update bundle', () => {
  it('is written next to the image, signed, with the version, changelog and package versions', () => {
    const { bundle, pointer } = report.bundle;
    expect(bundle).toBe(join(ctx.paths.out, `stube-${ctx.version}-amd64.update.tar`));
    const p = JSON.parse(readFileSync(pointer, 'utf8')) as { version: string; size: number };
    expect(p).toMatchObject({ version: ctx.version, size: statSync(bundle).size });
    figures.push(`bundle size: ${(statSync(bundle).size / 1024 / 1024).toFixed(0)} MiB (root slot gzip, kernel, initrd)`);
    const manifest = JSON.parse(readFileSync(join(v1Dir, 'manifest.json'), 'utf8')) as BundleManifest;
    expect(manifest).toMatchObject({ format: 1, name: 'stube', version: ctx.version, architecture: 'amd64' });
    expect(manifest.changelog.length).toBeGreaterThan(0);
    const debs = new Map(manifest.packages.debian.map((d) => [d.name, d.version]));
    expect(debs.get('janus')).toMatch(/~stube/);
    expect(debs.get('systemd-container')).toMatch(/^257\./);
    expect(manifest.packages.npm.some((n) => n.name === 'hono')).toBe(true);
    // The signature verifies against the public key the image carries, and only that key is there.
    const ok = spawnSync('sqv', ['--keyring', keyring, join(v1Dir, 'SHA256SUMS.gpg'), join(v1Dir, 'SHA256SUMS')], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    const home = mkdtempSync(join(work, 'gnupg-'));
    const packets = execFileSync('gpg', ['--homedir', home, '--list-packets', keyring], { encoding: 'utf8' });
    expect(packets).toMatch(/:public key packet:/);
    expect(packets).not.toMatch(/secret key packet/);
  });

  it('is installed by the update helper only after the signature and every file checked out', async () => {
    const r = await helperInstall(good.bundle);
    expect(r.status.error).toBeUndefined();
    expect(r.status).toMatchObject({ state: 'done', installed: { version: NEW } });
    expect(r.sysupdate).toHaveLength(1);
    const names = bundleNames('stube', NEW, derivedUuid(`stube-${NEW}`, 'partition:root-a'));
    expect(Object.keys(r.sysupdate[0]?.files ?? {}).sort()).toEqual(Object.values(names).sort());
    expect(r.leftOver).toBe(false);
    expect(r.order).toEqual(['boot settled?', 'sysupdate']);
  });

  it('does not write the inactive slot while the running version is still on trial (its fall-back is there)', async () => {
    const r = await helperInstall(good.bundle, async () => {
      throw new Error('this version has not been marked good since it started; the update waits');
    });
    expect(r.status.state).toBe('failed');
    expect(r.status.error?.message).toMatch(/not been marked good/);
    expect(r.sysupdate).toEqual([]);
    expect(r.leftOver).toBe(false);
  });

  it('refuses a bundle signed with another key before anything is written', async () => {
    const dir = join(work, 'badsig');
    mkdirSync(dir);
    execFileSync('tar', ['-x', '-f', good.bundle, '-C', dir, 'SHA256SUMS']);
    const home = mkdtempSync(join(work, 'gnupg-'));
    execFileSync('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-generate-key', 'Someone else <x@example.invalid>', 'ed25519', 'sign', 'never'], { stdio: 'ignore' });
    execFileSync('gpg', ['--homedir', home, '--batch', '--output', join(dir, 'SHA256SUMS.gpg'), '--detach-sign', join(dir, 'SHA256SUMS')], { stdio: 'ignore' });
    const bad = join(work, 'badsig.update.tar');
    execFileSync('cp', ['--reflink=auto', good.bundle, bad]);
    execFileSync('tar', ['--delete', '-f', bad, 'SHA256SUMS.gpg']);
    execFileSync('tar', ['--append', '-f', bad, '-C', dir, 'SHA256SUMS.gpg']);
    const r = await helperInstall(bad);
    expect(r.status).toMatchObject({ state: 'failed', error: { code: 'bad-signature' } });
    expect(r.status.error?.message).toMatch(/not signed with this box's update key/);
    expect(r.sysupdate).toEqual([]);
    expect(r.leftOver).toBe(false);
    rmSync(bad);
  });

  it('refuses a bundle cut short (an interrupted copy) before anything is written', async () => {
    const cut = join(work, 'cut.update.tar');
    execFileSync('cp', ['--reflink=auto', good.bundle, cut]);
    truncateSync(cut, Math.floor(statSync(cut).size * 0.6));
    const r = await helperInstall(cut);
    expect(r.status.state).toBe('failed');
    expect(['not-a-bundle', 'hash-mismatch']).toContain(r.status.error?.code);
    expect(r.sysupdate).toEqual([]);
    expect(r.leftOver).toBe(false);
    rmSync(cut);
  });

  it('refuses a correctly signed bundle for another architecture before anything is written', async () => {
    const arm = await repackedBundle(NEW, { architecture: 'arm64' });
    const r = await helperInstall(arm);
    expect(r.status).toMatchObject({ state: 'failed', error: { code: 'wrong-architecture' } });
    expect(r.status.error?.message).toMatch(/arm64.*amd64/);
    expect(r.sysupdate).toEqual([]);
    rmSync(arm);
  });
});

function dataPartition(disk: string): GptEntry {
  const e = parseGpt(readHead(disk, 34 * 512)).entries.find((x) => x.name === 'stube-data');
  if (!e) throw new Error('no data partition');
  return e;
}

/** Runs `use` on the data partition of a VM disk that is not running, behind a loop device, after fsck. */
function withDataPartition<T>(disk: string, use: (loop: string) => T): T {
  const e = dataPartition(disk);
  const loop = execFileSync('losetup', ['--find', '--show', '--offset', String(e.firstLba * 512), '--sizelimit', String((e.lastLba - e.firstLba + 1) * 512), disk], { encoding: 'utf8' }).trim();
  try {
    const fsck = spawnSync('e2fsck', ['-f', '-y', loop], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout).toBeLessThanOrEqual(1);
    return use(loop);
  } finally {
    execFileSync('losetup', ['--detach', loop]);
  }
}

/** Writes files into the data partition of a VM disk that is not running (journal replayed first). */
function editDataPartition(disk: string, files: { local: string; path: string; uid?: number }[], dirs: string[], remove: string[] = []): void {
  withDataPartition(disk, (loop) => {
    const script = [...remove.map((f) => `rm ${f}`), ...dirs.map((d) => `mkdir ${d}`)];
    for (const f of files) {
      script.push(`write ${f.local} ${f.path}`);
      if (f.uid !== undefined) script.push(`sif ${f.path} uid ${f.uid}`, `sif ${f.path} gid ${f.uid}`);
    }
    const cmd = join(work, 'data.debugfs');
    writeFileSync(cmd, `${script.join('\n')}\n`);
    execFileSync('debugfs', ['-w', '-f', cmd, loop], { stdio: 'ignore' });
    // Whole files only: debugfs quietly writes what fits when the file system is full.
    for (const f of files) {
      const st = execFileSync('debugfs', ['-R', `stat ${f.path}`, loop], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(st).toMatch(/Type: regular/);
      expect(Number(/Size: (\d+)/.exec(st)?.[1]), f.path).toBe(statSync(f.local).size);
    }
  });
}

/**
 * Grows the data partition and its file system to the end of the disk, as systemd-repart and growfs do on
 * the first boot, so that the test can put a bundle (larger than the image's data partition) into the
 * update folder before that boot.
 */
function growDataPartition(disk: string): void {
  const e = dataPartition(disk);
  execFileSync('sfdisk', ['--quiet', '--relocate', 'gpt-bak-std', disk]);
  execFileSync('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '-N', String(e.number), disk], { input: ',+\n' });
  const grown = dataPartition(disk);
  if (grown.lastLba <= e.lastLba || grown.partUuid !== e.partUuid) throw new Error('the data partition did not grow');
  withDataPartition(disk, (loop) => execFileSync('resize2fs', [loop], { stdio: 'ignore' }));
}

/** Reads files from the data partition of a VM disk that is not running (after a power cut: fsck first). */
function readDataPartition(disk: string, paths: string[]): Record<string, string | null> {
  return withDataPartition(disk, (loop) => {
    const out: Record<string, string | null> = {};
    for (const p of paths) {
      const r = spawnSync('debugfs', ['-R', `cat ${p}`, loop], { encoding: 'utf8' });
      out[p] = r.status === 0 && !/File not found/.test(r.stderr) ? r.stdout : null;
    }
    return out;
  });
}

/** Polls /healthz every second until it stops answering for 5 s (the switch) — or the deadline. */
async function waitForSwitch(vm: Vm, deadlineMs: number): Promise<number> {
  let lastUp = Date.now();
  while (Date.now() < deadlineMs) {
    if (!vm.running) throw new Error(`the VM stopped; end of the serial log:\n${vm.serialTail(80)}`);
    const ok = await httpsGet(vm.hostPort, '/healthz', 3000).then((a) => a.status === 200, () => false);
    if (ok) lastUp = Date.now();
    else if (Date.now() - lastUp > 5000) return lastUp;
    await sleep(1000);
  }
  throw new Error(`no switch to the new version before the deadline; end of the serial log:\n${vm.serialTail(120)}`);
}

async function waitForSerial(vm: Vm, pattern: RegExp, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    if (pattern.test(vm.serial())) return;
    if (!vm.running) throw new Error('the VM stopped');
    await sleep(1000);
  }
  throw new Error(`${pattern} did not appear on the console; end of the serial log:\n${vm.serialTail(120)}`);
}

async function waitForEntry(disk: string, name: string, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  while (!espEntries(disk).includes(name) && Date.now() < deadline) await sleep(5000);
  return espEntries(disk);
}

function slotNames(disk: string): string[] {
  return parseGpt(readHead(disk, 34 * 512)).entries.map((e) => e.name);
}

/**
 * A USB stick as a host copies a channel onto it: an MBR partition table, one FAT32 partition, and the
 * channel folder `stube-updates/` with latest.json and the bundle.
 */
function makeUpdateStick(file: string, pointer: { file: string }, bundle: string): void {
  const bytes = statSync(bundle).size + 256 * 1024 ** 2;
  writeFileSync(file, '');
  truncateSync(file, bytes);
  execFileSync('sfdisk', ['--quiet', file], { input: 'label: dos\n,,c\n' });
  execFileSync('mkfs.vfat', ['--offset', '2048', '-F', '32', '-n', 'UPDATES', file, String(Math.floor((bytes / 512 - 2048) / 2))], { stdio: 'ignore' });
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  const fat = `${file}@@1M`;
  const latest = join(work, 'stick-latest.json');
  writeFileSync(latest, JSON.stringify(pointer));
  execFileSync('mmd', ['-i', fat, '::/stube-updates'], { env });
  execFileSync('mcopy', ['-i', fat, latest, '::/stube-updates/latest.json'], { env });
  execFileSync('mcopy', ['-i', fat, bundle, `::/stube-updates/${pointer.file}`], { env });
}

/** Debugfs commands that break a test build: Janus cannot start (so the service never reports healthy)
 * and the build's own health deadline is 60 s instead of the shipped 600 s, so its three boot tries fit
 * into a test run. Everything else — boot counting, the restart after a failed try, the fallback — is
 * the image's own. */
function breakService(raw: string, dir: string): string[] {
  const janus = join(dir, 'janus');
  writeFileSync(janus, '#!/bin/sh\necho "janus: this test build is made to fail" >&2\nexit 1\n', { mode: 0o755 });
  const unitPath = '/etc/systemd/system/stube-healthy.service';
  const unit = execFileSync('debugfs', ['-R', `cat ${unitPath}`, raw], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  expect(unit).toMatch(/--retry-max-time \d+ /);
  const healthy = join(dir, 'stube-healthy.service');
  writeFileSync(healthy, unit.replace(/--retry-max-time \d+ /, '--retry-max-time 60 '), { mode: 0o644 });
  return ['rm /usr/bin/janus', `write ${janus} /usr/bin/janus`, 'sif /usr/bin/janus mode 0100755', `rm ${unitPath}`, `write ${healthy} ${unitPath}`];
}

// The VM half: one disk, eight boots under software emulation — the first boot with 0.2.0 already in its
// update folder, a power cut while the inactive slot is written, a power cut right after the switch, the
// new version, then a broken 0.3.0 from a USB stick that uses up its three boot tries, and the fall-back.
// It took 27 minutes on two shared cores next to another qemu test (load 4–5); STUBE_UPDATE_VM=0 skips
// it (the bundle checks above always run).
describe.skipIf(process.env.STUBE_UPDATE_VM === '0')('a box in a VM', () => {
  let disk: string;
  let fingerprint: string;
  let boot = 0;
  // Written to the data partition before the update; must be there, unchanged, on the new version.
  const marker = `written before the update ${Date.now()}\n`;
  const BROKEN = '0.3.0';
  // The box the third test leaves running for the fourth, and when the first switch happened.
  let running: Vm | null = null;
  let switchedAt = 0;

  async function start(usbSticks?: { file: string }[]): Promise<Vm> {
    const dir = join(work, `boot${++boot}`);
    mkdirSync(dir, { recursive: true });
    const vm = await Vm.start({ disk, dir, ...(usbSticks ? { usbSticks } : {}) });
    vms.push(vm);
    return vm;
  }

  function channelFiles(pointer: { file: string }, bundle: string): { local: string; path: string }[] {
    writeFileSync(join(work, 'latest.json'), JSON.stringify(pointer));
    chmodSync(join(work, 'latest.json'), 0o644);
    return [{ local: join(work, 'latest.json'), path: '/channel/latest.json' }, { local: bundle, path: `/channel/${pointer.file}` }];
  }

  it('first boot is marked good; 0.2.0 waits in the update folder; power cut while the inactive slot is written: the old version boots, data intact', async () => {
    disk = join(work, 'disk.img');
    await makeVmDisk(report.outputs.image, disk, GROW_BYTES, { kernelOptions: VM_KERNEL_OPTIONS });
    growDataPartition(disk);
    // The host's choices and the update folder, as the admin panel and a USB stick copy would leave them.
    const settings: UpdateSettings = { ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/var/lib/stube/channel' }, checkEveryHours: 1, window: { start: '00:00', hours: 24 } };
    writeFileSync(join(work, 'update-settings.json'), JSON.stringify(settings));
    writeFileSync(join(work, 'marker.txt'), marker);
    for (const f of ['update-settings.json', 'marker.txt']) chmodSync(join(work, f), 0o644);
    editDataPartition(disk, [
      { local: join(work, 'update-settings.json'), path: '/update-settings.json', uid: 800 },
      { local: join(work, 'marker.txt'), path: '/marker.txt', uid: 800 },
      ...channelFiles(good.pointer, good.bundle),
    ], ['/channel']);

    const vm = await start();
    const bootAt = Date.now();
    fingerprint = (await vm.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS)).fingerprint;
    const upAt = Date.now();
    figures.push(`first boot → /healthz: ${Math.round((upAt - bootAt) / 1000)} s`);
    // The first boot is blessed (its entry loses the counter) while the update goes on.
    expect(await waitForEntry(disk, `stube_${ctx.version}.conf`, 240_000)).toContain(`stube_${ctx.version}.conf`);
    await waitForSerial(vm, /update helper: bundle 0\.2\.0 checked; writing the inactive slot/, Date.now() + UPDATE_DEADLINE_MS);
    figures.push(`healthy → bundle copied from the update folder and checked, slot write starts: ${Math.round((Date.now() - upAt) / 1000)} s`);
    await sleep(10_000);
    expect(vm.running).toBe(true);
    await vm.powerOff();
    // Half-written: the slot never got the new version's name, and there is no boot entry for it.
    expect(slotNames(disk)).toEqual(['stube-esp', `stube_${ctx.version}`, '_empty', 'stube-data']);
    expect(espEntries(disk).some((e) => e.startsWith(`stube_${NEW}`))).toBe(false);
    expect(readDataPartition(disk, ['/marker.txt'])['/marker.txt']).toBe(marker);
  });

  it('goes on with the update and switches; power cut right after the switch', async () => {
    const vm = await start();
    const up = await vm.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    expect(up.fingerprint).toBe(fingerprint); // the old version came back with its data
    const upAt = Date.now();
    // The agent goes on with the interrupted update at once; the service stops answering at the switch.
    const downAt = await waitForSwitch(vm, Date.now() + UPDATE_DEADLINE_MS);
    switchedAt = downAt;
    figures.push(`healthy boot → switch (agent resumes, bundle already copied: checks, slot write): ${Math.round((downAt - upAt) / 1000)} s`);
    await vm.powerOff();
    expect(slotNames(disk)).toEqual(['stube-esp', `stube_${ctx.version}`, `stube_${NEW}`, 'stube-data']);
    expect(espEntries(disk).some((e) => /^stube_0\.2\.0\+3(-0)?\.conf$/.test(e))).toBe(true);
  });

  it('boots the new version after the cut: healthy, marked good, the old one kept as fallback', async () => {
    // While the box is off, the host also switches its update source to a USB stick and plugs one in
    // that carries a broken 0.3.0 — for the next test, which goes on with this boot.
    const t = Date.now();
    const broken = await variantBundle(BROKEN, { debugfs: breakService, changelog: `Test build ${BROKEN}, made to fail` });
    console.log(`[update] broken test bundle ${BROKEN} made in ${Math.round((Date.now() - t) / 1000)} s`);
    const pointer = { version: BROKEN, file: broken.replace(/^.*\//, ''), size: statSync(broken).size, sha256: await sha256File(broken) };
    const stick = join(work, 'update-stick.img');
    makeUpdateStick(stick, pointer, broken);
    const settings: UpdateSettings = { ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'usb' }, checkEveryHours: 1, window: { start: '00:00', hours: 24 } };
    writeFileSync(join(work, 'update-settings.json'), JSON.stringify(settings));
    editDataPartition(disk, [{ local: join(work, 'update-settings.json'), path: '/update-settings.json', uid: 800 }], [], ['/update-settings.json', '/channel/latest.json', `/channel/${good.pointer.file}`]);

    const vm = await start([{ file: stick }]);
    running = vm;
    const after = await vm.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    figures.push(`service downtime at the switch (last /healthz 200 → first 200 on the new version, incl. the power cut and the test's preparations): ${Math.round((Date.now() - switchedAt) / 1000)} s`);
    expect(after.fingerprint).toBe(fingerprint); // same certificate: the data partition came along
    // The new boot entry gets blessed (counter removed) once /healthz/join answered on the new version.
    const entries = await waitForEntry(disk, `stube_${NEW}.conf`, 240_000);
    expect(entries).toContain(`stube_${NEW}.conf`);
    expect(entries).toContain(`stube_${ctx.version}.conf`); // the old version stays as the fallback
    // Healthy includes the self-test meeting join on the new version; the agent says "updated".
    expect((await httpsGet(vm.hostPort, '/healthz/join', 30_000)).status).toBe(200);
    await waitForSerial(vm, new RegExp(`update updated from=${ctx.version.replace(/\./g, '\\.')} to=0\\.2\\.0`), Date.now() + 120_000);
  });

  it('a version that never becomes healthy (from a USB stick): after its three tries the box is back on the previous version by itself, and says so', async () => {
    const vm = running;
    if (!vm) throw new Error('the previous test left no running box');
    // After the version change the agent looks at the channel at once: the stick, with 0.3.0.
    const upAt = Date.now();
    const downAt = await waitForSwitch(vm, Date.now() + UPDATE_DEADLINE_MS);
    figures.push(`0.2.0 healthy → switch to ${BROKEN} (stick found and mounted, bundle copied and checked, slot written): ${Math.round((downAt - upAt) / 1000)} s`);
    // No power cut this time: the box restarts by itself after each failed try, then falls back. The
    // previous version's agent says what happened (its journal reaches the serial console).
    await waitForSerial(vm, /update rolled-back/, Date.now() + ROLLBACK_DEADLINE_MS);
    const back = await vm.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    figures.push(`switch to the broken ${BROKEN} → serving again on ${NEW} (three failed tries, 60 s health deadline each): ${Math.round((Date.now() - downAt) / 1000)} s`);
    expect(back.fingerprint).toBe(fingerprint);
    const tries = vm.serial().match(/this boot did not become healthy/g) ?? [];
    expect(tries.length).toBeGreaterThanOrEqual(3);
    expect((await httpsGet(vm.hostPort, '/healthz/join', 30_000)).status).toBe(200);
    await vm.powerOff();
    // systemd-boot counted the broken entry down to no tries left; the good one stays blessed.
    const entries = espEntries(disk);
    expect(entries).toContain(`stube_${NEW}.conf`);
    expect(entries.filter((e) => e.startsWith(`stube_${BROKEN}`))).toEqual([`stube_${BROKEN}+0-3.conf`]);
    // Nothing on the data partition was lost through two updates, two power cuts and a fall-back.
    const data = readDataPartition(disk, ['/marker.txt', '/update-state.json', '/stube.db']);
    expect(data['/marker.txt']).toBe(marker);
    expect(data['/stube.db']).not.toBeNull();
    // What the admin panel shows (GET /api/update reads this state): the box went back by itself.
    const state = JSON.parse(data['/update-state.json'] ?? '{}') as { lastResult?: { kind: string; from: string; to: string; message: string } };
    expect(state.lastResult).toMatchObject({ kind: 'rolled-back', from: NEW, to: BROKEN });
    expect(state.lastResult?.message).toMatch(/did not start properly.*went back to 0\.2\.0 by itself/);
  });
});
