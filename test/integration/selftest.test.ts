// The self-test meeting join that a boot needs before it is marked good (appliance/update/selftest.ts),
// against the real service and a real Janus: it passes when both work, through GET /healthz/join too,
// adds no meeting per run, and fails once Janus is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfTestJoin } from '../../appliance/update/selftest.js';
import { startTestService, type TestService } from '../helpers/service.js';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

describe('the self-test meeting join', () => {
  it('joins, gets the real Janus to answer a publisher offer, and leaves', async () => {
    const r = await selfTestJoin(service.meetings, service.dataDir);
    expect(r).toMatchObject({ ok: true });
    console.log(`self-test join took ${r.ms} ms`);
    expect(service.meetings.participantCount).toBe(0);
    expect(service.meetings.liveMeetings).toBe(0);
  });

  it('answers GET /healthz/join with 200, and reuses its one meeting', async () => {
    const id = (JSON.parse(readFileSync(join(service.dataDir, 'selftest-meeting.json'), 'utf8')) as { id: string }).id;
    const res = await fetch(`${service.url}/healthz/join`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect((JSON.parse(readFileSync(join(service.dataDir, 'selftest-meeting.json'), 'utf8')) as { id: string }).id).toBe(id);
    const stored = JSON.parse(readFileSync(join(service.dataDir, 'meetings.json'), 'utf8')) as { meetings: { id: string }[] };
    expect(stored.meetings.filter((m) => m.id === id)).toHaveLength(1);
    expect(stored.meetings).toHaveLength(1);
  });

  it('fails when Janus is not there', async () => {
    await service.janus?.stop();
    const r = await selfTestJoin(service.meetings, service.dataDir, 8000);
    expect(r.ok).toBe(false);
    expect(['welcome', 'answer']).toContain(r.failed);
    expect(service.meetings.participantCount).toBe(0);
  });
});
