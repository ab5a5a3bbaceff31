// Proves the browser harness on its own, before any service exists: each browser opens a tiny local page
// that asks for the fake camera and microphone, and the page reports a live video track. The page also
// requests one resource from another origin so the request recorder is shown to notice it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllBrowsers,
  launchBrowser,
  recordRequests,
  waitUntil,
  CHROMIUM_PATH,
  FIREFOX_PATH,
  type BrowserKind,
} from '../helpers/browsers.js';

const page = (elsewhere: string): string => `<!doctype html><html data-elsewhere="${elsewhere}">
<meta charset="utf-8"><title>gUM</title><script src="/probe.js"></script></html>`;
const SCRIPT = `
window.result = null;
navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then((stream) => {
  const v = stream.getVideoTracks()[0];
  const a = stream.getAudioTracks()[0];
  window.result = { video: v ? v.readyState : 'none', audio: a ? a.readyState : 'none', label: v ? v.label : '' };
}, (err) => { window.result = { error: String(err) }; });
// Something from another origin (another port), which the recorder must list.
fetch(document.documentElement.dataset.elsewhere + '/elsewhere').catch(() => {});
`;

let server: Server;
let other: Server;
let baseUrl: string;
let otherUrl: string;

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  other = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' }).end('hi');
  });
  otherUrl = await listen(other);
  server = createServer((req, res) => {
    if (req.url === '/probe.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(SCRIPT);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(otherUrl));
    }
  });
  baseUrl = await listen(server);
});

afterAll(async () => {
  await closeAllBrowsers();
  await Promise.all([server, other].map((s) => new Promise((r) => s.close(r))));
});

const kinds: [BrowserKind, string][] = [
  ['chromium', CHROMIUM_PATH],
  ['firefox', FIREFOX_PATH],
];

describe.each(kinds)('%s harness', (kind, executable) => {
  it.skipIf(!existsSync(executable))('gets a live fake camera track and records foreign requests', async () => {
    const launched = await launchBrowser(kind);
    try {
      const tab = await launched.browser.newPage();
      const requests = await recordRequests(tab, baseUrl);
      await tab.goto(`${baseUrl}/`, { waitUntil: 'load' });
      const result = await waitUntil('getUserMedia', () =>
        tab.evaluate(() => (window as unknown as { result: unknown }).result ?? undefined),
      );
      expect(result).toMatchObject({ video: 'live', audio: 'live' });
      await waitUntil('the foreign request to be recorded', () => requests.foreign().length > 0);
      expect(requests.foreign()).toEqual([`${otherUrl}/elsewhere`]);
      expect(requests.all()).toContain(`${baseUrl}/probe.js`);
    } finally {
      await launched.close();
    }
    expect(existsSync(launched.profileDir)).toBe(false);
  });
});
