// End-to-end encryption figures: SFrame encrypt and decrypt time per 720p-sized frame inside the real
// transform worker (Chromium and Firefox ESR), and whether 720p30 holds with four participants in an
// encrypted meeting (three Chromium pages and one Firefox page, real Janus in a network namespace).
// Prints figures; asserts nothing. Run through `npm run bench` (after `npm run build`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { closeAllBrowsers, launchChromium, launchFirefox, openParticipant, publishStats, remoteStats, waitUntil, type LaunchedBrowser } from '../test/helpers/browsers.js';
import { createNetns } from '../test/helpers/netns.js';

const ROOT = join(import.meta.dirname, '..');

export interface CryptoFigure {
  browser: string;
  frameBytes: number;
  encryptMs: number;
  decryptMs: number;
}

export interface E2eeFigures {
  crypto: CryptoFigure[];
  /** Per page: the top simulcast layer it sends and the frame rate it decodes each other participant at. */
  meeting: { name: string; sentTop: string; received: string }[];
}

/** Sizes of a VP8 720p delta frame at about 2 Mbit/s and 30 fps, and of a keyframe. */
const FRAME_SIZES = [8_000, 60_000];
const FRAMES = 300;

async function workerTimes(page: Page, workerPath: string, size: number): Promise<{ encryptMsPerFrame: number; decryptMsPerFrame: number }> {
  return page.evaluate(
    (path: string, frames: number, bytes: number) =>
      new Promise<{ encryptMsPerFrame: number; decryptMsPerFrame: number }>((resolve, reject) => {
        const w = new Worker(path, { type: 'module' });
        let round = 0;
        w.onmessage = (ev: MessageEvent<{ type: string; encryptMsPerFrame: number; decryptMsPerFrame: number }>) => {
          if (ev.data.type !== 'bench') return;
          // The first round warms up the JIT; the second is the figure.
          if (round++ === 0) {
            w.postMessage({ type: 'bench', frames, size: bytes });
            return;
          }
          w.terminate();
          resolve(ev.data);
        };
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage({ type: 'bench', frames: 30, size: bytes });
      }),
    workerPath,
    FRAMES,
    size,
  );
}

export async function benchE2ee(): Promise<E2eeFigures> {
  const worker = readdirSync(join(ROOT, 'dist/ui/assets')).find((f) => /^worker-.*\.js$/.test(f));
  if (!worker) throw new Error('dist/ui has no E2EE worker; run npm run build');
  const netns = createNetns('be');
  const data = mkdtempSync(join(tmpdir(), 'stube-bench-'));
  const janusDir = mkdtempSync('/tmp/stb-');
  const port = 19000 + Math.floor(Math.random() * 1000);
  const service = spawn(process.execPath, [join(ROOT, 'dist/appliance/main.js'), '--http', `127.0.0.1:${port}`, '--data', data, '--janus-dir', janusDir, '--rtp-ports', '41200-41399'], {
    env: { ...process.env, STUBE_JANUS_WRAPPER: netns.exec.join(' '), STUBE_ICE_ENFORCE: netns.nsIf, STUBE_EVENT_LOOPS: '2' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('the service', async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, { timeoutMs: 60_000 });
    const chromium = await launchChromium({ args: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding'] });
    const firefox = await launchFirefox();
    const cryptoFigures: CryptoFigure[] = [];
    for (const b of [chromium, firefox] as LaunchedBrowser[]) {
      const page = await b.browser.newPage();
      await page.goto(`${base}/`, { waitUntil: 'load' });
      for (const size of FRAME_SIZES) {
        const t = await workerTimes(page, `/assets/${worker}`, size);
        cryptoFigures.push({ browser: b.kind, frameBytes: size, encryptMs: t.encryptMsPerFrame, decryptMs: t.decryptMsPerFrame });
      }
      await page.close();
    }

    // STUBE_BENCH_E2EE_MEETING=0 measures only the worker (the four-browser meeting takes a minute).
    if (process.env.STUBE_BENCH_E2EE_MEETING === '0') return { crypto: cryptoFigures, meeting: [] };
    const meeting = ((await (await fetch(`${base}/api/meetings`, { method: 'POST' })).json()) as { id: string }).id;
    const people = [];
    for (const [b, name] of [[chromium, 'One'], [chromium, 'Two'], [chromium, 'Three'], [firefox, 'Four']] as const) {
      people.push(await openParticipant(b, base, meeting, name, { joinTimeoutMs: 40_000 }));
    }
    // Let bandwidth estimation and layer choice settle, then measure over 10 s.
    await new Promise((r) => setTimeout(r, 20_000));
    const before = await Promise.all(people.map(async (p) => ({ recv: await remoteStats(p.page), sent: await publishStats(p.page), t: Date.now() })));
    await new Promise((r) => setTimeout(r, 10_000));
    const after = await Promise.all(people.map(async (p) => ({ recv: await remoteStats(p.page), sent: await publishStats(p.page), t: Date.now() })));
    const meetingFigures = people.map((p, i) => {
      const b = before[i]!;
      const a = after[i]!;
      const s = (a.t - b.t) / 1000;
      const top = [...a.sent].sort((x, y) => y.width - x.width)[0];
      const topBefore = b.sent.find((l) => l.rid === top?.rid);
      const sentTop = top ? `${top.width}×${top.height} @ ${((top.framesEncoded - (topBefore?.framesEncoded ?? 0)) / s).toFixed(1)} fps (${top.qualityLimitationReason})` : 'nothing';
      const received = Object.entries(a.recv)
        .map(([id, r]) => `${r.name} ${r.frameWidth}×${r.frameHeight} @ ${((r.framesDecoded - (b.recv[id]?.framesDecoded ?? 0)) / s).toFixed(1)} fps`)
        .join('; ');
      return { name: p.name, sentTop, received };
    });
    return { crypto: cryptoFigures, meeting: meetingFigures };
  } finally {
    await closeAllBrowsers();
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    netns.destroy();
    rmSync(data, { recursive: true, force: true });
    rmSync(janusDir, { recursive: true, force: true });
  }
}
