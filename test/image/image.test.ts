// The image, end to end: build it (from the caches outside the repository when they are warm), check its
// disk layout and root slot, boot it under qemu (software emulation when KVM is not usable), reach the
// service through the forwarded port, open the start page in Chromium, pull the plug, boot again.
// One file with ordered steps: the image is built once and shared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { parseGpt, type Gpt } from '../../image/plan/gpt.js';
import { applianceFacts, systemFiles } from '../../image/plan/files.js';
import { PARTITION_TYPES, partitionOf } from '../../image/plan/partitions.js';
import { buildImage, contextFor, type BuildReport } from '../../image/pipeline.js';
import { renderTemplate } from '../../image/templates.js';
import type { BuildContext } from '../../image/context.js';
import { makeVmDisk } from '../../image/vm/disk.js';
import { Vm, type HealthAnswer } from '../../image/vm/machine.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const configFile = join(repo, 'image/configs/debian-13-amd64.json');
const BOOT_DEADLINE_MS = 20 * 60_000;
const GROW_BYTES = 1024 ** 3;

let ctx: BuildContext;
let report: BuildReport;
let work: string;
let slotDump: string;
const vms: Vm[] = [];

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

/** Copies one partition out of a disk image (sparse) so e2fsprogs and mtools can read it. */
function extractPartition(disk: string, gpt: Gpt, number: number, out: string): void {
  const e = gpt.entries.find((x) => x.number === number);
  if (!e) throw new Error(`no partition ${number}`);
  execFileSync('dd', [`if=${disk}`, `of=${out}`, 'bs=1M', `skip=${e.firstLba * 512}`, `count=${(e.lastLba - e.firstLba + 1) * 512}`,
    'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
}

/** Names of the boot entries on a disk's ESP, one per line. */
function espEntries(disk: string): string {
  const gpt = parseGpt(readHead(disk, 34 * 512));
  const esp = `${disk}.esp`;
  extractPartition(disk, gpt, 1, esp);
  try {
    const out = execFileSync('mdir', ['-b', '-i', esp, '::/loader/entries'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    return out.split('\n').map((l) => l.replace(/^.*\//, '')).join('\n');
  } finally {
    rmSync(esp, { force: true });
  }
}

function debugfs(fsImage: string, request: string): string {
  return execFileSync('debugfs', ['-R', request, fsImage], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

async function startVm(disk: string, name: string): Promise<Vm> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const vm = await Vm.start({ disk, dir });
  vms.push(vm);
  return vm;
}

beforeAll(async () => {
  ctx = contextFor({ repo, configFile, log: () => {} });
  report = await buildImage({ repo, configFile, log: (m) => console.log(`[image] ${m}`) });
  work = mkdtempSync(join(ctx.paths.work, 'image-test-'));
});

afterAll(async () => {
  for (const vm of vms) await vm.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the built image', () => {
  it('has the outputs: raw image, compressed copy, SHA256SUMS, manifest with package versions', () => {
    const o = report.outputs;
    for (const f of [o.image, o.compressed, o.sums, o.manifest]) expect(existsSync(f), f).toBe(true);
    const sums = readFileSync(o.sums, 'utf8');
    expect(sums).toContain(`  ${ctx.imageName}.img\n`);
    expect(sums).toContain(`  ${ctx.imageName}.img.zst\n`);
    const manifest = JSON.parse(readFileSync(o.manifest, 'utf8')) as { debian: { name: string; version: string }[]; node: { version: string } };
    const versions = new Map(manifest.debian.map((p) => [p.name, p.version]));
    expect(versions.get('janus')).toMatch(/^1\.4\.1\+ds-4~stube/);
    expect(versions.get('coturn')).toBe('4.18.0-1');
    expect(versions.get('systemd-boot-efi')).toMatch(/^257\./);
    expect(manifest.node.version).toMatch(/^24\./);
  });

  it('has the GPT the partition plan describes: ESP, root A, root B, data', () => {
    const gpt = parseGpt(readHead(report.outputs.image, 34 * 512));
    expect(gpt.diskGuid).toBe(ctx.plan.diskGuid);
    // systemd-sysupdate's naming: slot A carries its version, slot B is empty until the first update.
    expect(gpt.entries.map((e) => e.name)).toEqual(['stube-esp', `stube_${ctx.version}`, '_empty', 'stube-data']);
    expect(gpt.entries.map((e) => e.typeGuid)).toEqual([PARTITION_TYPES.esp, PARTITION_TYPES.rootX86_64, PARTITION_TYPES.rootX86_64, PARTITION_TYPES.linuxGeneric]);
    for (const p of ctx.plan.partitions) {
      const e = gpt.entries[p.number - 1];
      expect([e?.firstLba, e?.lastLba, e?.partUuid]).toEqual([p.firstLba, p.lastLba, p.partUuid]);
    }
    expect(statSync(report.outputs.image).size).toBe(ctx.plan.diskBytes);
  });

  it('boots slot A through systemd-boot with a boot counter, its kernel under its version', () => {
    const gpt = parseGpt(readHead(report.outputs.image, 34 * 512));
    const esp = join(work, 'esp.img');
    extractPartition(report.outputs.image, gpt, 1, esp);
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    const entries = execFileSync('mdir', ['-b', '-i', esp, '::/loader/entries'], { encoding: 'utf8', env });
    expect(entries).toContain(`stube_${ctx.version}+3.conf`);
    const entry = execFileSync('mtype', ['-i', esp, `::/loader/entries/stube_${ctx.version}+3.conf`], { encoding: 'utf8', env });
    expect(entry).toContain(`linux      /stube/stube_${ctx.version}.vmlinuz`);
    expect(entry).toContain(`root=PARTUUID=${partitionOf(ctx.plan, 'root-a').partUuid.toLowerCase()} `);
    const boot = execFileSync('mdir', ['-b', '-i', esp, '::/EFI/BOOT'], { encoding: 'utf8', env });
    expect(boot.toUpperCase()).toContain('BOOTX64.EFI');
    rmSync(esp);
  });

  it('has the service, its runtime, and configs from our templates in root slot A, and no default secrets', () => {
    const gpt = parseGpt(readHead(report.outputs.image, 34 * 512));
    const root = join(work, 'root-a.img');
    extractPartition(report.outputs.image, gpt, 2, root);
    slotDump = join(work, 'slot');
    mkdirSync(slotDump);
    for (const dir of ['/etc', '/usr/lib/stube', '/usr/lib/repart.d']) {
      mkdirSync(join(slotDump, dir, '..'), { recursive: true });
      debugfs(root, `rdump ${dir} ${join(slotDump, dir, '..')}`);
    }
    const stat = (path: string): string => debugfs(root, `stat ${path}`);
    expect(stat('/opt/stube/app/dist/appliance/main.js')).toMatch(/Type: regular/);
    expect(stat('/opt/stube/app/dist/appliance/cli/janus-run.js')).toMatch(/Type: regular/);
    expect(stat('/opt/stube/app/node_modules/hono/package.json')).toMatch(/Type: regular/);
    expect(debugfs(root, 'ls /opt/stube/app/templates/janus')).toMatch(/\.ejs/);
    expect(debugfs(root, 'ls /opt/stube/app/node_modules')).not.toMatch(/\bvitest\b/);
    expect(stat('/opt/stube/node/bin/node')).toMatch(/Mode: +0755/);
    expect(stat('/usr/bin/janus')).toMatch(/Type: regular/);
    expect(stat('/usr/bin/turnserver')).toMatch(/Type: regular/);
    rmSync(root);

    // Every system file is exactly what our templates render.
    const facts = applianceFacts(ctx.config, ctx.version);
    for (const f of systemFiles(ctx.config, facts, ctx.plan).filter((x) => x.target === 'root' && /^\/(etc|usr\/lib\/(stube|repart\.d))\//.test(x.path))) {
      expect(readFileSync(join(slotDump, f.path), 'utf8'), f.path).toBe(renderTemplate(join(repo, 'templates'), f.template, f.data));
    }
    // Package samples with well-known secrets are gone; nothing secret is baked in.
    expect(existsSync(join(slotDump, 'etc/janus'))).toBe(false);
    expect(existsSync(join(slotDump, 'etc/turnserver.conf'))).toBe(false);
    expect(readFileSync(join(slotDump, 'etc/machine-id'), 'utf8')).toBe('');
    const grep = (pattern: string): string => {
      try {
        return execFileSync('grep', ['-rlE', pattern, slotDump], { encoding: 'utf8' });
      } catch {
        return '';
      }
    };
    expect(grep('janusoverlord|adminpwd|static-auth-secret=[^$]')).toBe('');
    expect(grep('BEGIN [A-Z ]*PRIVATE KEY')).toBe('');
    const shadow = readFileSync(join(slotDump, 'etc/shadow'), 'utf8');
    for (const line of shadow.split('\n').filter(Boolean)) expect(line.split(':')[1], line).toMatch(/^[*!]/);
    expect(readFileSync(join(slotDump, 'etc/passwd'), 'utf8')).toMatch(/^stube:x:800:800:/m);
  });
});

describe('the image in a VM', () => {
  let disk: string;
  let first: HealthAnswer;

  it('boots, shows where to continue, answers GET /healthz through the forwarded port, and blesses the boot', async () => {
    disk = join(work, 'disk.img');
    // The journal goes to the serial console too, so a failure shows its cause in the test output.
    await makeVmDisk(report.outputs.image, disk, GROW_BYTES, { kernelOptions: ['systemd.journald.forward_to_console=1'] });
    const vm = await startVm(disk, 'boot1');
    first = await vm.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    console.log(`[image] first boot (${vm.accel}, journal on the serial console): /healthz answered 200 after ${Math.round((Date.now() - vm.startedAt) / 1000)} s`);
    expect(first.fingerprint).toMatch(/^[0-9A-F:]+$/);
    const deadline = Date.now() + 120_000;
    while (!/Continue in a browser on the same network: https:\/\/\d+\.\d+\.\d+\.\d+\//.test(vm.serial()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(vm.serial()).toMatch(/Continue in a browser on the same network: https:\/\/\d+\.\d+\.\d+\.\d+\//);
    expect(vm.serial()).toContain('https://stube.local/');

    // Boot assessment: once /healthz answered, systemd-bless-boot drops the counter from the entry's name.
    const blessDeadline = Date.now() + 180_000;
    let entries = '';
    while (Date.now() < blessDeadline) {
      entries = espEntries(disk);
      if (entries.split('\n').includes(`stube_${ctx.version}.conf`)) break;
      await new Promise((r) => setTimeout(r, 5000));
    }
    expect(entries.split('\n')).toContain(`stube_${ctx.version}.conf`);

    // Janus and coturn came up and stayed up (the journal is on the serial console in this test).
    const serial = vm.serialTail(100_000);
    expect(serial).toMatch(/Started stube-janus\.service/);
    expect(serial).toMatch(/Started stube-turn\.service/);
    expect(serial).not.toMatch(/stube-(janus|turn|tls-selfsigned|healthy)\.service: (Main process exited|Failed)/);
  });

  it('opens the setup wizard: the console shows this boot\'s code, the box\'s address leads to it, the code opens it', async () => {
    const vm = vms.at(-1);
    if (!vm) throw new Error('no VM');
    const codeLine = /Setup code: ([A-Z0-9]{5}-[A-Z0-9]{5})/;
    const deadline = Date.now() + 180_000;
    while (!codeLine.test(vm.serial()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    const code = codeLine.exec(vm.serial())?.[1];
    expect(code, vm.serialTail(60)).toBeDefined();
    // Boot to the wizard: the VM's start until the wizard's page and the code are both there.
    const wizardPage = await vm.waitForHttps('/setup', Date.now() + 60_000);
    console.log(`[image] first boot to the setup wizard (${vm.accel}): ${Math.round((Date.now() - vm.startedAt) / 1000)} s`);
    expect(wizardPage.body).toContain('<title>Stube setup</title>');
    // The privileged helper runs beside the service (its socket is for the service's group only).
    expect(vm.serialTail(100_000)).toMatch(/Started stube-system\.service/);
    expect(vm.serialTail(100_000)).not.toMatch(/stube-system\.service: (Main process exited|Failed)/);

    const browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--ignore-certificate-errors', '--lang=en-US'],
    });
    try {
      const page = await browser.newPage();
      // The console names only the address: it leads to the wizard until setup is done.
      const res = await page.goto(`https://127.0.0.1:${vm.hostPort}/`, { waitUntil: 'load', timeout: 120_000 });
      expect(res?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe('/setup');
      expect(await page.title()).toBe('Stube setup');
      await page.waitForSelector('#setup-code', { timeout: 60_000 });
      await page.type('#setup-code', 'WRONG-CODE1', { delay: 0 });
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => /code/i.test(document.querySelector('[role="alert"]')?.textContent ?? ''), { timeout: 60_000 });
      await page.$eval('#setup-code', (e) => ((e as HTMLInputElement).value = ''));
      await page.type('#setup-code', code ?? '', { delay: 0 });
      await page.keyboard.press('Enter');
      // The hardware check ran on the box (systeminformation inside the VM) and is shown with its verdict.
      const overall = await page.waitForSelector('[data-overall]', { timeout: 120_000 });
      expect(['green', 'amber', 'red']).toContain(await overall?.evaluate((e) => e.getAttribute('data-overall')));
    } finally {
      await browser.close();
    }
  });

  it('survives a hard power-off: boots again with the same data (certificate) on a grown data partition', async () => {
    const vm1 = vms.at(-1);
    if (!vm1) throw new Error('no VM');
    await vm1.powerOff();
    const vm2 = await startVm(disk, 'boot2');
    const second = await vm2.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    console.log(`[image] second boot: /healthz answered 200 after ${Math.round((Date.now() - vm2.startedAt) / 1000)} s`);
    expect(second.fingerprint).toBe(first.fingerprint);
    await vm2.powerOff();

    const gpt = parseGpt(readHead(disk, 34 * 512));
    const data = gpt.entries.find((e) => e.name === 'stube-data');
    if (!data) throw new Error('no data partition');
    // systemd-repart moved the backup GPT to the new end and grew the data partition into the space.
    expect(gpt.alternateLba).toBe(statSync(disk).size / 512 - 1);
    expect(data.lastLba).toBeGreaterThan(partitionOf(ctx.plan, 'data').lastLba + (GROW_BYTES / 512) * 0.9);
    const dataImg = join(work, 'data.img');
    extractPartition(disk, gpt, data.number, dataImg);
    // The copy's journal is replayed as the box would on its next boot; 0 or 1 means a consistent file system.
    const fsck = spawnSync('e2fsck', ['-f', '-y', dataImg], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout).toBeLessThanOrEqual(1);
    const blocks = /Block count: +(\d+)/.exec(execFileSync('dumpe2fs', ['-h', dataImg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1];
    // Online resizing stops at a block-group boundary, so the file system ends within a few MiB of the partition.
    const partBytes = (data.lastLba - data.firstLba + 1) * 512;
    expect(Number(blocks) * 4096).toBeGreaterThan(partBytes - 8 * 1024 ** 2);
    expect(Number(blocks) * 4096).toBeGreaterThan(partitionOf(ctx.plan, 'data').sizeBytes + GROW_BYTES * 0.9);
    expect(debugfs(dataImg, 'stat /tls/cert.pem')).toMatch(/Type: regular/);
    expect(debugfs(dataImg, 'stat /secrets/janus.json')).toMatch(/Type: regular/);
    rmSync(dataImg);
    expect(readdirSync(work).length).toBeGreaterThan(0);
  });
});
