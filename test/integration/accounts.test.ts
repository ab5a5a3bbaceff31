// Rooms, invite links, the waiting room and moderator controls with the real service, a real Janus and
// real Chromium pages: what a guest and a moderator would notice. The server-side details (every role ×
// action, passwords, forged messages) are covered by the unit tests; here the browsers show it works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import {
  clickButton,
  clientState,
  closeAllBrowsers,
  controlByLabel,
  launchChromium,
  recordPageErrors,
  remoteStats,
  selfId,
  waitForMediaFrom,
  waitUntil,
  type LaunchedBrowser,
} from '../helpers/browsers.js';
import { startTestService, type TestService } from '../helpers/service.js';
import type { Room } from '../../appliance/accounts/rooms.js';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, type ServerMessage } from '../../appliance/meeting/protocol.js';

let service: TestService;
let chromium: LaunchedBrowser;
const XSS = '<img src=x onerror="window.__xss=1">';

beforeAll(async () => {
  service = await startTestService();
  chromium = await launchChromium();
}, 120_000);

afterAll(async () => {
  await closeAllBrowsers();
  await service?.stop();
}, 60_000);

// One end-to-end secret per room, as the admin panel keeps it: everyone with a link to the room can
// decrypt everyone else (a different secret per link would be a meeting nobody can follow).
const roomSecrets = new Map<string, string>();

function linkFor(room: Room, role: 'moderator' | 'participant', ttlSeconds: number | null = null): { url: string; inviteId: string } {
  const { invite, token } = service.rooms.createInvite(room.id, role, ttlSeconds);
  let secret = roomSecrets.get(room.id);
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    roomSecrets.set(room.id, secret);
  }
  return { url: `${service.url}/r/${room.id}#${secret}~${token}`, inviteId: invite.id };
}

/** Opens a link, types the name and clicks Join; does not wait for anything after that. */
async function openLink(url: string, name: string): Promise<{ page: Page; errors(): string[] }> {
  const page = await chromium.browser.newPage();
  const pageErrors = recordPageErrors(page);
  await page.goto(url, { waitUntil: 'load' });
  const input = await controlByLabel(page, 'Your name');
  await input.evaluate((el) => (el as HTMLInputElement).select());
  await input.type(name);
  await input.dispose();
  await clickButton(page, 'Join');
  return { page, errors: pageErrors.errors };
}

const bodyText = (page: Page): Promise<string> => page.evaluate(() => document.body.innerText);
const joined = (page: Page, what: string): Promise<boolean> => waitUntil(what, async () => (await clientState(page)) === 'joined', { timeoutMs: 30_000 });

describe('rooms with a waiting room', () => {
  let room: Room;
  let moderator: Page;
  let guest: Page;
  let guestLink: string;

  it('keeps a guest waiting while no moderator is there', async () => {
    room = await service.rooms.create({ name: XSS, waitingRoom: true, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: true });
    guestLink = linkFor(room, 'participant').url;
    ({ page: guest } = await openLink(guestLink, XSS));
    await waitUntil('the waiting screen', async () => (await bodyText(guest)).includes('No moderator is here yet'));
    expect(await clientState(guest)).toBe('joining');
    // Nobody is in the meeting: the live meeting shows zero participants and one waiting.
    expect(service.meetings.live()).toEqual([{ id: room.id, participants: 0, waiting: 1 }]);
  });

  it('lets the moderator admit the knocking guest; both see and hear each other', async () => {
    ({ page: moderator } = await openLink(linkFor(room, 'moderator').url, 'Mona Moderator'));
    await joined(moderator, 'the moderator to join');
    // The guest's name (an XSS payload) appears as text in the knock list.
    await waitUntil('the knock', async () => (await bodyText(moderator)).includes(XSS));
    await clickButton(moderator, 'Admit');
    await joined(guest, 'the guest to be let in');
    const [modId, guestId] = [await selfId(moderator), await selfId(guest)];
    await waitForMediaFrom(moderator, [guestId!], { timeoutMs: 60_000 });
    await waitForMediaFrom(guest, [modId!], { timeoutMs: 60_000 });
    // Rendered as text, never as markup.
    expect(await moderator.evaluate(() => document.querySelectorAll('img[src="x"]').length)).toBe(0);
    expect(await moderator.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('"Mute everyone" stops the guest\'s audio at the media server while video keeps coming', async () => {
    const guestId = (await selfId(guest))!;
    await clickButton(moderator, 'Mute everyone');
    // Audio packets from the guest stop growing between two readings 2 s apart; video frames still grow.
    // (A browser-side mute alone keeps sending silent audio packets: only the SFU dropping them stops the count.)
    let last = (await remoteStats(moderator))[guestId];
    const stopped = await waitUntil(
      'the guest\'s audio to stop arriving',
      async () => {
        await new Promise((r) => setTimeout(r, 2000));
        const now = (await remoteStats(moderator))[guestId];
        const ok = now && last && now.audioPacketsReceived === last.audioPacketsReceived && now.framesDecoded > last.framesDecoded;
        last = now;
        return ok ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 0 },
    );
    expect(stopped.framesDecoded).toBeGreaterThan(0);
    // The guest's page shows the microphone off (the notice itself goes away after a while).
    await waitUntil('the guest\'s page to show the microphone muted', async () => (await guest.evaluate(() => document.body.textContent ?? '')).includes('Unmute'));
  });

  it('removes and blocks the guest: the same link is refused this meeting', async () => {
    await clickButton(moderator, 'Participants');
    await clickButton(moderator, `Remove and block ${XSS}`);
    await waitUntil('the guest sees why', async () => (await bodyText(guest)).includes('a moderator removed you from the meeting'));
    await guest.close();
    const again = await openLink(guestLink, 'Back again');
    await waitUntil('the block', async () => (await bodyText(again.page)).includes('a moderator removed you from this meeting'));
    expect(await clientState(again.page)).not.toBe('joined');
    await again.page.close();
  });

  it('a denied guest sees why', async () => {
    const other = await openLink(linkFor(room, 'participant').url, 'Denise');
    await waitUntil('the knock', async () => (await bodyText(moderator)).includes('Denise'));
    await clickButton(moderator, 'Deny');
    await waitUntil('the denial', async () => (await bodyText(other.page)).includes('a moderator did not let you in'));
    await other.page.close();
  });

  it('refuses revoked and expired links with a reason', async () => {
    const revoked = linkFor(room, 'participant');
    service.rooms.revokeInvite(revoked.inviteId);
    const a = await openLink(revoked.url, 'Revoked');
    await waitUntil('the refusal', async () => (await bodyText(a.page)).includes('this invite link was revoked'));
    const expired = linkFor(room, 'participant', -1);
    const b = await openLink(expired.url, 'Expired');
    await waitUntil('the refusal', async () => (await bodyText(b.page)).includes('this invite link has expired'));
    await Promise.all([a.page.close(), b.page.close()]);
  });

  it('shows the room in the admin panel as text, with its live count and no address', async () => {
    await service.accounts.create({ name: 'boss', password: 'boss password 1', role: 'admin' });
    const page = await chromium.browser.newPage();
    await page.goto(`${service.url}/admin`, { waitUntil: 'load' });
    await (await controlByLabel(page, 'Name')).type('boss');
    await (await controlByLabel(page, 'Password')).type('boss password 1');
    await clickButton(page, 'Sign in');
    await waitUntil('the live meeting', async () => /1 participant\b/.test(await bodyText(page)));
    const text = await bodyText(page);
    expect(text).toContain(XSS);
    expect(text).not.toMatch(/127\.0\.0\.1|\b10\.\d+\.\d+\.\d+/);
    expect(await page.evaluate(() => document.querySelectorAll('img[src="x"]').length)).toBe(0);
    await clickButton(page, 'End meeting');
    await waitUntil('the moderator sees the end', async () => (await bodyText(moderator)).includes('The meeting has ended'));
    await page.close();
  });

  it('logged no names, room names, tokens or addresses', () => {
    const log = service.logLines.join('\n');
    for (const secret of [XSS, 'Mona Moderator', 'Denise', room.id, 'boss password']) expect(log).not.toContain(secret);
  });

  it('refuses a forged moderator message over a participant\'s WebSocket, and logs it without personal data', async () => {
    const open = await service.rooms.create({ name: 'Open', waitingRoom: false, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: false });
    const mod = await rawClient(open.id, 'Moe', service.rooms.createInvite(open.id, 'moderator', null).token);
    const p = await rawClient(open.id, 'Pat', service.rooms.createInvite(open.id, 'participant', null).token);
    const modId = (mod.messages.find((m) => m.type === 'welcome') as Extract<ServerMessage, { type: 'welcome' }>).you.id;
    p.ws.send(JSON.stringify({ type: 'moderate', action: 'remove', participant: modId, block: true }));
    p.ws.send(JSON.stringify({ type: 'moderate', action: 'muteAll' }));
    await waitUntil('two refusals', () => p.messages.filter((m) => m.type === 'error' && m.code === 'not-allowed').length === 2);
    expect(mod.ws.readyState).toBe(WebSocket.OPEN);
    expect(mod.messages.filter((m) => m.type === 'moderated' || m.type === 'denied')).toEqual([]);
    expect(service.meetings.live().find((m) => m.id === open.id)?.participants).toBe(2);
    const refusals = service.logLines.filter((l) => l.includes('refused a moderator action'));
    expect(refusals.map((l) => l.replace(/^.*refused/, 'refused'))).toEqual([
      'refused a moderator action from a participant action=remove',
      'refused a moderator action from a participant action=muteAll',
    ]);
    for (const secret of ['Moe', 'Pat', open.id, modId]) expect(service.logLines.join('\n')).not.toContain(secret);
    mod.ws.close();
    p.ws.close();
  });

  it('refuses an address after ten wrong room passwords', async () => {
    const locked = await service.rooms.create({ name: 'Vault', waitingRoom: false, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: false, password: 'the right one' });
    const token = service.rooms.createInvite(locked.id, 'participant', null).token;
    for (let i = 0; i < 10; i++) expect((await rawClient(locked.id, 'Guess', token, `wrong ${i}`)).denied).toBe('password-wrong');
    expect((await rawClient(locked.id, 'Guess', token, 'the right one')).denied).toBe('password-rate-limited');
  });
});

/** A signalling client without a browser: sends the hello and collects messages until welcome/waiting/denied. */
async function rawClient(meeting: string, name: string, invite: string, password?: string): Promise<{ ws: WebSocket; messages: ServerMessage[]; denied?: string }> {
  const ws = new WebSocket(`${service.url.replace(/^http/, 'ws')}/ws`);
  const messages: ServerMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as ServerMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, meeting, name, invite, ...(password ? { password } : {}) }));
  const first = await waitUntil('an answer to the hello', () => messages.find((m) => m.type === 'welcome' || m.type === 'waiting' || m.type === 'denied'));
  if (first.type === 'denied') ws.close();
  return { ws, messages, ...(first.type === 'denied' ? { denied: first.reason } : {}) };
}
