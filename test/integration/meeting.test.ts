// A real meeting: the service with a real Janus (in its own network namespace), three Chromium pages
// and one Firefox ESR page with fake camera and microphone. Checks what people would notice: video
// decoded and audio received from everyone, names shown, a leaver disappearing, media coming back by
// itself after Janus is killed — and that no page talked to any other origin and the log holds no
// names, meeting IDs or addresses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllBrowsers,
  launchChromium,
  launchFirefox,
  openParticipant,
  participantsOf,
  remoteStats,
  selfId,
  startMeeting,
  tileNames,
  waitForMediaFrom,
  waitUntil,
  type LaunchedBrowser,
  type Participant,
} from '../helpers/browsers.js';
import { startTestService, type TestService } from '../helpers/service.js';

let service: TestService;
let chromium: LaunchedBrowser;
let firefox: LaunchedBrowser;
let meetingId: string;
const people: (Participant & { id: string })[] = [];

beforeAll(async () => {
  service = await startTestService();
  [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
}, 120_000);

afterAll(async () => {
  await closeAllBrowsers();
  await service?.stop();
}, 60_000);

function othersOf(p: { id: string }): string[] {
  return people.filter((q) => q.id !== p.id).map((q) => q.id);
}

/** waitForMediaFrom, with what the page did receive in the error when it times out. */
async function expectMediaFrom(p: Participant & { id: string }, timeoutMs: number, each = false): Promise<void> {
  try {
    await waitForMediaFrom(p.page, othersOf(p), { timeoutMs, each });
  } catch (err) {
    const stats = await remoteStats(p.page).catch(() => ({}));
    throw new Error(`${p.name}: ${String(err)}; received: ${JSON.stringify(stats)}; page errors: ${p.pageErrors.errors().join(' | ')}`);
  }
}

describe('a meeting of four in Chromium and Firefox', () => {
  it('"Start a meeting" creates a meeting with an unguessable ID', async () => {
    const page = await chromium.browser.newPage();
    meetingId = await startMeeting(page, service.url);
    expect(meetingId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await page.close();
  });

  it('everyone joins, sees everyone\'s name and decodes everyone\'s video and audio', async () => {
    const plan: [LaunchedBrowser, string][] = [
      [chromium, 'Anna Chromium'],
      [chromium, 'Bruno Chromium'],
      [chromium, 'Chiara Chromium'],
      [firefox, 'Dario Firefox'],
    ];
    for (const [browser, name] of plan) {
      const p = await openParticipant(browser, service.url, meetingId, name, { joinTimeoutMs: 30_000 });
      const id = await selfId(p.page);
      expect(id).toBeTruthy();
      people.push({ ...p, id: id! });
    }
    for (const p of people) {
      await expectMediaFrom(p, 60_000);
      const names = await waitUntil(`${p.name} shows all names`, async () => {
        const shown = await tileNames(p.page);
        return people.every((q) => q.id === p.id || (shown[q.id] ?? '').includes(q.name)) ? shown : undefined;
      });
      expect(Object.keys(names).length).toBeGreaterThanOrEqual(3);
    }
  });

  it('media comes back by itself after Janus is killed, without a reload', async () => {
    expect(people).toHaveLength(4);
    const pid = service.janus?.pid;
    expect(pid).toBeTruthy();
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();
    await waitUntil('Janus restarted', () => service.janus?.pid !== null && service.janus?.pid !== pid, { timeoutMs: 20_000 });
    // All pages at once: checking them one after another would add each check's own time. The target is
    // 10 s (the time is printed; runs on two shared cores took 5–10 s before end-to-end encryption and
    // 7–26 s with it, Firefox being the slow one to decode again: a regression to chase, see the
    // issue notes); the deadline leaves room so that the test fails on "does not come back", not on noise.
    const left = 30_000 - (Date.now() - killedAt);
    // Each sender seen decoding and sounding again in every page (a CI run had Firefox decode 720p in
    // slow bursts after the restart, so all three never grew within the same half second).
    await Promise.all(people.map((p) => expectMediaFrom(p, left, true)));
    console.log(`media flowing again in every page ${Date.now() - killedAt} ms after Janus was killed`);
    for (const p of people) expect(p.page.url()).toContain(`/r/${meetingId}`);
  });

  it('a participant who leaves disappears from the others\' pages', async () => {
    expect(people).toHaveLength(4);
    const leaver = people.pop()!;
    const leave = await leaver.page.$('xpath/.//button[normalize-space(.)="Leave"]');
    expect(leave).not.toBeNull();
    await leave!.click();
    for (const p of people) {
      await waitUntil(`${leaver.name} gone from ${p.name}`, async () => {
        const ids = (await participantsOf(p.page)).map((q) => q.id);
        const tiles = await tileNames(p.page);
        return !ids.includes(leaver.id) && !(leaver.id in tiles);
      }, { timeoutMs: 5_000 });
    }
    // Those who stay keep receiving each other.
    for (const p of people) await expectMediaFrom(p, 20_000);
    people.push(leaver); // for the privacy checks below
  });

  it('no page contacted another origin, and the log holds no names, meeting IDs or addresses', () => {
    expect(people).toHaveLength(4);
    for (const p of people) {
      expect(p.requests.foreign(), `${p.name}'s requests to other origins`).toEqual([]);
    }
    const log = service.logLines.join('\n');
    expect(log).not.toContain(meetingId);
    for (const p of people) {
      expect(log).not.toContain(p.name);
      expect(log).not.toContain(p.id);
    }
    expect(log).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
  });
});
