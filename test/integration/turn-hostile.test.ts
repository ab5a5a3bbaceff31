// Hostile networks, built with network namespaces and nftables: Chromium and Firefox ESR (fake media) sit
// in a namespace of their own whose firewall allows everything, no UDP, or only TCP to port 443. One
// person joins from each browser; each must receive the other's video and audio, and each page must
// report the path its media took. The browsers reach the box by a name; its certificate comes from a CA
// made by the test and trusted in Firefox's profile, so Firefox can use TURN over TLS (it checks the TURN
// server's certificate, and ignores turns: given by address). Chromium is driven over a pipe, so its
// debugging channel needs no network.
// Firefox ESR speaks WebDriver BiDi only over a WebSocket on its own loopback: it runs in the namespace
// and the host reaches that port through a forwarder (helpers/turn-box.ts).
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllBrowsers,
  launchChromium,
  openParticipant,
  remoteStats,
  selfId,
  startMeeting,
  waitForMediaFrom,
  waitUntil,
} from '../helpers/browsers.js';
import { closeNsFirefoxes, launchFirefoxInNs, startHostileBox, type HostileBox } from '../helpers/turn-box.js';

let box: HostileBox;

beforeAll(async () => {
  box = await startHostileBox();
}, 90_000);

afterAll(async () => {
  await closeAllBrowsers();
  await closeNsFirefoxes();
  await box?.stop();
}, 60_000);

async function connectionPath(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const hook = (window as unknown as { stube?: { connectionPath(): Promise<string> } }).stube;
    return hook ? hook.connectionPath() : 'no hook';
  });
}

interface Paths {
  chromium: string;
  firefox: string;
}

/** One meeting from the browser's namespace: Ada in Chromium, Ben in Firefox ESR; each must get the
 *  other's video and audio, and each page's reported path is returned. */
async function meetingThrough(network: 'open' | 'no-udp' | 'tcp-443-only'): Promise<Paths> {
  box.setNetwork(network);
  const browsers: { browser: Browser; close(): Promise<void> }[] = [];
  try {
    const [chromium, firefox] = await Promise.all([
      launchChromium({ executablePath: box.chromiumInNs, pipe: true, args: ['--ignore-certificate-errors'] }),
      launchFirefoxInNs(box.browserNs, { caFile: box.caFile }),
    ]);
    browsers.push(chromium, firefox);
    const first = await chromium.browser.newPage();
    const meeting = await startMeeting(first, box.url);
    await first.close();
    const a = await openParticipant(chromium.browser, box.url, meeting, 'Ada', { joinTimeoutMs: 30_000 });
    const b = await openParticipant(firefox.browser, box.url, meeting, 'Ben', { joinTimeoutMs: 30_000 });
    const ids = [await selfId(a.page), await selfId(b.page)];
    for (const [p, other] of [[a, ids[1]], [b, ids[0]]] as const) {
      try {
        await waitForMediaFrom(p.page, [other ?? ''], { timeoutMs: 45_000 });
      } catch (err) {
        const stats = await remoteStats(p.page).catch(() => ({}));
        throw new Error(`${network}, ${p.name}: ${String(err)}; received ${JSON.stringify(stats)}; path ${await connectionPath(p.page)}`);
      }
    }
    const paths: string[] = [];
    for (const p of [a, b]) {
      paths.push(await waitUntil(`${p.name}'s path`, async () => {
        const path = await connectionPath(p.page);
        return path === 'unknown' ? undefined : path;
      }, { timeoutMs: 15_000 }));
      // The quiet indicator shows it too.
      const shown = await waitUntil('the path indicator', () => p.page.$eval('.path', (el) => el.getAttribute('data-path')).catch(() => undefined));
      expect(shown).toBe(paths[paths.length - 1]);
      // The page never talked to anyone but the box.
      expect(p.requests.foreign()).toEqual([]);
    }
    return { chromium: paths[0] ?? '', firefox: paths[1] ?? '' };
  } finally {
    await Promise.all(browsers.map((b) => b.close()));
  }
}

describe('hostile networks (Chromium and Firefox ESR in one meeting)', () => {
  it('with UDP open, media goes straight to the media server', async () => {
    expect(await meetingThrough('open')).toEqual({ chromium: 'direct-udp', firefox: 'direct-udp' });
  }, 150_000);

  it('with all UDP dropped, media goes through the box\'s TURN server over TCP', async () => {
    // Both browsers get turn: over TCP on 3478 and turns: on 443; while TCP 3478 is open they pick TURN
    // over TCP (their candidate priorities rank it above TURN over TLS). TLS on 443 is the last resort.
    expect(await meetingThrough('no-udp')).toEqual({ chromium: 'turn-tcp', firefox: 'turn-tcp' });
  }, 150_000);

  it('with only TCP to port 443 allowed, media goes through TURN over TLS on the HTTPS port', async () => {
    // Firefox checks the TURN server's certificate: the box's is issued by the test's CA, which Firefox's
    // profile trusts (as it would trust a real certificate from the setup wizard).
    expect(await meetingThrough('tcp-443-only')).toEqual({ chromium: 'turn-tls', firefox: 'turn-tls' });
  }, 150_000);

  it('leaves no address in the log', () => {
    const text = box.logLines.join('\n');
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
  });
});
