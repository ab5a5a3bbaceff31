import { describe, expect, it } from 'vitest';
import { checkInstallRequest, rootPartUuidOf, type InstallHost, type InstallSurvey } from '../../appliance/install/host.js';
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
  const host: InstallHost = { survey: async () => survey, running: () => false, begin: (d) => void started.push(d.path) };
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
