// Janus never adapts simulcast on its own: the service picks each subscriber's layer from the tile size
// the browser reports. Here the receiving page's window is made large and then small, and the video
// that arrives must switch between the full and the lowest layer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeAllBrowsers, launchChromium, openParticipant, remoteStats, selfId, waitUntil, type Participant } from '../helpers/browsers.js';
import { startTestService, type TestService } from '../helpers/service.js';

let service: TestService;
let sender: Participant;
let receiver: Participant;
let senderId: string;

beforeAll(async () => {
  service = await startTestService();
  const browser = await launchChromium();
  const meeting = ((await (await fetch(`${service.url}/api/meetings`, { method: 'POST' })).json()) as { id: string }).id;
  sender = await openParticipant(browser, service.url, meeting, 'Sender');
  receiver = await openParticipant(browser, service.url, meeting, 'Receiver');
  senderId = (await selfId(sender.page))!;
}, 120_000);

afterAll(async () => {
  await closeAllBrowsers();
  await service?.stop();
});

async function arrivingWidth(what: string, ok: (w: number) => boolean): Promise<number> {
  return waitUntil(what, async () => {
    const w = (await remoteStats(receiver.page))[senderId]?.frameWidth ?? 0;
    return w > 0 && ok(w) ? w : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 });
}

it('a large tile receives the full layer and a small one the lowest', async () => {
  // The sender publishes three layers: 1280, 640 and 320 pixels wide. Two tiles side by side in a
  // 2600-pixel window are each wider than 1.25 × 640, so the full layer fits them.
  await receiver.page.bringToFront();
  await receiver.page.setViewport({ width: 2600, height: 1500, deviceScaleFactor: 1 });
  const large = await arrivingWidth('the full layer', (w) => w >= 1280);
  await receiver.page.setViewport({ width: 360, height: 300, deviceScaleFactor: 1 });
  const small = await arrivingWidth('the lowest layer', (w) => w <= 320);
  expect(large).toBeGreaterThan(small * 3);
});
