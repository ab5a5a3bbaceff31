// "An update never reboots the box while a test meeting has participants", against the real service
// (its update agent, its meetings, a real Janus): the root helper's status file says a new version is
// installed, as the helper leaves it after writing the inactive slot; the agent must tell the meeting's
// moderator and ask for no restart while someone is in the meeting, and ask for it once they left.
// The agent looks at its schedule every 30 s, so this takes up to about a minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type ServerMessage } from '../../appliance/meeting/protocol.js';
import { REQUEST_FILE, STATUS_FILE, type HelperStatus } from '../../appliance/update/helper-protocol.js';
import type { UpdateSettings } from '../../appliance/update/settings.js';
import { startTestService, waitFor, type TestService } from '../helpers/service.js';

let service: TestService;
let runDir: string;

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'stube-update-run-'));
  writeFileSync(join(runDir, 'version'), '0.1.0\n');
  // The whole day is the maintenance window: only the meeting may hold the restart back.
  const settings: UpdateSettings = { channel: { kind: 'none' }, checkEveryHours: 24, window: { start: '00:00', hours: 24 }, automatic: true };
  service = await startTestService({
    env: { STUBE_UPDATE_RUN: runDir, STUBE_VERSION_FILE: join(runDir, 'version') },
    prepareData: (dir) => writeFileSync(join(dir, 'update-settings.json'), JSON.stringify(settings)),
  });
});
afterAll(async () => {
  await service?.stop();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

describe('the update agent in the running service', () => {
  it('does not restart while a meeting has participants, tells its moderator, and restarts after they left', async () => {
    const res = await fetch(`${service.url}/api/meetings`, { method: 'POST' });
    expect(res.status).toBe(201);
    const meeting = ((await res.json()) as { id: string }).id;
    const ws = new WebSocket(`${service.url.replace(/^http/, 'ws')}/ws`);
    const received: ServerMessage[] = [];
    ws.on('message', (d) => received.push(JSON.parse(String(d)) as ServerMessage));
    ws.on('error', () => undefined);
    await new Promise<void>((r) => ws.once('open', () => r()));
    ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, meeting, name: 'Moderator' }));
    await waitFor('welcome', () => received.some((m) => m.type === 'welcome'));
    expect(service.meetings.participantCount).toBe(1);

    // What the root helper writes after installing 0.2.0 into the other slot.
    const installed: HelperStatus = {
      id: 'installed-by-helper', op: 'install', state: 'done', currentVersion: '0.1.0',
      installed: { version: '0.2.0', changelog: 'test' }, updatedAt: new Date().toISOString(),
    };
    writeFileSync(join(runDir, STATUS_FILE), JSON.stringify(installed));
    const notice = await waitFor('the reboot-pending notice', () => received.find((m) => m.type === 'notice'), 75_000, 500);
    expect(notice).toMatchObject({ type: 'notice', code: 'reboot-pending' });
    expect(existsSync(join(runDir, REQUEST_FILE))).toBe(false);
    // Another full round of the agent's schedule with the participant still there: still no restart.
    await new Promise((r) => setTimeout(r, 35_000));
    expect(existsSync(join(runDir, REQUEST_FILE))).toBe(false);
    expect(received.filter((m) => m.type === 'notice')).toHaveLength(1);

    ws.send(JSON.stringify({ type: 'leave' }));
    await waitFor('the participant gone', () => service.meetings.participantCount === 0);
    const request = await waitFor('the restart request', () => existsSync(join(runDir, REQUEST_FILE)) && readFileSync(join(runDir, REQUEST_FILE), 'utf8'), 75_000, 500);
    expect(JSON.parse(request)).toMatchObject({ op: 'reboot' });
    ws.close();
  }, 240_000);
});
