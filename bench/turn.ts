// TURN benchmarks: time to the first remote video frame over the direct path, TURN over UDP and TURN over
// TLS (through the service's TLS front on 443), and the extra CPU (service + coturn) per participant
// relayed over TURN/TLS. Uses the hostile-network setup of the tests (Chromium in its own namespace with
// nftables rules) and checks that every run took the path it is meant to measure. Prints nothing itself.
import { readFileSync } from 'node:fs';
import type { Page } from 'puppeteer-core';
import { closeAllBrowsers, launchChromium, openParticipant, selfId, startMeeting, waitUntil, type LaunchedBrowser, type Participant } from '../test/helpers/browsers.js';
import { startHostileBox, type HostileBox, type HostileNetwork } from '../test/helpers/turn-box.js';

export interface TurnFigures {
  /** By path: join click → first decoded frame of the other participant, ms. */
  firstFrameMs: Record<'direct-udp' | 'turn-udp' | 'turn-tls', number[]>;
  /** Service + coturn CPU, % of one core, with two participants, direct and over TURN/TLS. */
  cpuDirectPct: number;
  cpuTurnTlsPct: number;
  /** (TURN/TLS − direct) / 2 participants. */
  extraCpuPerTlsParticipantPct: number;
}

async function path(page: Page): Promise<string> {
  return page.evaluate(async () => (window as unknown as { stube: { connectionPath(): Promise<string> } }).stube.connectionPath());
}

async function framesFrom(page: Page, id: string): Promise<number> {
  return page.evaluate(async (who) => {
    const stats = await (window as unknown as { stube: { getRemoteStats(): Promise<Record<string, { framesDecoded: number }>> } }).stube.getRemoteStats();
    return stats[who]?.framesDecoded ?? 0;
  }, id);
}

/** utime + stime of a process in seconds (clock ticks are 100 per second on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function withBrowser<T>(box: HostileBox, network: HostileNetwork, fn: (b: LaunchedBrowser) => Promise<T>): Promise<T> {
  box.setNetwork(network);
  const browser = await launchChromium({ executablePath: box.chromiumInNs, pipe: true, args: ['--ignore-certificate-errors'] });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

async function firstFrames(box: HostileBox, network: HostileNetwork, expected: string, runs: number): Promise<number[]> {
  return withBrowser(box, network, async (browser) => {
    const page = await browser.browser.newPage();
    const meeting = await startMeeting(page, box.url);
    await page.close();
    const ada = await openParticipant(browser, box.url, meeting, 'Ada', { joinTimeoutMs: 30_000 });
    const adaId = (await selfId(ada.page)) ?? '';
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const ben: Participant = await openParticipant(browser, box.url, meeting, `Ben ${i}`, { joinTimeoutMs: 30_000 });
      await waitUntil('the first frame', async () => (await framesFrom(ben.page, adaId)) > 0, { timeoutMs: 45_000, intervalMs: 20 });
      out.push(performance.now() - start);
      const took = await path(ben.page);
      if (took !== expected) throw new Error(`${network}: expected ${expected}, the page reported ${took}`);
      await ben.page.close();
    }
    return out;
  });
}

async function cpuWithTwo(box: HostileBox, network: HostileNetwork, seconds: number): Promise<number> {
  return withBrowser(box, network, async (browser) => {
    const page = await browser.browser.newPage();
    const meeting = await startMeeting(page, box.url);
    await page.close();
    const a = await openParticipant(browser, box.url, meeting, 'Ada', { joinTimeoutMs: 30_000 });
    const b = await openParticipant(browser, box.url, meeting, 'Ben', { joinTimeoutMs: 30_000 });
    const aId = (await selfId(a.page)) ?? '';
    await waitUntil('media', async () => (await framesFrom(b.page, aId)) > 0, { timeoutMs: 45_000 });
    await new Promise((r) => setTimeout(r, 3000)); // past the ramp-up of the simulcast layers
    const coturn = box.service.turn?.coturn?.pid ?? null;
    const c0 = coturn ? cpuSeconds(coturn) : 0;
    const s0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const s1 = process.cpuUsage(s0);
    const c1 = coturn ? cpuSeconds(coturn) : 0;
    const wall = (performance.now() - t0) / 1000;
    return (100 * ((s1.user + s1.system) / 1e6 + (c1 - c0))) / wall;
  });
}

export async function benchTurn(runs = 5, cpuSeconds = 15): Promise<TurnFigures> {
  const box = await startHostileBox();
  try {
    const firstFrameMs = {
      'direct-udp': await firstFrames(box, 'open', 'direct-udp', runs),
      'turn-udp': await firstFrames(box, 'no-direct', 'turn-udp', runs),
      'turn-tls': await firstFrames(box, 'tcp-443-only', 'turn-tls', runs),
    };
    const cpuDirectPct = await cpuWithTwo(box, 'open', cpuSeconds);
    const cpuTurnTlsPct = await cpuWithTwo(box, 'tcp-443-only', cpuSeconds);
    return { firstFrameMs, cpuDirectPct, cpuTurnTlsPct, extraCpuPerTlsParticipantPct: (cpuTurnTlsPct - cpuDirectPct) / 2 };
  } finally {
    await closeAllBrowsers();
    await box.stop();
  }
}
