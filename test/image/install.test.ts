// From the USB stick to the internal disk, end to end: the image boots as a USB stick with an empty
// virtual NVMe disk (plus one that holds a partition table and one too small), the wizard is driven in
// Chromium through the install step, the box reboots, the test pulls the stick and boots the NVMe disk
// alone, and the wizard carries on with the same setup code: "You can remove the USB stick now", then
// the next step. Prints the time the installation took under emulation and the bytes it wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { parseGpt } from '../../image/plan/gpt.js';
import { buildImage, contextFor, type BuildReport } from '../../image/pipeline.js';
import type { BuildContext } from '../../image/context.js';
import { makeVmDisk } from '../../image/vm/disk.js';
import { Vm } from '../../image/vm/machine.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const configFile = join(repo, 'image/configs/debian-13-amd64.json');
const BOOT_DEADLINE_MS = 15 * 60_000;
const NVME_BYTES = 16 * 1024 ** 3;

let ctx: BuildContext;
let report: BuildReport;
let work: string;
let browser: Browser | null = null;
const vms: Vm[] = [];

function gptOf(file: string) {
  const buf = Buffer.alloc(34 * 512);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  return parseGpt(buf);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitSerial(vm: Vm, re: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = re.exec(vm.serial());
    if (m) return m[1] ?? m[0];
    await sleep(1000);
  }
  throw new Error(`${re} not on the serial console; its end:\n${vm.serialTail(60)}`);
}

beforeAll(async () => {
  ctx = contextFor({ repo, configFile, log: () => {} });
  report = await buildImage({ repo, configFile, log: (m) => console.log(`[install] ${m}`) });
  work = mkdtempSync(join(ctx.paths.work, 'install-test-'));
});

afterAll(async () => {
  await browser?.close();
  for (const vm of vms) await vm.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('installing from the USB stick onto the internal NVMe disk', () => {
  it('installs through the wizard, boots from the NVMe disk without the stick and carries on', async () => {
    const stick = join(work, 'stick.img');
    await makeVmDisk(report.outputs.image, stick, 0, { kernelOptions: ['systemd.journald.forward_to_console=1'] });
    const nvme = join(work, 'nvme.img');
    writeFileSync(nvme, '');
    truncateSync(nvme, NVME_BYTES);
    // A disk with somebody's partition table (the data warning) and one too small for Stube.
    const used = join(work, 'used.img');
    writeFileSync(used, '');
    truncateSync(used, 8 * 1024 ** 3);
    execFileSync('sgdisk', ['--new=1:2048:+1G', '--typecode=1:8300', used]);
    const small = join(work, 'small.img');
    writeFileSync(small, '');
    truncateSync(small, 1024 ** 3);
    const vmDir = join(work, 'vm');
    mkdirSync(vmDir, { recursive: true });

    const vm1 = await Vm.start({
      disk: stick, dir: vmDir, diskBus: 'usb',
      nvme: [{ file: nvme, serial: 'STUBENVME1' }, { file: used, serial: 'USEDDISK2' }, { file: small, serial: 'SMALLDISK3' }],
    });
    vms.push(vm1);
    await vm1.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    const code = await waitSerial(vm1, /Setup code: ([A-Z0-9]{5}-[A-Z0-9]{5})/, 300_000);
    await vm1.waitForHttps('/setup', Date.now() + 120_000);

    // The install step waits minutes for one selector: raise puppeteer's 180 s limit per protocol call.
    browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, protocolTimeout: 40 * 60_000, args: ['--no-sandbox', '--ignore-certificate-errors', '--lang=en-US'] });
    const page: Page = await browser.newPage();
    await page.goto(`https://127.0.0.1:${vm1.hostPort}/setup`, { waitUntil: 'load', timeout: 120_000 });
    await page.waitForSelector('#setup-code', { timeout: 60_000 });
    await page.type('#setup-code', code);
    await page.keyboard.press('Enter');

    // The install step: three NVMe disks, the stick not among them.
    await page.waitForSelector('.install-disk', { timeout: 180_000 });
    const disks = await page.$$eval('.install-disk', (els) => els.map((e) => ({ name: e.getAttribute('data-disk'), refused: e.getAttribute('data-refused'), text: e.textContent ?? '' })));
    expect(disks.map((d) => d.name).sort()).toEqual(['nvme0n1', 'nvme1n1', 'nvme2n1']);
    const refused = disks.filter((d) => d.refused === 'tooSmall');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.text).toMatch(/Too small: Stube needs at least/);
    const warned = await page.$$eval('.install-disk [data-warning="data"]', (els) => els.map((e) => e.closest('.install-disk')?.getAttribute('data-disk')));
    expect(warned).toHaveLength(1);

    // The disk with data: its warning, and no install without the named confirmation.
    await page.click(`.install-disk[data-disk="${warned[0]}"] input[type="radio"]`);
    const submit = 'form button[type="submit"]';
    expect(await page.$eval(submit, (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    // The empty disk: choose it, tick the box that names it, install.
    const empty = disks.find((d) => d.refused === '' && d.name !== warned[0]);
    if (!empty?.name) throw new Error('no empty disk offered');
    await page.click(`.install-disk[data-disk="${empty.name}"] input[type="radio"]`);
    expect(await page.$eval('label:has(#install-confirm)', (l) => l.textContent ?? '')).toMatch(/Erase “.+” and install Stube on it/);
    await page.click('#install-confirm');
    expect(await page.$eval(submit, (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    const started = Date.now();
    await page.click(submit);
    await page.waitForSelector('#install-bar', { timeout: 120_000 });
    const end = await page.waitForSelector('[data-install="rebooting"], [data-install="failed"]', { timeout: 30 * 60_000 });
    const installSeconds = Math.round((Date.now() - started) / 1000);
    const barText = (await end?.evaluate((e) => `${e.getAttribute('data-install')}: ${e.textContent ?? ''}`)) ?? '';
    expect(barText, vm1.serialTail(80)).toMatch(/^rebooting: /);

    // The box restarts: once the kernel says so, pull the stick and boot the NVMe disk alone, with the
    // firmware's variables (the new boot entry) and the same forwarded port, so the open page carries on.
    await waitSerial(vm1, /reboot: Restarting system/, 300_000);
    await vm1.powerOff();
    const gpt = gptOf(nvme);
    const stickGpt = gptOf(stick);
    expect(gpt.entries.map((e) => e.name)).toEqual(['stube-esp', `stube_${ctx.version}`, '_empty', 'stube-data']);
    for (const e of gpt.entries) expect(stickGpt.entries.map((s) => s.partUuid)).not.toContain(e.partUuid);
    const data = gpt.entries[3];
    expect(data && gpt.lastUsableLba - data.lastLba).toBeLessThan(2048);
    const written = gpt.entries.slice(0, 2).reduce((n, e) => n + (e.lastLba - e.firstLba + 1) * 512, 0);
    console.log(`[install] installation under ${vm1.accel}: ${installSeconds} s from "Install" to the reboot; partitions copied ${(written / 1e9).toFixed(2)} GB plus the data partition's files; the wizard showed: ${barText.trim()}`);

    const vm2 = await Vm.start({ disk: nvme, dir: vmDir, diskBus: 'nvme', diskSerial: 'STUBENVME1', hostPort: vm1.hostPort });
    vms.push(vm2);
    await vm2.waitForHttps('/healthz', Date.now() + BOOT_DEADLINE_MS);
    // The same code, and the console says the stick can go.
    expect(await waitSerial(vm2, /Setup code: ([A-Z0-9]{5}-[A-Z0-9]{5})/, 300_000)).toBe(code);
    await waitSerial(vm2, /You can remove the USB stick now/, 60_000);
    await page.waitForSelector('[data-install="installed"]', { timeout: 10 * 60_000 });
    expect(await page.$eval('[data-install="installed"]', (e) => e.textContent ?? '')).toContain('You can remove the USB stick now');
    await page.click('[data-install="installed"] ~ button');
    const overall = await page.waitForSelector('[data-overall]', { timeout: 180_000 });
    expect(['green', 'amber', 'red']).toContain(await overall?.evaluate((e) => e.getAttribute('data-overall')));
    // It runs from the NVMe disk: the data partition mounted is the NVMe's.
    expect(vm2.serialTail(100_000)).not.toMatch(/Dependency failed for .*var-lib-stube\.mount/);
  });
});
