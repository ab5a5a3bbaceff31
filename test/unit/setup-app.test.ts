// The wizard's HTTP routes with fakes for the hardware, the router and the privileged helper: gating by
// sender address, the code, the session, the steps' answers, and the wizard gone after `done`.
import { describe, expect, it, beforeEach } from 'vitest';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'hono';
import { createSetupApp, type SetupApp } from '../../appliance/setup/app.js';
import { ChallengeStore } from '../../appliance/setup/acme.js';
import { createBootCode, formatCode } from '../../appliance/setup/code.js';
import type { RouterSession } from '../../appliance/setup/router.js';
import type { HardwareReport } from '../../appliance/setup/hardware.js';
import { createLogger } from '../../appliance/log.js';
import { MemoryAccounts } from './memory-accounts.js';

const hardware: HardwareReport = {
  cpu: { cores: 4, model: 'Test CPU', aes: true },
  memoryMiB: 8192,
  disks: [{ sizeGiB: 256, kind: 'ssd' }],
  dataFreeGiB: 200,
  nics: [{ name: 'eth0', speedMbps: 1000, up: true }],
  temperatureC: 45,
};

let setup: SetupApp;
let code: string;
let accounts: MemoryAccounts;
let sender: string;
let dataDir: string;
let runtimeDir: string;
let systemCalls: string[];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'stube-setup-'));
  runtimeDir = join(dataDir, 'run');
  code = await createBootCode(runtimeDir);
  accounts = new MemoryAccounts();
  sender = '192.168.1.20';
  systemCalls = [];
  setup = createSetupApp({
    opts: {
      runtimeDir,
      dataDir,
      code,
      ports: { httpsPort: 443, httpPort: 80, rtp: { min: 20000, max: 20009 }, turnPort: 3478 },
      acme: { directoryUrl: 'https://127.0.0.1:1/dir', caFile: null },
      dnsServers: ['127.0.0.1:1'],
      desecApi: 'http://127.0.0.1:1/api/v1',
    },
    accounts,
    system: { call: async (op) => void systemCalls.push(op) },
    log: createLogger({ level: 'error' }),
    clientAddress: (_c: Context) => sender,
    readHardware: async () => hardware,
    openRouter: async (forwards, map) =>
      ({ report: { protocol: 'upnp', externalIp: '100.64.0.7', wan: 'cgnat', mapped: false, missing: forwards }, close: async () => undefined, map }) as unknown as RouterSession,
    challenges: new ChallengeStore(),
    onCertificate: async () => undefined,
    onDone: async () => undefined,
    done: false,
  });
});

const req = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
  setup.app.request(path, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });

async function session(): Promise<string> {
  const res = await req('/setup/api/session', { body: { code: formatCode(code) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe('setup wizard routes', () => {
  it('refuses senders outside the home network, even with the right code', async () => {
    for (const addr of ['203.0.113.5', '100.64.1.2', '2a01:4f8::1']) {
      sender = addr;
      const res = await req('/setup/api/session', { body: { code } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('notLocal');
    }
  });

  it('accepts nothing without the code', async () => {
    for (const path of ['/setup/api/status', '/setup/api/hardware']) expect((await req(path)).status).toBe(401);
    expect((await req('/setup/api/admin', { body: { name: 'a', password: 'b', boxName: 'c' } })).status).toBe(401);
    expect((await req('/setup/api/done', { body: { confirm: true }, token: 'made-up' })).status).toBe(401);
    expect(accounts.hasAdmin()).toBe(false);
  });

  it('rate-limits wrong codes per sender', async () => {
    for (let i = 0; i < 5; i++) expect((await req('/setup/api/session', { body: { code: 'WRONG' } })).status).toBe(403);
    const limited = await req('/setup/api/session', { body: { code } });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { retryAfterS: number }).retryAfterS).toBeGreaterThan(0);
    sender = '192.168.1.21';
    expect((await req('/setup/api/session', { body: { code } })).status).toBe(200);
  });

  it('checks every body against its schema and size limit', async () => {
    const token = await session();
    expect((await req('/setup/api/line', { body: { uploadMbps: -1, downloadMbps: 1, meetingSize: 4 }, token })).status).toBe(400);
    expect((await req('/setup/api/network', { body: { mapPorts: true, x: 1 }, token })).status).toBe(400);
    const big = await req('/setup/api/admin', { body: { name: 'a', password: 'p'.repeat(9000), boxName: 'b' }, token });
    expect(big.status).toBe(413);
  });

  it('reports hardware and capacity, names CGNAT, checks the password, and is gone after done', async () => {
    const token = await session();
    const hw = (await (await req('/setup/api/hardware', { token })).json()) as { overall: string };
    expect(hw.overall).toBe('green');
    const line = (await (await req('/setup/api/line', { body: { uploadMbps: 50, downloadMbps: 250, meetingSize: 10 }, token })).json()) as { capacity: { video: { participants: number; limitedBy: string } } };
    expect(line.capacity.video).toEqual({ participants: 8, limitedBy: 'upload' });
    const net = (await (await req('/setup/api/network', { body: { mapPorts: true }, token })).json()) as { router: { wan: string; missing: unknown[] }; forwards: unknown[] };
    expect(net.router.wan).toBe('cgnat');
    expect(net.router.missing).toHaveLength(net.forwards.length);

    const weak = await req('/setup/api/admin', { body: { name: 'anna', password: 'password1234', boxName: 'Praxis' }, token });
    expect(weak.status).toBe(422);
    expect(((await weak.json()) as { problems: string[] }).problems).toContain('common');
    expect(accounts.hasAdmin()).toBe(false);
    expect((await req('/setup/api/admin', { body: { name: 'anna', password: 'Tr0mbone-Kater!', boxName: 'Praxis' }, token })).status).toBe(200);
    expect(accounts.verify('anna', 'Tr0mbone-Kater!')).toBe(true);
    expect((await req('/setup/api/admin', { body: { name: 'bob', password: 'Tr0mbone-Kater!', boxName: 'Praxis' }, token })).status).toBe(409);

    // Domain and certificate are missing: done refuses and says which.
    const early = await req('/setup/api/done', { body: { confirm: true }, token });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { missing: string[] }).missing).toEqual(['domain', 'certificate']);
    expect(setup.isDone()).toBe(false);
    expect(existsSync(join(runtimeDir, 'setup-code'))).toBe(true);
  });

  it('after setup, answers 404 and redirects the page to the admin login', async () => {
    const token = await session();
    // A service started with setup.json present builds the app with done: true.
    const finished = createSetupApp({
      opts: { runtimeDir, dataDir, code, ports: { httpsPort: 443, httpPort: 80, rtp: { min: 20000, max: 20001 }, turnPort: null }, acme: { directoryUrl: 'x', caFile: null }, dnsServers: null, desecApi: 'x' },
      accounts,
      system: { call: async () => undefined },
      log: createLogger({ level: 'error' }),
      clientAddress: () => '192.168.1.20',
      readHardware: async () => hardware,
      openRouter: async () => { throw new Error('not called'); },
      challenges: new ChallengeStore(),
      onCertificate: async () => undefined,
    onDone: async () => undefined,
      done: true,
    });
    for (const path of ['/setup/api/session', '/setup/api/status', '/setup/api/hardware']) {
      const res = await finished.app.request(path, { method: path.endsWith('session') ? 'POST' : 'GET', headers: { authorization: `Bearer ${token}` }, body: path.endsWith('session') ? JSON.stringify({ code }) : null });
      expect(res.status).toBe(404);
    }
    const page = await finished.app.request('/setup');
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/admin');
    expect(readFileSync(join(runtimeDir, 'setup-code'), 'utf8')).toContain('-');
  });
});
