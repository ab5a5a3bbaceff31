// Real browsers for integration tests: Debian's Chromium (over CDP) and Firefox ESR (over WebDriver BiDi),
// both with a fake camera and microphone, through puppeteer-core. Every launch gets a fresh temporary
// profile; `close()` on a launched browser (or `closeAllBrowsers()`) always ends the process and removes
// the profile, even when the browser hangs.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type HTTPRequest, type Page } from 'puppeteer-core';

export const CHROMIUM_PATH = process.env.STUBE_CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.STUBE_FIREFOX ?? '/usr/bin/firefox-esr';

export type BrowserKind = 'chromium' | 'firefox';

export interface LaunchedBrowser {
  kind: BrowserKind;
  browser: Browser;
  /** The temporary profile folder; removed by close(). */
  profileDir: string;
  /** Idempotent: closes the browser (kills it after a grace period) and removes the profile. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Extra command-line arguments. */
  args?: string[];
  /** Extra Firefox preferences (Firefox only). */
  prefs?: Record<string, string | number | boolean>;
  /** Show the browser window (debugging on a desktop). */
  headful?: boolean;
  /** Chromium only: another executable (e.g. a script that starts Chromium in a network namespace). */
  executablePath?: string;
  /** Chromium only: talk to the browser over a pipe instead of a local port (works across namespaces). */
  pipe?: boolean;
}

const CHROMIUM_ARGS = [
  '--headless=new',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  // WebRtcHideLocalIpsWithMdns: host candidates as plain addresses (the SFU does not resolve .local names).
  '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,WebRtcHideLocalIpsWithMdns',
  '--metrics-recording-only',
  '--no-pings',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-dev-shm-usage',
];

/** Preferences that give Firefox a fake camera and microphone and keep it from talking to anyone else. */
export const FIREFOX_PREFS: Record<string, string | number | boolean> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.archive.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'app.update.auto': false,
  'app.update.enabled': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'browser.ping-centre.telemetry': false,
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.region.update.enabled': false,
  'browser.region.network.url': '',
  'browser.topsites.contile.enabled': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.blocklist.enabled': false,
  'services.settings.poll_interval': 86400 * 365,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-widevinecdm.enabled': false,
  'media.eme.enabled': false,
  'identity.fxaccounts.enabled': false,
  'dom.push.enabled': false,
  'dom.push.connection.enabled': false,
  'geo.enabled': false,
};

const open = new Set<LaunchedBrowser>();

async function track(kind: BrowserKind, browser: Browser, profileDir: string): Promise<LaunchedBrowser> {
  let closing: Promise<void> | undefined;
  const launched: LaunchedBrowser = {
    kind,
    browser,
    profileDir,
    close() {
      closing ??= (async () => {
        open.delete(launched);
        const proc = browser.process();
        try {
          await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5_000))]);
        } catch (err) {
          console.warn(`closing ${kind} failed, killing it: ${String(err)}`);
        }
        if (proc && proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGKILL');
          await new Promise((r) => proc.once('exit', r));
        }
        await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
      })();
      return closing;
    },
  };
  open.add(launched);
  return launched;
}

async function withProfile<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  return withProfile('stube-chromium-', async (profileDir) => {
    const args = [...CHROMIUM_ARGS, ...(options.args ?? [])];
    if (options.headful) args.splice(args.indexOf('--headless=new'), 1);
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    const browser = await puppeteer.launch({
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      pipe: options.pipe ?? false,
      browser: 'chrome',
      headless: false, // the --headless=new flag above decides; puppeteer would add its own otherwise
      userDataDir: profileDir,
      args,
      ignoreDefaultArgs: ['--enable-automation'],
      defaultViewport: { width: 1024, height: 720 },
      protocolTimeout: 60_000,
    });
    return track('chromium', browser, profileDir);
  });
}

export async function launchFirefox(options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  return withProfile('stube-firefox-', async (profileDir) => {
    const browser = await puppeteer.launch({
      executablePath: FIREFOX_PATH,
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      headless: !options.headful,
      userDataDir: profileDir,
      args: options.args ?? [],
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...(options.prefs ?? {}) },
      defaultViewport: { width: 1024, height: 720 },
      protocolTimeout: 60_000,
    });
    return track('firefox', browser, profileDir);
  });
}

export async function launchBrowser(kind: BrowserKind, options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  return kind === 'chromium' ? launchChromium(options) : launchFirefox(options);
}

/** Closes every browser launched by this module that is still open; use in afterAll/afterEach. */
export async function closeAllBrowsers(): Promise<void> {
  await Promise.all([...open].map((b) => b.close()));
}

// ---- polling ----

/** Polls `check` until it returns a value other than undefined/false, or throws with the last state. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 15_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---- requests to other origins ----

export interface RequestRecorder {
  /** Every URL the page requested from an origin other than the allowed ones, in order. */
  foreign(): string[];
  /** Every URL requested (for debugging). */
  all(): string[];
  stop(): void;
}

function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return null;
    // ws:// and wss:// belong to the http(s) origin of the same host and port.
    const scheme = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
    return `${scheme}//${u.host}`;
  } catch {
    return url;
  }
}

/**
 * Records every request the page makes to an origin other than `allowedOrigin` (e.g. the service's
 * base URL). Works for both protocols through `page.on('request')` (CDP Network / BiDi
 * network.beforeRequestSent); on Chromium, WebSocket handshakes are added through CDP as well. Attach it
 * before navigating.
 */
export async function recordRequests(page: Page, allowedOrigin: string | string[]): Promise<RequestRecorder> {
  const allowed = new Set((Array.isArray(allowedOrigin) ? allowedOrigin : [allowedOrigin]).map((o) => originOf(o)));
  const all: string[] = [];
  const foreign: string[] = [];
  const note = (url: string): void => {
    all.push(url);
    const origin = originOf(url);
    if (origin !== null && !allowed.has(origin)) foreign.push(url);
  };
  const onRequest = (req: HTTPRequest): void => note(req.url());
  page.on('request', onRequest);
  let detachCdp: (() => void) | undefined;
  // Only Chromium speaks CDP here; Firefox (BiDi) already reports WebSocket handshakes as requests.
  if (!/firefox/i.test(await page.browser().version())) {
    const session = await page.createCDPSession();
    await session.send('Network.enable');
    const onWs = (e: { url: string }): void => note(e.url);
    session.on('Network.webSocketCreated', onWs);
    detachCdp = () => {
      session.off('Network.webSocketCreated', onWs);
      session.detach().catch((err: unknown) => console.warn(`detaching CDP session: ${String(err)}`));
    };
  }
  return {
    foreign: () => [...foreign],
    all: () => [...all],
    stop() {
      page.off('request', onRequest);
      detachCdp?.();
    },
  };
}

/** Collects the page's console errors and uncaught exceptions (useful in failure messages). */
export function recordPageErrors(page: Page): { errors(): string[] } {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return { errors: () => [...errors] };
}

// ---- driving the meeting client ----

/** What the client's `window.stube` test hook returns. */
export interface RemoteStats {
  framesDecoded: number;
  audioPacketsReceived: number;
  name: string;
  /** Size of the latest decoded video frame from this participant: which simulcast layer arrives. */
  frameWidth: number;
  frameHeight: number;
}

/** Finds the form control whose <label> (or aria-label) reads exactly `label`. */
export async function controlByLabel(page: Page, label: string, timeoutMs = 15_000): Promise<ElementHandle<Element>> {
  const handle = await page.waitForFunction(
    (text: string) => {
      for (const l of document.querySelectorAll('label')) {
        if (l.textContent?.trim() === text && l.control) return l.control;
      }
      return document.querySelector(`[aria-label="${CSS.escape(text)}"]`);
    },
    { timeout: timeoutMs, polling: 100 },
    label,
  );
  return handle as ElementHandle<Element>;
}

/** Finds a visible, enabled button whose text or aria-label reads exactly `text`. */
export async function buttonByText(page: Page, text: string, timeoutMs = 15_000): Promise<ElementHandle<Element>> {
  const handle = await page.waitForFunction(
    (t: string) => {
      for (const b of document.querySelectorAll('button')) {
        const name = b.getAttribute('aria-label') ?? b.textContent?.trim();
        if ((name === t || b.textContent?.trim() === t) && !b.disabled && b.offsetParent !== null) return b;
      }
      return null;
    },
    { timeout: timeoutMs, polling: 100 },
    text,
  );
  return handle as ElementHandle<Element>;
}

/**
 * Clicks the button through the DOM. A mouse click through the protocol would wait for the page to
 * render, and pages in background tabs (several participants in one browser) do not render.
 */
export async function clickButton(page: Page, text: string): Promise<void> {
  const b = await buttonByText(page, text);
  await b.evaluate((el) => (el as HTMLElement).click());
  await b.dispose();
}

export interface Participant {
  page: Page;
  name: string;
  requests: RequestRecorder;
  pageErrors: { errors(): string[] };
}

/**
 * Opens the meeting `meetingId` in a new page of `browser`, types `name` into "Your name", clicks "Join"
 * and waits until the client reports state 'joined'.
 */
export async function openParticipant(
  browser: Browser | LaunchedBrowser,
  baseUrl: string,
  meetingId: string,
  name: string,
  { joinTimeoutMs = 20_000, secret = meetingSecretFor(meetingId), beforeNavigate }: {
    joinTimeoutMs?: number;
    /** The meeting secret in the link's fragment; by default one derived from the meeting ID, so that every page of a test shares it. */
    secret?: string;
    /** Runs on the new page before it opens the meeting (e.g. to start capturing what it sends). */
    beforeNavigate?: (page: Page) => Promise<void>;
  } = {},
): Promise<Participant> {
  const b = 'browser' in browser ? browser.browser : browser;
  const page = await b.newPage();
  const requests = await recordRequests(page, baseUrl);
  const pageErrors = recordPageErrors(page);
  await beforeNavigate?.(page);
  await page.goto(new URL(`/r/${meetingId}#${secret}`, baseUrl).href, { waitUntil: 'load' });
  // The pre-join form appears once end-to-end encryption is set up (key pair, worker); on a loaded
  // machine that can take a while, so the wait follows the join timeout.
  const input = await controlByLabel(page, 'Your name', Math.max(15_000, joinTimeoutMs));
  await input.evaluate((el) => {
    (el as HTMLInputElement).focus();
    (el as HTMLInputElement).select();
  });
  await input.type(name);
  await input.dispose();
  await clickButton(page, 'Join');
  await waitUntil(
    `${name} to join`,
    async () => (await clientState(page)) === 'joined',
    { timeoutMs: joinTimeoutMs },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; page errors: ${pageErrors.errors().join(' | ') || 'none'}`);
  });
  return { page, name, requests, pageErrors };
}

/**
 * A meeting secret for tests: base64url, 128 bits, the same for every page of one meeting and
 * different per meeting. (Real links carry a random secret made by the browser that starts the meeting.)
 */
export function meetingSecretFor(meetingId: string): string {
  return createHash('sha256').update(`stube test secret ${meetingId}`).digest('base64url').slice(0, 22);
}

/** Clicks "Start a meeting" on the landing page and returns the new meeting's ID. */
export async function startMeeting(page: Page, baseUrl: string): Promise<string> {
  await page.goto(new URL('/', baseUrl).href, { waitUntil: 'load' });
  await clickButton(page, 'Start a meeting');
  const id = await waitUntil('the meeting page', () => /\/r\/([A-Za-z0-9_-]+)/.exec(page.url())?.[1]);
  return id;
}

// ---- reading the client's state ----

/** One simulcast layer the page sends. */
export interface PublishedLayer {
  rid: string;
  width: number;
  height: number;
  framesEncoded: number;
  qualityLimitationReason: string;
}

interface StubeHook {
  getRemoteStats(): Promise<Record<string, RemoteStats>>;
  getPublishStats(): Promise<PublishedLayer[]>;
  participants(): { id: string; name: string }[];
  selfId(): string | null;
  state(): string;
}

export async function clientState(page: Page): Promise<string | null> {
  return page.evaluate(() => (window as unknown as { stube?: StubeHook }).stube?.state() ?? null);
}

export async function selfId(page: Page): Promise<string | null> {
  return page.evaluate(() => (window as unknown as { stube?: StubeHook }).stube?.selfId() ?? null);
}

export async function participantsOf(page: Page): Promise<{ id: string; name: string }[]> {
  return page.evaluate(() => (window as unknown as { stube?: StubeHook }).stube?.participants() ?? []);
}

/** Per remote participant: frames decoded, audio packets received, name; from the subscriber PC. */
export async function remoteStats(page: Page): Promise<Record<string, RemoteStats>> {
  return page.evaluate(async () => {
    const hook = (window as unknown as { stube?: StubeHook }).stube;
    return hook ? hook.getRemoteStats() : {};
  });
}

/** The simulcast layers the page is sending (rid, resolution, frames encoded). */
export async function publishStats(page: Page): Promise<PublishedLayer[]> {
  return page.evaluate(async () => {
    const hook = (window as unknown as { stube?: StubeHook }).stube;
    return hook ? hook.getPublishStats() : [];
  });
}

/** The names shown in the page's video tiles (`[data-participant-id]`), by participant ID. */
export async function tileNames(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const el of document.querySelectorAll<HTMLElement>('[data-participant-id]')) {
      const id = el.dataset.participantId;
      const name = el.querySelector('[data-name]')?.textContent?.trim() ?? el.textContent?.trim() ?? '';
      if (id) out[id] = name;
    }
    return out;
  });
}

/**
 * Waits until `page` has decoded video frames and received audio packets from each of `participantIds`,
 * and both numbers grow between two readings (media is flowing now, not just once).
 */
export async function waitForMediaFrom(
  page: Page,
  participantIds: string[],
  { timeoutMs = 20_000, each = false }: { timeoutMs?: number; each?: boolean } = {},
): Promise<Record<string, RemoteStats>> {
  let previous: Record<string, RemoteStats> = {};
  // `each`: every sender must be seen growing (frames decoded and audio packets) between two polls at
  // some point during the wait, not all in the same half second: a decoder starved of CPU delivers in
  // bursts, and "media came back" is the question, not how smooth it is.
  const grew = new Set<string>();
  return waitUntil(
    `media from ${participantIds.join(', ')}`,
    async () => {
      const now = await remoteStats(page);
      const growing = (id: string): boolean => {
        const s = now[id];
        const p = previous[id];
        return s !== undefined && p !== undefined && s.framesDecoded > p.framesDecoded && s.audioPacketsReceived > p.audioPacketsReceived;
      };
      for (const id of participantIds) if (growing(id)) grew.add(id);
      const ok = each ? participantIds.every((id) => grew.has(id)) : participantIds.every(growing);
      previous = now;
      return ok ? now : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}
