// From the USB stick to the internal disk, end to end, in one boot of the stick: the image boots as a
// USB stick with four virtual NVMe disks — empty, holding somebody's partition table, too small, and one
// whose writes fail inside the guest (qemu's blkdebug). In Chromium the wizard is driven through the
// install step: the failing disk is tried first and the wizard names the write error while the box keeps
// running from the stick; the person chooses again in the same page and session and installs onto the
// disk with the partition table after ticking the box that names it. The box reboots, the test pulls the
// stick and boots that disk alone, and the wizard carries on with the same setup code: "You can remove
// the USB stick now", then the next step. Prints the time the installation took under emulation and the
// bytes it wrote.
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

/** The sizes tell the disks apart on the page (all of qemu's NVMe disks share one model name). */
const EMPTY_BYTES = 16 * 1024 ** 3; // "17.2 GB"
const FAILING_BYTES = 12 * 1024 ** 3; // "12.9 GB"
const USED_BYTES = 8 * 1024 ** 3; // "8.6 GB"
/** 64 MiB into the failing disk: inside the ESP's copy, past the partition table, so the GPT is written and the copy fails. */
const FAILING_SECTOR = (64 * 1024 * 1024) / 512;

function sparse(file: string, bytes: number): string {
  writeFileSync(file, '');
  truncateSync(file, bytes);
  return file;
}

function leadingBytesZero(file: string, length: number): boolean {
  const buf = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, length, 0);
  } finally {
    closeSync(fd);
  }
  return buf.every((b) => b === 0);
}

describe('installing from the USB stick onto the internal NVMe disk', () => {
  it('names a write error and stays on the stick, then installs onto the disk with data after its confirmation, boots it without the stick and carries on', async () => {
    const stick = join(work, 'stick.img');
    await makeVmDisk(report.outputs.image, stick, 0, { kernelOptions: ['systemd.journald.forward_to_console=1'] });
    const empty = sparse(join(work, 'empty.img'), EMPTY_BYTES);
    const failing = sparse(join(work, 'failing.img'), FAILING_BYTES);
    // A disk with somebody's partition table (the data warning): the one Stube ends up on.
    const used = sparse(join(work, 'used.img'), USED_BYTES);
    execFileSync('sgdisk', ['--new=1:2048:+1G', '--typecode=1:8300', used]);
    const oldGpt = gptOf(used);
    const small = sparse(join(work, 'small.img'), 1024 ** 3);
    const vmDir = join(work, 'vm');
    mkdirSync(vmDir, { recursive: true });

    const vm1 = await Vm.start({
      disk: stick, dir: vmDir, diskBus: 'usb',
      nvme: [
        { file: empty, serial: 'STUBENVME1' }, { file: used, serial: 'USEDDISK2' }, { file: small, serial: 'SMALLDISK3' },
        { file: failing, serial: 'FAILDISK4', failWritesAtSector: FAILING_SECTOR },
      ],
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
    // Survives only as long as this page is not reloaded.
    await page.evaluate(() => void ((window as unknown as { stubeSamePage?: string }).stubeSamePage = 'yes'));

    // The install step: four NVMe disks, the stick not among them.
    await page.waitForSelector('.install-disk', { timeout: 180_000 });
    const disks = await page.$$eval('.install-disk', (els) => els.map((e) => ({ name: e.getAttribute('data-disk') ?? '', refused: e.getAttribute('data-refused'), text: e.textContent ?? '', warned: e.querySelector('[data-warning="data"]') !== null })));
    expect(disks.map((d) => d.name).sort()).toEqual(['nvme0n1', 'nvme1n1', 'nvme2n1', 'nvme3n1']);
    const refused = disks.filter((d) => d.refused === 'tooSmall');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.text).toMatch(/Too small: Stube needs at least/);
    const bySize = (size: string) => {
      const found = disks.filter((d) => d.refused === '' && d.text.includes(size));
      expect(found, `${size} in ${JSON.stringify(disks)}`).toHaveLength(1);
      return found[0] as (typeof disks)[number];
    };
    const emptyDisk = bySize('17.2 GB');
    const failingDisk = bySize('12.9 GB');
    const usedDisk = bySize('8.6 GB');
    // Only the disk with a partition table is warned about; the empty ones are offered plainly.
    expect(disks.filter((d) => d.warned).map((d) => d.name)).toEqual([usedDisk.name]);
    expect(emptyDisk.warned || failingDisk.warned).toBe(false);

    const submit = 'form button[type="submit"]';
    const submitDisabled = () => page.$eval(submit, (b) => (b as HTMLButtonElement).disabled);
    const choose = async (name: string): Promise<string> => {
      await page.click(`.install-disk[data-disk="${name}"] input[type="radio"]`);
      // Choosing a disk always asks for its own tick: the button waits for it.
      expect(await page.$eval('#install-confirm', (c) => (c as HTMLInputElement).checked)).toBe(false);
      expect(await submitDisabled()).toBe(true);
      return page.$eval('label:has(#install-confirm)', (l) => l.textContent ?? '');
    };
    // The disk with data: its warning, and no install without the named confirmation.
    expect(await choose(usedDisk.name)).toMatch(/Erase “.+” and install Stube on it/);

    // 1. The failing disk: chosen, ticked, installed onto; the copy meets the write error.
    expect(await choose(failingDisk.name)).toMatch(/Erase “.+” and install Stube on it/);
    await page.click('#install-confirm');
    expect(await submitDisabled()).toBe(false);
    const failStarted = Date.now();
    await page.click(submit);
    const failedEnd = await page.waitForSelector('[data-install="rebooting"], [data-install="failed"]', { timeout: 30 * 60_000 });
    const failSeconds = Math.round((Date.now() - failStarted) / 1000);
    expect(await failedEnd?.evaluate((e) => e.getAttribute('data-install')), vm1.serialTail(80)).toBe('failed');
    const alert = await page.$eval('[data-install="failed"] [role="alert"]', (e) => ({ failure: e.getAttribute('data-failure'), text: e.textContent ?? '' }));
    expect(alert.failure).toBe('writeError');
    expect(alert.text).toContain('The disk refused to be written: it may be faulty or write-protected.');
    expect(alert.text).toContain('Nothing changed on the USB stick: the box keeps running from it.');
    // The box still runs from the stick: it answers, and it never restarted.
    await vm1.waitForHttps('/healthz', Date.now() + 120_000);
    expect(vm1.running).toBe(true);
    expect(vm1.serial()).not.toMatch(/reboot: Restarting system/);
    console.log(`[install] the failing disk's write error was named ${failSeconds} s after "Install"`);

    // Choose again in the same page and session: no reload, no code.
    await page.click('[data-action="retry"]');
    await page.waitForSelector('.install-disk', { timeout: 120_000 });
    expect(await page.evaluate(() => (window as unknown as { stubeSamePage?: string }).stubeSamePage)).toBe('yes');
    expect(await page.$('#setup-code')).toBeNull();
    expect(await page.$$eval('.install-disk', (els) => els.length)).toBe(4);
    // The failed disk's half-written table was removed: nothing on it warns now.
    expect(await page.$$eval('.install-disk [data-warning="data"]', (els) => els.map((e) => e.closest('.install-disk')?.getAttribute('data-disk')))).toEqual([usedDisk.name]);

    // 2. The disk with data: only after the tick that names it.
    expect(await choose(usedDisk.name)).toMatch(/Erase “.+” and install Stube on it/);
    await page.click('#install-confirm');
    expect(await submitDisabled()).toBe(false);
    const started = Date.now();
    await page.click(submit);
    await page.waitForSelector('#install-bar', { timeout: 120_000 });
    const end = await page.waitForSelector('[data-install="rebooting"], [data-install="failed"]', { timeout: 30 * 60_000 });
    const installSeconds = Math.round((Date.now() - started) / 1000);
    const barText = (await end?.evaluate((e) => `${e.getAttribute('data-install')}: ${e.textContent ?? ''}`)) ?? '';
    expect(barText, vm1.serialTail(80)).toMatch(/^rebooting: /);

    // The box restarts: once the kernel says so, pull the stick and boot the installed disk alone, with
    // the firmware's variables (the new boot entry) and the same forwarded port, so the open page carries on.
    await waitSerial(vm1, /reboot: Restarting system/, 300_000);
    await vm1.powerOff();
    const gpt = gptOf(used);
    const stickGpt = gptOf(stick);
    expect(gpt.entries.map((e) => e.name)).toEqual(['stube-esp', `stube_${ctx.version}`, '_empty', 'stube-data']);
    // Somebody's old table is gone: Stube's layout with fresh identifiers, none of the stick's.
    expect(gpt.diskGuid).not.toBe(oldGpt.diskGuid);
    expect(gpt.diskGuid).not.toBe(stickGpt.diskGuid);
    for (const e of gpt.entries) {
      expect(stickGpt.entries.map((s) => s.partUuid)).not.toContain(e.partUuid);
      expect(oldGpt.entries.map((s) => s.partUuid)).not.toContain(e.partUuid);
    }
    const data = gpt.entries[3];
    expect(data && gpt.lastUsableLba - data.lastLba).toBeLessThan(2048);
    // The failing disk keeps no table the firmware could try; the empty disk was never written.
    expect(() => gptOf(failing)).toThrow(/no GPT/);
    expect(leadingBytesZero(empty, 1024 * 1024)).toBe(true);
    const written = gpt.entries.slice(0, 2).reduce((n, e) => n + (e.lastLba - e.firstLba + 1) * 512, 0);
    console.log(`[install] installation under ${vm1.accel}: ${installSeconds} s from "Install" to the reboot; partitions copied ${(written / 1e9).toFixed(2)} GB plus the data partition's files; the wizard showed: ${barText.trim()}`);

    const vm2 = await Vm.start({ disk: used, dir: vmDir, diskBus: 'nvme', diskSerial: 'USEDDISK2', hostPort: vm1.hostPort });
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
    // It runs from the installed disk: the data partition mounted is that disk's.
    expect(vm2.serialTail(100_000)).not.toMatch(/Dependency failed for .*var-lib-stube\.mount/);
  });
});
