import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARRY_FILE, installRoutes, parseInstallInput, takeCarry, type InstallRouteDeps } from '../../appliance/setup/install.js';
import { HelperError, type PrivilegedClient } from '../../appliance/system/client.js';
import { createLogger } from '../../appliance/log.js';
import { initialProgress } from '../../appliance/install/progress.js';
import { createBootCode, readBootCode } from '../../appliance/setup/code.js';

let dir: string;
let calls: [string, unknown][];
let refuse: string | null;
const system: PrivilegedClient = {
  async call(op, args) {
    calls.push([op, args]);
    if (refuse) throw new HelperError(refuse, true);
  },
};

function routes(over: Partial<InstallRouteDeps> = {}) {
  return installRoutes({
    dataDir: dir, code: 'ABCDEFGHJK', progressFile: join(dir, 'progress.json'), system,
    readChoice: async () => ({ bootDisk: 'sda', bootRemovable: true, skip: false, minBytes: 1, candidates: [] }),
    carried: null, log: createLogger({ level: 'error' }), ...over,
  });
}
const post = (app: ReturnType<typeof routes>, path: string, body: unknown) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stube-setup-install-'));
  calls = [];
  refuse = null;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('install step input', () => {
  it.each([
    [{ disk: '/dev/nvme0n1', confirmation: 'Samsung SSD 980', language: 'de' }, true],
    [{ disk: '/dev/nvme0n1', confirmation: '', language: 'de' }, false],
    [{ disk: '/dev/nvme0n1', confirmation: 'x', language: 'fr' }, false],
    [{ disk: '/dev/../etc/passwd', confirmation: 'x', language: 'en' }, false],
    [{ disk: '/dev/sdb', confirmation: 'x', language: 'en', more: 1 }, false],
    [null, false],
  ])('%j valid: %s', (body, ok) => {
    expect(typeof parseInstallInput(body) !== 'string').toBe(ok);
  });
});

describe('install step routes', () => {
  it('lists the choice and the progress', async () => {
    writeFileSync(join(dir, 'progress.json'), JSON.stringify({ ...initialProgress('nvme0n1'), phase: 'copying', written: 5 }));
    const r = await (await routes().request('/')).json();
    expect(r).toMatchObject({ installed: false, skip: false, bootDisk: 'sda', progress: { phase: 'copying', written: 5 } });
  });

  it('skips the step when the disks cannot be read', async () => {
    const r = await (await routes({ readChoice: async () => Promise.reject(new Error('lsblk missing')) }).request('/')).json();
    expect(r).toMatchObject({ installed: false, skip: true, candidates: [] });
  });

  it('writes the carry-over before asking the helper, and removes it when the helper refuses', async () => {
    const app = routes();
    const ok = await post(app, '/', { disk: '/dev/nvme0n1', confirmation: 'S64', language: 'de' });
    expect(ok.status).toBe(202);
    expect(calls).toEqual([['installToDisk', { disk: '/dev/nvme0n1', confirmation: 'S64' }]]);
    expect(JSON.parse(readFileSync(join(dir, CARRY_FILE), 'utf8'))).toEqual({ version: 1, code: 'ABCDEFGHJK', language: 'de' });
    refuse = 'installToDisk: the disk is too small';
    const no = await post(app, '/', { disk: '/dev/sdb', confirmation: 'x', language: 'en' });
    expect(no.status).toBe(422);
    expect(await no.json()).toMatchObject({ code: 'refused', error: expect.stringMatching(/too small/) });
    expect(existsSync(join(dir, CARRY_FILE))).toBe(false);
    expect((await post(app, '/', { disk: 'nvme0n1' })).status).toBe(400);
  });

  it('drops the carry-over when the installation failed', async () => {
    writeFileSync(join(dir, CARRY_FILE), '{}');
    writeFileSync(join(dir, 'progress.json'), JSON.stringify({ ...initialProgress('nvme0n1'), phase: 'failed', failure: 'writeError' }));
    const r = await (await routes().request('/progress')).json();
    expect(r.progress).toMatchObject({ failure: 'writeError' });
    expect(existsSync(join(dir, CARRY_FILE))).toBe(false);
  });

  it('reboots only after a finished installation', async () => {
    const app = routes();
    expect((await post(app, '/reboot', {})).status).toBe(409);
    writeFileSync(join(dir, 'progress.json'), JSON.stringify({ ...initialProgress('nvme0n1'), phase: 'done' }));
    expect((await post(app, '/reboot', {})).status).toBe(200);
    expect(calls).toEqual([['reboot', {}]]);
  });

  it('says "installed" when this boot carries on from the stick', async () => {
    const r = await (await routes({ carried: { version: 1, code: 'ABCDEFGHJK', language: 'de' } }).request('/')).json();
    expect(r).toMatchObject({ installed: true, skip: true, language: 'de' });
  });
});

describe('carrying the setup code across the install reboot', () => {
  const carry = { version: 1, code: 'ABCDEFGHJK', language: 'de' };

  it('reads it once on the internal disk and keeps the code valid', async () => {
    writeFileSync(join(dir, CARRY_FILE), JSON.stringify(carry));
    const got = await takeCarry(dir, async () => true);
    expect(got).toEqual(carry);
    expect(existsSync(join(dir, CARRY_FILE))).toBe(false);
    const runtime = join(dir, 'run');
    expect(await createBootCode(runtime, got?.code)).toBe('ABCDEFGHJK');
    expect(await readBootCode(runtime)).toBe('ABCDEFGHJK');
    expect(await takeCarry(dir, async () => true)).toBeNull();
  });

  it('ignores (and deletes) it when running from the stick, or when it is malformed', async () => {
    writeFileSync(join(dir, CARRY_FILE), JSON.stringify(carry));
    expect(await takeCarry(dir, async () => false)).toBeNull();
    expect(existsSync(join(dir, CARRY_FILE))).toBe(false);
    writeFileSync(join(dir, CARRY_FILE), JSON.stringify({ ...carry, code: 'short' }));
    expect(await takeCarry(dir, async () => true)).toBeNull();
    expect(existsSync(join(dir, CARRY_FILE))).toBe(false);
  });
});
