// The update agent's own logic with a stand-in for the root helper (it answers the request file like the
// helper does): versions, schedule and window, settings schema, manifest rules, the meeting gate, the
// rollback report, and the API's guard. The real helper, bundles and signatures: test/image/update.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import { createLogger } from '../../appliance/log.js';
import { UpdateAgent } from '../../appliance/update/agent.js';
import { denyAll, updateApi } from '../../appliance/update/api.js';
import { checkManifest, parseSha256Sums, BundleRefused } from '../../appliance/update/bundle-check.js';
import { bundleNames, type BundleManifest } from '../../appliance/update/bundle-format.js';
import { parsePointer } from '../../appliance/update/channel.js';
import type { HelperRequest, HelperStatus } from '../../appliance/update/helper-protocol.js';
import { checkDue, DEFAULT_UPDATE_SETTINGS, inWindow, parseUpdateSettings } from '../../appliance/update/settings.js';
import { compareVersions } from '../../appliance/update/version.js';

const log = createLogger({ level: 'error' });

describe('versions', () => {
  it('orders releases, pre-releases and ignores build metadata', () => {
    expect(compareVersions('0.2.0', '0.1.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '1.0.0-rc.2')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0-rc.10', '1.0.0-rc.2')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0+b1', '1.0.0+b2')).toBe(0);
    expect(compareVersions('0.10.0', '0.9.0')).toBeGreaterThan(0);
    expect(() => compareVersions('1.0', '1.0.0')).toThrow(/not a version/);
  });
});

describe('schedule', () => {
  it('knows the maintenance window, also across midnight', () => {
    const w = { start: '23:00', hours: 2 };
    expect(inWindow(new Date('2026-01-01T23:30:00Z'), w)).toBe(true);
    expect(inWindow(new Date('2026-01-02T00:59:00Z'), w)).toBe(true);
    expect(inWindow(new Date('2026-01-02T01:00:00Z'), w)).toBe(false);
    expect(inWindow(new Date('2026-01-01T12:00:00Z'), w)).toBe(false);
    expect(inWindow(new Date('2026-01-01T12:00:00Z'), { start: '00:00', hours: 24 })).toBe(true);
  });

  it('checks when due, and again when the clock went backwards', () => {
    const last = new Date('2026-01-01T00:00:00Z');
    expect(checkDue(new Date('2026-01-01T05:00:00Z'), last, 6)).toBe(false);
    expect(checkDue(new Date('2026-01-01T06:00:00Z'), last, 6)).toBe(true);
    expect(checkDue(new Date('2025-01-01T00:00:00Z'), last, 6)).toBe(true);
    expect(checkDue(new Date(), null, 6)).toBe(true);
  });
});

describe('update settings', () => {
  it('accepts HTTPS channels, any USB stick, folders on removable media, or none', () => {
    for (const channel of [{ kind: 'https', url: 'https://updates.example.org/stube/stable' }, { kind: 'usb' }, { kind: 'file', path: '/media/usb0/stube' }, { kind: 'none' }]) {
      expect(parseUpdateSettings({ ...DEFAULT_UPDATE_SETTINGS, channel }).channel).toEqual(channel);
    }
  });

  it('refuses plain HTTP, credentials or queries in the URL, system folders, and bad windows, with the field named', () => {
    const bad = (patch: Record<string, unknown>): string => {
      try {
        parseUpdateSettings({ ...DEFAULT_UPDATE_SETTINGS, ...patch });
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({ channel: { kind: 'https', url: 'http://updates.example.org/' } })).toMatch(/^update settings: \/channel/);
    expect(bad({ channel: { kind: 'https', url: 'https://user:pw@updates.example.org/' } })).toMatch(/\/channel/);
    expect(bad({ channel: { kind: 'https', url: 'https://updates.example.org/?box=1' } })).toMatch(/\/channel/);
    expect(bad({ channel: { kind: 'file', path: '/etc' } })).toMatch(/\/channel/);
    expect(bad({ channel: { kind: 'usb', path: '/dev/sdb1' } })).toMatch(/\/channel/);
    expect(bad({ channel: { kind: 'file', path: '/media/../etc' } })).toMatch(/\/channel/);
    expect(bad({ window: { start: '25:00', hours: 2 } })).toMatch(/\/window\/start/);
    expect(bad({ checkEveryHours: 0 })).toMatch(/\/checkEveryHours/);
    expect(bad({ colour: 'red' })).toMatch(/additional/);
  });
});

describe('bundle rules apart from the signature', () => {
  const names = bundleNames('stube', '0.2.0', '6350C4C0-7C44-4A54-AA89-27A9C3EB7763');
  const manifest: BundleManifest = {
    format: 1, name: 'stube', version: '0.2.0', architecture: 'amd64', signedAt: 1767225600, changelog: 'x', files: names,
    packages: { debian: [{ name: 'janus', version: '1.4.1' }], npm: [] },
  };
  const opts = { name: 'stube', architecture: 'amd64', currentVersion: '0.1.0' };
  const code = (m: unknown, o = opts): string => {
    try {
      checkManifest(m, o);
      return 'accepted';
    } catch (e) {
      return e instanceof BundleRefused ? e.code : 'other';
    }
  };

  it('accepts a newer version for this box', () => {
    expect(code(manifest)).toBe('accepted');
  });

  it('refuses another architecture, an older or equal version, other names, renamed files', () => {
    expect(code({ ...manifest, architecture: 'arm64' })).toBe('wrong-architecture');
    expect(code(manifest, { ...opts, currentVersion: '0.2.0' })).toBe('not-newer');
    expect(code(manifest, { ...opts, currentVersion: '0.3.0' })).toBe('not-newer');
    expect(code({ ...manifest, name: 'other' })).toBe('wrong-name');
    expect(code({ ...manifest, files: { ...names, kernel: 'stube_0.3.0.vmlinuz' } })).toBe('bad-manifest');
    expect(code({ ...manifest, files: { ...names, root: '../root.raw.gz' } })).toBe('bad-manifest');
    expect(code({ ...manifest, extra: 1 })).toBe('bad-manifest');
  });

  it('reads SHA256SUMS strictly', () => {
    const h = 'a'.repeat(64);
    expect(parseSha256Sums(`${h}  manifest.json\n${h}  x.conf\n`).get('x.conf')).toBe(h);
    expect(() => parseSha256Sums(`${h}  ../etc/passwd\n`)).toThrow(BundleRefused);
    expect(() => parseSha256Sums(`${h}  a\n${h}  a\n`)).toThrow(BundleRefused);
  });

  it('reads the channel pointer strictly', () => {
    const p = { version: '0.2.0', file: 'stube-0.2.0-amd64.update.tar', size: 10, sha256: 'b'.repeat(64) };
    expect(parsePointer(p)).toEqual(p);
    expect(() => parsePointer({ ...p, file: '../../x.update.tar' })).toThrow(/bundle file/);
    expect(() => parsePointer({ ...p, version: 'latest' })).toThrow(/version/);
  });
});

/** Plays the root helper: answers each request by writing status.json as the helper would. */
class FakeHelper {
  readonly requests: HelperRequest['op'][] = [];
  offer: string | null = '0.2.0';
  constructor(readonly runDir: string) {}

  answer(): void {
    const file = join(this.runDir, 'request.json');
    if (!existsSync(file)) return;
    const req = JSON.parse(readFileSync(file, 'utf8')) as HelperRequest;
    rmSync(file);
    this.requests.push(req.op);
    const base: HelperStatus = { id: req.id, op: req.op, state: 'done', currentVersion: '0.1.0', updatedAt: new Date().toISOString() };
    const prev = existsSync(join(this.runDir, 'status.json')) ? JSON.parse(readFileSync(join(this.runDir, 'status.json'), 'utf8')) as HelperStatus : null;
    let status: HelperStatus = { ...(prev ?? {}), ...base };
    if (req.op === 'check') status = { ...status, available: this.offer ? { version: this.offer, size: 100 } : undefined, checkedAt: new Date().toISOString() };
    if (req.op === 'download') status = { ...status, downloaded: { version: '0.2.0', bytes: 100, total: 100 } };
    if (req.op === 'install') status = { ...status, installed: { version: '0.2.0', changelog: 'fixes' } };
    writeFileSync(join(this.runDir, 'status.json'), JSON.stringify(status));
  }
}

describe('the update agent', () => {
  let dir: string;
  let helper: FakeHelper;
  let participants: number;
  let told: string[];
  let now: Date;
  const agents: UpdateAgent[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stube-update-'));
    helper = new FakeHelper(dir);
    participants = 0;
    told = [];
    now = new Date('2026-03-01T12:00:00Z');
  });
  afterEach(() => {
    for (const a of agents.splice(0)) a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function agent(version = '0.1.0'): Promise<UpdateAgent> {
    const a = await UpdateAgent.create({
      runDir: dir, dataDir: dir, currentVersion: version, log, now: () => now, tickMs: 3_600_000,
      participants: () => participants,
      notifyModerators: (m) => {
        told.push(m);
        return 1;
      },
    });
    agents.push(a);
    return a;
  }

  /** Lets the agent and the helper take turns until nothing changes. */
  async function settle(a: UpdateAgent): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await a.tick();
      helper.answer();
    }
    await a.tick();
  }

  it('does nothing without a channel', async () => {
    const a = await agent();
    await settle(a);
    expect(helper.requests).toEqual([]);
    expect(a.view().phase).toBe('idle');
  });

  it('checks, downloads and installs by itself, then waits for the maintenance window before restarting', async () => {
    const a = await agent();
    await a.setSettings({ ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '03:00', hours: 2 } });
    await settle(a);
    expect(helper.requests).toEqual(['check', 'download', 'install']);
    expect(a.view()).toMatchObject({ phase: 'reboot-pending', pending: { version: '0.2.0', waitingFor: 'window' } });
    now = new Date('2026-03-02T03:10:00Z');
    await settle(a);
    expect(helper.requests.at(-1)).toBe('reboot');
  });

  it('never restarts while a meeting has participants, tells moderators once, and restarts when the meeting ends', async () => {
    const a = await agent();
    await a.setSettings({ ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '00:00', hours: 24 } });
    participants = 3;
    await settle(a);
    await settle(a);
    expect(helper.requests).not.toContain('reboot');
    expect(a.view().pending?.waitingFor).toBe('meetings');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/0\.2\.0 is installed.*restarts.*no meeting/);
    participants = 0;
    await settle(a);
    expect(helper.requests.filter((r) => r === 'reboot')).toHaveLength(1);
  });

  it('"update now" restarts outside the window, but still not during a meeting', async () => {
    const a = await agent();
    await a.setSettings({ ...DEFAULT_UPDATE_SETTINGS, automatic: false, channel: { kind: 'file', path: '/media/usb0' } });
    await settle(a);
    expect(helper.requests).toEqual(['check']);
    participants = 1;
    await a.updateNow();
    await settle(a);
    expect(helper.requests).not.toContain('reboot');
    participants = 0;
    await settle(a);
    expect(helper.requests).toEqual(['check', 'check', 'download', 'install', 'reboot']);
  });

  it('goes on at once after a power cut in the middle of an update, even though it checked a minute ago', async () => {
    writeFileSync(join(dir, 'update-settings.json'), JSON.stringify({ ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '03:00', hours: 1 } }));
    writeFileSync(join(dir, 'update-state.json'), JSON.stringify({ lastCheck: new Date(now.getTime() - 60_000).toISOString(), underWay: true, switching: null, lastResult: null }));
    const a = await agent();
    await settle(a);
    expect(helper.requests).toEqual(['check', 'download', 'install']);
    writeFileSync(join(dir, 'update-state.json'), JSON.stringify({ lastCheck: new Date(now.getTime() - 60_000).toISOString(), underWay: false, switching: null, lastResult: null }));
    helper.requests.length = 0;
    a.close();
    rmSync(join(dir, 'status.json'));
    await settle(await agent());
    expect(helper.requests).toEqual([]);
  });

  it('after the restart says whether the new version runs or the box fell back to the old one', async () => {
    const a = await agent();
    await a.setSettings({ ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '00:00', hours: 24 } });
    await settle(a);
    expect(helper.requests.at(-1)).toBe('reboot');
    a.close();
    rmSync(join(dir, 'status.json')); // /run is empty after a restart
    const back = await agent('0.1.0');
    expect(back.view().lastResult).toMatchObject({ kind: 'rolled-back', from: '0.1.0', to: '0.2.0' });
    expect(back.view().lastResult?.message).toMatch(/did not start properly.*went back to 0\.1\.0 by itself/);

    writeFileSync(join(dir, 'update-state.json'), JSON.stringify({ lastCheck: null, switching: { from: '0.1.0', to: '0.2.0', at: now.toISOString() }, lastResult: null }));
    const updated = await agent('0.2.0');
    expect(updated.view().lastResult).toMatchObject({ kind: 'updated', to: '0.2.0' });
  });
  it('says "rolled back" even when the failed version had time to say "updated" before it failed its health check', async () => {
    writeFileSync(join(dir, 'update-state.json'), JSON.stringify({ lastCheck: null, switching: { from: '0.1.0', to: '0.2.0', at: now.toISOString() }, lastResult: null }));
    (await agent('0.2.0')).close(); // one of 0.2.0's tries: its service started, then the boot was not blessed
    const back = await agent('0.1.0');
    expect(back.view().lastResult).toMatchObject({ kind: 'rolled-back', from: '0.1.0', to: '0.2.0' });
  });

  it('looks at the channel again right after a version change, though it checked a minute before the restart', async () => {
    writeFileSync(join(dir, 'update-settings.json'), JSON.stringify({ ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '03:00', hours: 1 } }));
    writeFileSync(join(dir, 'update-state.json'), JSON.stringify({ lastCheck: new Date(now.getTime() - 60_000).toISOString(), switching: { from: '0.1.0', to: '0.2.0', at: now.toISOString() }, lastResult: null }));
    helper.offer = null;
    const a = await agent('0.2.0');
    await settle(a);
    expect(a.view().lastResult?.kind).toBe('updated');
    expect(helper.requests).toEqual(['check']);
    a.close();
    helper.requests.length = 0;
    await settle(await agent('0.2.0'));
    expect(helper.requests).toEqual([]); // the next start is no version change: the schedule rules again
  });

  it('after falling back does not install the failed version again by itself; a newer one, or "update now", does', async () => {
    writeFileSync(join(dir, 'update-settings.json'), JSON.stringify({ ...DEFAULT_UPDATE_SETTINGS, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '03:00', hours: 1 } }));
    writeFileSync(join(dir, 'update-state.json'), JSON.stringify({ lastCheck: null, switching: { from: '0.1.0', to: '0.2.0', at: now.toISOString() }, lastResult: null }));
    const a = await agent('0.1.0');
    await settle(a);
    expect(helper.requests).toEqual(['check']);
    expect(a.view().lastResult?.kind).toBe('rolled-back');
    helper.offer = '0.2.1';
    await a.checkNow();
    await settle(a);
    expect(helper.requests).toEqual(['check', 'check', 'download', 'install']);

    helper.requests.length = 0;
    helper.offer = '0.2.0';
    rmSync(join(dir, 'status.json'));
    a.close();
    const b = await agent('0.1.0');
    await b.checkNow();
    await settle(b);
    expect(helper.requests).toEqual(['check']);
    await b.updateNow();
    await settle(b);
    expect(helper.requests).toEqual(['check', 'check', 'download', 'install', 'reboot']);
  });

  it('takes the next step as soon as the helper has finished one, not at the next scheduled look', async () => {
    const a = await UpdateAgent.create({
      runDir: dir, dataDir: dir, currentVersion: '0.1.0', log, tickMs: 3_600_000, waitTickMs: 20,
      participants: () => 0, notifyModerators: () => 0,
    });
    agents.push(a);
    await a.setSettings({ ...DEFAULT_UPDATE_SETTINGS, automatic: true, channel: { kind: 'file', path: '/media/usb0' }, window: { start: '03:00', hours: 1 } });
    await a.checkNow();
    const deadline = Date.now() + 3_000;
    while (helper.requests.length < 3 && Date.now() < deadline) {
      helper.answer();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(helper.requests).toEqual(['check', 'download', 'install']);
  });
});

describe('the update API', () => {
  const control = {
    view: () => ({ phase: 'idle' }) as never,
    checks: 0,
    async checkNow() {
      this.checks++;
    },
    async updateNow() {},
    saved: null as unknown,
    async setSettings(s: unknown) {
      this.saved = s;
    },
  };
  const allow: MiddlewareHandler = async (_c, next) => {
    await next();
  };

  it('refuses everyone until the admin session guards it', async () => {
    const api = updateApi(control, denyAll);
    expect((await api.request('/')).status).toBe(403);
    expect((await api.request('/check', { method: 'POST' })).status).toBe(403);
    expect(control.checks).toBe(0);
  });

  it('behind an authorising guard: status, check now, settings with a schema', async () => {
    const api = updateApi(control, allow);
    expect((await api.request('/')).status).toBe(200);
    expect((await api.request('/check', { method: 'POST' })).status).toBe(202);
    expect(control.checks).toBe(1);
    const bad = await api.request('/settings', { method: 'PUT', body: JSON.stringify({ channel: { kind: 'https', url: 'http://x' } }), headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^update settings: /);
    const good = await api.request('/settings', { method: 'PUT', body: JSON.stringify(DEFAULT_UPDATE_SETTINGS), headers: { 'content-type': 'application/json' } });
    expect(good.status).toBe(200);
    expect(control.saved).toEqual(DEFAULT_UPDATE_SETTINGS);
    const huge = await api.request('/settings', { method: 'PUT', body: 'x'.repeat(10_000), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
  });
});
