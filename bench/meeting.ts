// Meeting benchmarks on this machine: join-to-first-remote-frame time (median of N joins), service and
// Janus memory with four participants, and the JavaScript a browser loads for a meeting (gzipped).
// Runs the built service (`node dist/appliance/main.js`, as on the box) with Janus in a network
// namespace, and Debian's Chromium with fake devices. Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { closeAllBrowsers, launchChromium, meetingSecretFor, openParticipant, waitUntil, type Participant } from '../test/helpers/browsers.js';
import { createNetns } from '../test/helpers/netns.js';

export interface MeetingFigures {
  joinToFirstFrameMs: number[];
  serviceRssMiB: number;
  janusRssMiB: number;
  clientJsGzipKiB: number;
  clientAllGzipKiB: number;
}

const ROOT = join(import.meta.dirname, '..');

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** The files index.html loads for a meeting page, gzipped at level 9 as a server would send them. */
export function clientSize(uiDir: string): { jsGzip: number; allGzip: number } {
  const html = readFileSync(join(uiDir, 'index.html'));
  let js = 0;
  let all = gzipSync(html, { level: 9 }).length;
  for (const m of html.toString().matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
    const body = readFileSync(join(uiDir, m[1] ?? ''));
    const gz = gzipSync(body, { level: 9 }).length;
    all += gz;
    if (m[1]?.endsWith('.js')) js += gz;
  }
  return { jsGzip: js, allGzip: all };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function childPid(parent: number, comm: string): number | null {
  for (const line of readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/)) {
    const pid = Number(line);
    if (pid && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return pid;
  }
  return null;
}

export async function benchMeeting(joins = 10): Promise<MeetingFigures> {
  const netns = createNetns('bn');
  const data = mkdtempSync(join(tmpdir(), 'stube-bench-'));
  const janusDir = mkdtempSync('/tmp/stb-');
  const port = 18000 + Math.floor(Math.random() * 1000);
  const service = spawn(process.execPath, [join(ROOT, 'dist/appliance/main.js'), '--http', `127.0.0.1:${port}`, '--data', data, '--janus-dir', janusDir, '--rtp-ports', '41000-41199'], {
    env: { ...process.env, STUBE_JANUS_WRAPPER: netns.exec.join(' '), STUBE_ICE_ENFORCE: netns.nsIf, STUBE_EVENT_LOOPS: '2' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('the service', async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, { timeoutMs: 60_000 });
    const meeting = ((await (await fetch(`${base}/api/meetings`, { method: 'POST' })).json()) as { id: string }).id;
    const browser = await launchChromium();
    const first = await openParticipant(browser, base, meeting, 'Publisher');

    // Join-to-first-remote-frame: a fresh page fills in its name, then the clock starts at the click on
    // "Join" and stops when the first video frame from the publisher has been decoded.
    const times: number[] = [];
    for (let i = 0; i < joins; i++) {
      const page = await browser.browser.newPage();
      await page.goto(`${base}/r/${meeting}#${meetingSecretFor(meeting)}`, { waitUntil: 'load' });
      await waitUntil('pre-join', () => page.evaluate(() => !!document.querySelector('input')));
      await page.evaluate(() => {
        const input = [...document.querySelectorAll('label')].find((l) => l.textContent?.includes('Your name'))?.control as HTMLInputElement | null;
        const field = input ?? document.querySelector('input');
        if (!field) throw new Error('no name field');
        field.value = 'Joiner';
        field.dispatchEvent(new Event('input', { bubbles: true }));
      });
      const ms = await page.evaluate(async () => {
        const hook = (window as unknown as { stube: { getRemoteStats(): Promise<Record<string, { framesDecoded: number }>> } }).stube;
        const join = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Join');
        if (!join) throw new Error('no Join button');
        const t0 = performance.now();
        join.click();
        for (;;) {
          const stats = await hook.getRemoteStats();
          if (Object.values(stats).some((s) => s.framesDecoded > 0)) return performance.now() - t0;
          if (performance.now() - t0 > 30_000) throw new Error('no remote frame within 30 s');
          await new Promise((r) => setTimeout(r, 10));
        }
      });
      times.push(ms);
      await page.close();
      await new Promise((r) => setTimeout(r, 500)); // let the leave settle before the next join
    }

    // Memory with four participants in the meeting.
    const others: Participant[] = [];
    for (const name of ['Two', 'Three', 'Four']) others.push(await openParticipant(browser, base, meeting, name));
    await new Promise((r) => setTimeout(r, 5000));
    const janusPid = childPid(service.pid ?? 0, 'janus');
    const figures: MeetingFigures = {
      joinToFirstFrameMs: times,
      serviceRssMiB: rssMiB(service.pid ?? 0),
      janusRssMiB: janusPid ? rssMiB(janusPid) : NaN,
      clientJsGzipKiB: clientSize(join(ROOT, 'dist/ui')).jsGzip / 1024,
      clientAllGzipKiB: clientSize(join(ROOT, 'dist/ui')).allGzip / 1024,
    };
    void first;
    return figures;
  } finally {
    await closeAllBrowsers();
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    netns.destroy();
    rmSync(data, { recursive: true, force: true });
    rmSync(janusDir, { recursive: true, force: true });
  }
}
