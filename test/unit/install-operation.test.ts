import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInstallRequest, createInstallHost, rootPartUuidOf, type InstallHost, type InstallSurvey } from '../../appliance/install/host.js';
import { createLogger } from '../../appliance/log.js';
import type { DiskFacts } from '../../appliance/install/disks.js';
import { runOperation, RefusedError, type SystemContext } from '../../appliance/system/operations.js';

const GB = 1e9;
function disk(name: string, over: Partial<DiskFacts> = {}): DiskFacts {
  return { name, path: `/dev/${name}`, model: '', serial: '', sizeBytes: 256 * GB, removable: false, rotational: false, usb: false, transport: '', readOnly: false, partitionTable: false, filesystems: [], ...over };
}
const survey: InstallSurvey = {
  bootDisk: 'sda',
  minBytes: 3 * GB,
  disks: [
    disk('sda', { removable: true, usb: true, sizeBytes: 32 * GB }),
    disk('nvme0n1', { model: 'Samsung SSD 980 500GB', serial: 'S64DNX0R123' }),
    disk('sdb', { model: 'Small', sizeBytes: 2 * GB }),
    disk('sdc', { model: 'Card', removable: true }),
    disk('sdd', { model: 'Locked', readOnly: true }),
  ],
};

describe('installToDisk checks', () => {
  it.each([
    ['/dev/nvme0n1', 'Samsung SSD 980 500GB', false, null],
    ['/dev/nvme0n1', '  Samsung  SSD 980 500GB ', false, null],
    ['/dev/nvme0n1', 'S64DNX0R123', false, null],
    ['/dev/nvme0n1', 'Samsung', false, /does not name this disk/],
    ['/dev/nvme0n1', 'Samsung SSD 980 500GB', true, /already running/],
    ['/dev/nvme1n1', 'x', false, /present now/],
    ['/dev/sda', '', false, /runs from/],
    ['/dev/sdb', 'Small', false, /too small/],
    ['/dev/sdc', 'Card', false, /not an internal disk/],
    ['/dev/sdd', 'Locked', false, /read-only/],
  ] as const)('%s confirmed as %j (busy %s)', (path, confirmation, busy, refusal) => {
    const r = checkInstallRequest(survey, path, confirmation, busy);
    if (refusal === null) expect(r).toMatchObject({ ok: true, disk: { path } });
    else expect(r.ok ? '' : r.reason).toMatch(refusal);
  });

  it('refuses when the box already runs from an internal disk', () => {
    const internal = { ...survey, bootDisk: 'sdb' };
    expect(checkInstallRequest(internal, '/dev/nvme0n1', 'Samsung SSD 980 500GB', false)).toMatchObject({ ok: false, reason: expect.stringMatching(/removable/) });
  });

  it('reads the running root from the kernel command line', () => {
    expect(rootPartUuidOf('BOOT_IMAGE=/x root=PARTUUID=0a1b2c3d-0000-4000-8000-000000000002 ro rootwait')).toBe('0a1b2c3d-0000-4000-8000-000000000002');
    expect(rootPartUuidOf('root=/dev/sda2 ro')).toBeNull();
  });
});

describe('installToDisk in the allow-list', () => {
  const started: string[] = [];
  const host: InstallHost = { survey: async () => survey, running: () => false, begin: async (d) => void started.push(d.path) };
  const ctx = { exec: async () => undefined, writeFile: async () => undefined, paths: { tlsDir: '', nftablesConf: '', templatesDir: '' }, turnRelay: { user: 'u', first: 1, last: 2 }, installer: host } satisfies SystemContext;

  it('starts a checked request', async () => {
    await runOperation('installToDisk', { disk: '/dev/nvme0n1', confirmation: 'S64DNX0R123' }, ctx);
    expect(started).toEqual(['/dev/nvme0n1']);
  });

  it.each([
    [{ disk: '/dev/nvme0n1p1', confirmation: 'x' }],
    [{ disk: '/dev/mapper/root', confirmation: 'x' }],
    [{ disk: '/dev/sda; reboot', confirmation: 'x' }],
    [{ disk: '/dev/nvme0n1', confirmation: '' }],
    [{ disk: '/dev/nvme0n1', confirmation: 'x'.repeat(201) }],
    [{ disk: '/dev/nvme0n1', confirmation: 'x', extra: 1 }],
  ])('refuses %j by its schema', async (args) => {
    await expect(runOperation('installToDisk', args, ctx)).rejects.toBeInstanceOf(RefusedError);
  });

  it('refuses what the checks refuse, and everything where no installer is wired', async () => {
    await expect(runOperation('installToDisk', { disk: '/dev/sda', confirmation: 'x' }, ctx)).rejects.toThrow(/runs from/);
    const { installer: _none, ...bare } = ctx;
    await expect(runOperation('installToDisk', { disk: '/dev/nvme0n1', confirmation: 'S64DNX0R123' }, bare)).rejects.toThrow(/not available/);
    expect(started).toEqual(['/dev/nvme0n1']);
  });
});

describe('the helper starting an installation after a failed one', () => {
  it('shows the new attempt before answering, and names a failure that comes before any disk work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-install-host-'));
    try {
      const progressFile = join(dir, 'install-progress.json');
      // What the previous attempt left: the wizard must not read it as this attempt's end.
      writeFileSync(progressFile, JSON.stringify({ phase: 'failed', failure: 'writeError', written: 5, toWrite: 9, verified: 0, toVerify: 9, rate: null, secondsLeft: null, disk: 'nvme3n1' }));
      const lines: string[] = [];
      const host = createInstallHost({ progressFile, dataDir: dir, log: createLogger({ level: 'info', write: (l) => lines.push(l) }), bootDisk: async () => null });
      const read = (): { phase: string; failure: string | null; disk: string } => JSON.parse(readFileSync(progressFile, 'utf8')) as { phase: string; failure: string | null; disk: string };
      await host.begin(disk('nvme1n1'));
      expect(read()).toMatchObject({ phase: 'checking', failure: null, disk: 'nvme1n1' });
      for (let i = 0; i < 200 && host.running(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(host.running()).toBe(false);
      // No boot disk: the attempt fails before touching a disk, and says so.
      expect(read()).toMatchObject({ phase: 'failed', failure: 'failed', disk: 'nvme1n1' });
      expect(lines.join('\n')).toMatch(/installation failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
