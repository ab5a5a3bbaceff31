// End-to-end encryption with real browsers and a real Janus: two Chromium pages and one Firefox ESR page
// with the meeting secret decode each other and show the same safety code; a fourth page with the right
// meeting ID but another secret decodes nothing and says so, while the others carry on; everything each
// page sends (HTTP requests and bodies, WebSocket frames) is captured and never contains the secret or a
// key derived from it; the video Janus forwards is SFrame ciphertext after the clear VP8 header; sender
// KIDs change after a leave; chat reaches exactly the pages with the secret.
import type { CDPSession, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveSecretMaterial } from '../../ui/src/e2ee/secretKeys.js';
import { decodeHeader } from '../../ui/src/e2ee/sframe.js';
import {
  clickButton,
  closeAllBrowsers,
  controlByLabel,
  launchChromium,
  launchFirefox,
  openParticipant,
  remoteStats,
  selfId,
  startMeeting,
  waitForMediaFrom,
  waitUntil,
  type LaunchedBrowser,
  type Participant,
} from '../helpers/browsers.js';
import { startTestService, type TestService } from '../helpers/service.js';

interface E2eeView {
  safetyCode: string;
  sendingKid: number | null;
  sentFrames: number;
  rejected: string[];
  undecryptable: string[];
  received: Record<string, { decrypted: number; failed: number }>;
  chat: { from: string; text: string; mine: boolean }[];
}

interface Person extends Participant {
  id: string;
  sent: SentCapture;
}

let service: TestService;
let chromium: LaunchedBrowser;
let firefox: LaunchedBrowser;
let meetingId: string;
let secret: string;
const people: Person[] = [];
let wrong: Person;

// ---- capturing what a page sends ----

/** Everything a page sent: request URLs (without the fragment, which browsers never send) and bodies, WebSocket frames. */
interface SentCapture {
  items: string[];
}

/**
 * Chromium: the DevTools protocol reports every request with its body and every WebSocket frame sent.
 * Both browsers: a script that runs before the page's own wraps WebSocket.send, fetch and XHR, so Firefox
 * (whose WebDriver BiDi reports no WebSocket frames) is covered too, and Chromium twice.
 */
async function captureSent(page: Page, kind: 'chromium' | 'firefox'): Promise<SentCapture> {
  const capture: SentCapture = { items: [] };
  if (kind === 'chromium') {
    const cdp: CDPSession = await page.createCDPSession();
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (e) => {
      // CDP keeps the fragment apart (urlFragment): `url` is what goes on the wire.
      capture.items.push(`request ${e.request.url}`);
      if (e.request.postData) capture.items.push(`body ${e.request.postData}`);
      for (const entry of e.request.postDataEntries ?? []) if (entry.bytes) capture.items.push(`body ${Buffer.from(entry.bytes, 'base64').toString('latin1')}`);
    });
    cdp.on('Network.webSocketFrameSent', (e) => capture.items.push(`ws ${e.response.payloadData}`));
    cdp.on('Network.webSocketCreated', (e) => capture.items.push(`ws-open ${e.url}`));
  } else {
    page.on('request', (req) => {
      capture.items.push(`request ${req.url().split('#')[0]}`);
      // WebDriver BiDi in this puppeteer gives no request bodies; the wrapped fetch/XHR below records them.
      try {
        const body = req.postData();
        if (body) capture.items.push(`body ${body}`);
      } catch {
        capture.items.push(`body-unavailable ${req.url().split('#')[0]}`);
      }
    });
  }
  await page.evaluateOnNewDocument(() => {
    const log: string[] = [];
    Object.defineProperty(window, '__sentByPage', { value: log });
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket, data: string | ArrayBufferLike | Blob | ArrayBufferView) {
      log.push(`ws ${typeof data === 'string' ? data : '[binary]'}`);
      return send.call(this, data);
    };
    const f = window.fetch;
    window.fetch = function (input: RequestInfo | URL, init?: RequestInit) {
      log.push(`fetch ${String(input instanceof Request ? input.url : input)} ${typeof init?.body === 'string' ? init.body : ''}`);
      return f.call(this, input, init);
    };
    const xsend = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      log.push(`xhr ${typeof body === 'string' ? body : ''}`);
      return xsend.call(this, body as XMLHttpRequestBodyInit | null);
    };
  });
  return capture;
}

async function allSent(p: Person): Promise<string[]> {
  const fromPage = await p.page.evaluate(() => [...((window as unknown as { __sentByPage?: string[] }).__sentByPage ?? [])]);
  return [...p.sent.items, ...fromPage];
}

// ---- reading the page ----

async function e2eeOf(page: Page): Promise<E2eeView> {
  const v = await page.evaluate(() => (window as unknown as { stube: { e2ee(): unknown } }).stube.e2ee());
  if (!v) throw new Error('page has no E2EE session');
  return v as E2eeView;
}

async function shownSafetyCode(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('[aria-label="Safety code"]')?.textContent?.trim() ?? '');
}

async function join(browser: LaunchedBrowser, name: string, withSecret: string): Promise<Person> {
  let sent: SentCapture = { items: [] };
  const p = await openParticipant(browser, service.url, meetingId, name, {
    secret: withSecret,
    joinTimeoutMs: 30_000,
    beforeNavigate: async (page) => {
      sent = await captureSent(page, browser.kind);
    },
  });
  const id = await selfId(p.page);
  if (!id) throw new Error(`${name} has no participant ID`);
  return { ...p, id, sent };
}

async function expectMedia(p: Person, from: Person[], timeoutMs = 60_000): Promise<void> {
  try {
    await waitForMediaFrom(p.page, from.map((q) => q.id), { timeoutMs });
  } catch (err) {
    const stats = await remoteStats(p.page).catch(() => ({}));
    const e2ee = await e2eeOf(p.page).catch(() => null);
    throw new Error(`${p.name}: ${String(err)}; received: ${JSON.stringify(stats)}; e2ee: ${JSON.stringify(e2ee)}; page errors: ${p.pageErrors.errors().join(' | ')}`);
  }
}

function othersOf(p: Person): Person[] {
  return people.filter((q) => q !== p);
}

beforeAll(async () => {
  service = await startTestService();
  // Several participants share one browser, so most pages are background tabs. Chromium throttles their
  // timers hard, which would slow the UI's reactions, not the crypto (its timers run in the worker).
  [chromium, firefox] = await Promise.all([
    launchChromium({ args: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'] }),
    launchFirefox(),
  ]);
}, 120_000);

afterAll(async () => {
  await closeAllBrowsers();
  await service?.stop();
}, 60_000);

describe('an end-to-end encrypted meeting', () => {
  it('"Start a meeting" puts a fresh 128-bit secret into the link\'s fragment, not into the path', async () => {
    const page = await chromium.browser.newPage();
    meetingId = await startMeeting(page, service.url);
    const url = new URL(page.url());
    expect(url.pathname).toBe(`/r/${meetingId}`);
    expect(url.search).toBe('');
    secret = url.hash.slice(1).split('~')[0]!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(16);
    await page.close();
  });

  it('a link without the secret asks for it instead of joining', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(new URL(`/r/${meetingId}`, service.url).href, { waitUntil: 'load' });
    const field = await controlByLabel(page, 'Meeting link or secret');
    expect(await field.evaluate((el) => (el as HTMLInputElement).type)).toBe('password');
    await field.dispose();
    expect(await page.evaluate(() => (window as unknown as { stube: { state(): string } }).stube.state())).toBe('needs-secret');
    await page.close();
  });

  it('two Chromium pages and a Firefox page decode each other and show the same safety code', async () => {
    people.push(await join(chromium, 'Alba Chromium', secret));
    people.push(await join(chromium, 'Bert Chromium', secret));
    people.push(await join(firefox, 'Carla Firefox', secret));
    for (const p of people) await expectMedia(p, othersOf(p));
    const codes = await waitUntil('the same safety code everywhere', async () => {
      const shown = await Promise.all(people.map((p) => shownSafetyCode(p.page)));
      return shown[0] && shown.every((c) => c === shown[0]) ? shown : undefined;
    });
    expect(codes[0]!.split(' ')).toHaveLength(6);
    for (const p of people) {
      const view = await e2eeOf(p.page);
      expect(view.sendingKid).not.toBeNull();
      for (const q of othersOf(p)) expect(view.received[q.id]?.decrypted ?? 0, `${p.name} decrypts ${q.name}`).toBeGreaterThan(0);
      const lock = await p.page.evaluate(() => document.body.textContent?.includes('End-to-end encrypted') ?? false);
      expect(lock).toBe(true);
    }
  });

  it('a page with the right meeting ID but another secret decodes nothing and says so; the others carry on', async () => {
    const codeBefore = await shownSafetyCode(people[0]!.page);
    const other = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
    wrong = await join(chromium, 'Wanda Wrongsecret', other);
    // Its UI says it cannot decrypt, and the decrypt failures grow while nothing gets decoded.
    await waitUntil('the wrong-secret page to say it cannot decrypt', () =>
      wrong.page.evaluate(() => /Can't decrypt/.test(document.querySelector('[data-e2ee-problem]')?.textContent ?? '')),
    { timeoutMs: 20_000 });
    const failedAt = async () => Object.values((await e2eeOf(wrong.page)).received).reduce((n, s) => n + s.failed, 0);
    const f1 = await failedAt();
    await waitUntil('decrypt failures to grow on the wrong-secret page', async () => (await failedAt()) > f1, { timeoutMs: 30_000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; wrong page: ${JSON.stringify(await e2eeOf(wrong.page))}; stats: ${JSON.stringify(await remoteStats(wrong.page))}`);
    });
    const stats = await remoteStats(wrong.page);
    for (const p of people) expect(stats[p.id]?.framesDecoded ?? 0, `wrong page decoded ${p.name}`).toBe(0);
    const wrongView = await e2eeOf(wrong.page);
    for (const s of Object.values(wrongView.received)) expect(s.decrypted).toBe(0);
    // The others name the page whose secret differs, keep their safety code and keep decoding each other.
    for (const p of people) {
      await waitUntil(`${p.name} to flag the wrong-secret page`, async () => (await e2eeOf(p.page)).rejected.includes(wrong.id), { timeoutMs: 10_000 });
      expect(await shownSafetyCode(p.page)).toBe(codeBefore);
      await expectMedia(p, othersOf(p), 20_000);
    }
    expect(await shownSafetyCode(wrong.page)).not.toBe(codeBefore);
  });

  it('Janus forwards SFrame ciphertext after the clear VP8 header, not a VP8 frame', async () => {
    const [alba, bert] = [people[0]!, people[1]!];
    void alba;
    const sample = await waitUntil('a forwarded keyframe at Bert', async () => {
      const s = await bert.page.evaluate(() =>
        (window as unknown as { stube: { e2eeForwardedSample(): Promise<{ participant: string; forwarded: string; decryptedLength: number } | null> } }).stube.e2eeForwardedSample(),
      );
      return s && people.some((p) => p.id === s.participant) ? s : undefined;
    }, { timeoutMs: 30_000 });
    const bytes = Buffer.from(sample.forwarded, 'base64url');
    // The 10 clear bytes are a VP8 keyframe header: frame tag with the keyframe bit clear, start code 9d 01 2a.
    expect(bytes[0]! & 1).toBe(0);
    expect(bytes.subarray(3, 6).toString('hex')).toBe('9d012a');
    // Right after them comes an SFrame header naming one of the sender's keys — where a VP8 keyframe
    // has its first partition — and the whole frame is larger by exactly header + 16-byte tag.
    const h = decodeHeader(bytes.subarray(10));
    expect(h.kid).toBeGreaterThanOrEqual(8);
    expect(bytes.length).toBe(sample.decryptedLength + h.length + 16);
    // What follows is ciphertext: as close to 8 bits of entropy per byte as uniform random bytes of that
    // length get (the plug-in estimate falls short by about 255 / (2 n ln 2); allow twice that). Keyframes
    // of the lowest simulcast layer are small, hence the modest minimum length.
    const payload = bytes.subarray(10 + h.length);
    expect(payload.length).toBeGreaterThan(200);
    const counts = new Array<number>(256).fill(0);
    for (const b of payload) counts[b]!++;
    const entropy = -counts.filter((c) => c > 0).reduce((s, c) => s + (c / payload.length) * Math.log2(c / payload.length), 0);
    expect(entropy).toBeGreaterThan(8 - 255 / (payload.length * Math.LN2));
  });

  it('chat reaches the pages with the secret, as text, and not the wrong-secret page', async () => {
    const [alba] = people;
    const text = `Hello <b>team</b> ${Date.now()}`;
    const input = await controlByLabel(alba!.page, 'Chat message');
    await input.evaluate((el, t) => {
      const i = el as HTMLInputElement;
      i.value = t;
      i.dispatchEvent(new Event('input', { bubbles: true }));
    }, text);
    await input.dispose();
    await clickButton(alba!.page, 'Send');
    for (const p of people.slice(1)) {
      await waitUntil(`${p.name} to get the chat message`, async () => (await e2eeOf(p.page)).chat.some((m) => m.text === text && m.from === alba!.id), { timeoutMs: 20_000 }).catch(async (err: unknown) => {
        throw new Error(`${String(err)}; sender: ${JSON.stringify(await e2eeOf(alba!.page))}; receiver: ${JSON.stringify(await e2eeOf(p.page))}; errors: ${p.pageErrors.errors().join(' | ')}`);
      });
      const rendered = await p.page.evaluate((t) => {
        const items = [...document.querySelectorAll('[data-chat-message]')];
        const item = items.find((li) => li.textContent?.includes(t));
        return item ? { text: item.querySelector('.text')?.textContent, bold: item.querySelector('b') !== null } : null;
      }, text);
      expect(rendered).toEqual({ text, bold: false });
    }
    // The wrong-secret page got the ciphertext (the service relays to everyone) but cannot read it.
    const wrongChat = (await e2eeOf(wrong.page)).chat;
    expect(wrongChat.some((m) => m.text.includes('Hello'))).toBe(false);
  });

  it('after someone leaves, the others\' sender KIDs change within 5 seconds', async () => {
    const [alba, bert, carla] = [people[0]!, people[1]!, people[2]!];
    const before = { alba: (await e2eeOf(alba.page)).sendingKid, bert: (await e2eeOf(bert.page)).sendingKid };
    const codeBefore = await shownSafetyCode(alba.page);
    await clickButton(carla.page, 'Leave');
    const leftAt = Date.now();
    await waitUntil('new sender KIDs at Alba and Bert', async () => {
      const a = (await e2eeOf(alba.page)).sendingKid;
      const b = (await e2eeOf(bert.page)).sendingKid;
      return a !== before.alba && b !== before.bert && a !== null && b !== null;
    }, { timeoutMs: 5_000, intervalMs: 100 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; before: ${JSON.stringify(before)}; Alba: ${JSON.stringify(await e2eeOf(alba.page))}; Bert: ${JSON.stringify(await e2eeOf(bert.page))}`);
    });
    console.log(`sender KIDs changed ${Date.now() - leftAt} ms after the leave`);
    await waitUntil('a new safety code', async () => (await shownSafetyCode(alba.page)) !== codeBefore);
    expect(await shownSafetyCode(bert.page)).toBe(await shownSafetyCode(alba.page));
    await expectMedia(alba, [bert], 20_000);
    await expectMedia(bert, [alba], 20_000);
  });

  it('no page sent the secret or a key derived from it, in any request, body or WebSocket frame', async () => {
    const material = await deriveSecretMaterial(secret);
    const forms = [
      secret,
      Buffer.from(secret, 'base64url').toString('hex'),
      Buffer.from(secret, 'base64url').toString('base64').replace(/=+$/, ''),
      ...[material.announceMacKey, material.pairwiseSalt].flatMap((b) => [Buffer.from(b).toString('hex'), Buffer.from(b).toString('base64url'), Buffer.from(b).toString('base64').replace(/=+$/, '')]),
    ];
    for (const p of wrong ? [...people, wrong] : people) {
      const sent = await allSent(p).catch(() => p.sent.items); // a page that left may be gone
      expect(sent.some((s) => s.startsWith('ws ')), `${p.name}: captured WebSocket frames`).toBe(true);
      // Relayed payloads are base64url JSON: decode them too, so nothing hides inside.
      const decoded = sent.flatMap((s) => {
        const out = [s];
        for (const m of s.matchAll(/"data":"([A-Za-z0-9_-]+)"/g)) out.push(Buffer.from(m[1]!, 'base64url').toString('latin1'));
        return out;
      });
      for (const f of forms) {
        expect(decoded.filter((s) => s.includes(f)), `${p.name} sent a form of the secret or a derived key`).toEqual([]);
      }
    }
    // And the service's log holds none of it either.
    const log = service.logLines.join('\n');
    for (const f of forms) expect(log).not.toContain(f);
  });
});
