// Janus behind the home router: the public address the setup wizard learned reaches Janus's
// nat_1_1_mapping (with the private host kept) when janus-run renders its configuration; an explicit
// mapping wins; a box without one, or with a damaged setup.json, still starts Janus without a mapping.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { janusConfigFromArgs, natMappingFor } from '../../appliance/cli/janus-args.js';
import { renderJanusConfig } from '../../appliance/media/janus-config.js';
import { checkSetupConfig, natMappingFromSetup, publicIpFromRouter, writeSetupConfig, type SetupConfig } from '../../appliance/setup/config.js';

const SETUP: SetupConfig = {
  version: 1,
  boxName: 'Praxis',
  domain: { kind: 'own', name: 'meet.example.org' },
  upnp: true,
  line: { uploadMbps: 40, downloadMbps: null, meetingSize: 10 },
  privacy: { meetingLog: false, recordings: false },
  completedAt: '2026-11-27T13:00:00.000Z',
};

let data: string;
let out: string;
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'stube-nat-data-'));
  out = mkdtempSync(join(tmpdir(), 'stube-nat-out-'));
});
afterEach(() => {
  for (const d of [data, out]) rmSync(d, { recursive: true, force: true });
});

/** The `nat: { ... }` block of the rendered janus.jcfg, as key → raw value. */
async function natSection(argv: string[], env: { STUBE_NAT_MAPPING?: string } = {}): Promise<Map<string, string>> {
  const input = await janusConfigFromArgs(['--data', data, '--out', out, ...argv], 'test', env);
  const text = (await renderJanusConfig(input)).get('janus.jcfg') ?? '';
  const block = /\nnat: \{\n([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
  return new Map(block.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const [k, ...v] = l.split('=');
    return [(k ?? '').trim(), v.join('=').trim()];
  }));
}

describe('the public address in setup.json', () => {
  it('is checked: a dotted IPv4 address or nothing', () => {
    expect(checkSetupConfig({ ...SETUP, publicIp: '203.0.113.7' }).publicIp).toBe('203.0.113.7');
    expect(checkSetupConfig(SETUP).publicIp).toBeUndefined();
    for (const bad of ['300.1.1.1', 'example.org', '203.0.113.7 ', '2001:db8::1', '203.0.113']) {
      expect(() => checkSetupConfig({ ...SETUP, publicIp: bad }), bad).toThrow();
    }
    expect(publicIpFromRouter({ externalIp: '203.0.113.7', wan: 'public' })).toEqual({ publicIp: '203.0.113.7' });
    for (const wan of ['cgnat', 'private', 'noPublic', 'unknown']) expect(publicIpFromRouter({ externalIp: '100.64.0.7', wan }), wan).toEqual({});
    expect(publicIpFromRouter({ externalIp: null, wan: 'public' })).toEqual({});
    expect(publicIpFromRouter(null)).toEqual({});
    expect(natMappingFromSetup(null)).toBeNull();
    expect(natMappingFromSetup(SETUP)).toBeNull();
  });
});

describe('janus-run\'s NAT mapping', () => {
  it('comes from setup.json when nothing else gives one, with the private host kept', async () => {
    await writeSetupConfig(data, { ...SETUP, publicIp: '203.0.113.7' });
    const nat = await natSection([]);
    expect(nat.get('nat_1_1_mapping')).toBe('"203.0.113.7"');
    expect(nat.get('keep_private_host')).toBe('true');
  });

  it('prefers --nat-mapping, then STUBE_NAT_MAPPING, over setup.json', async () => {
    await writeSetupConfig(data, { ...SETUP, publicIp: '203.0.113.7' });
    expect((await natSection(['--nat-mapping', '198.51.100.9'], { STUBE_NAT_MAPPING: '198.51.100.10' })).get('nat_1_1_mapping')).toBe('"198.51.100.9"');
    expect((await natSection([], { STUBE_NAT_MAPPING: '198.51.100.10' })).get('nat_1_1_mapping')).toBe('"198.51.100.10"');
  });

  it('is absent before setup, without a public address, and with a damaged setup.json', async () => {
    expect((await natSection([])).has('nat_1_1_mapping')).toBe(false);
    await writeSetupConfig(data, SETUP);
    expect((await natSection([])).has('nat_1_1_mapping')).toBe(false);
    expect((await natSection([])).has('keep_private_host')).toBe(false);
    writeFileSync(join(data, 'setup.json'), '{"version": 1, "publicIp": "203.0.113.7"');
    const warnings: string[] = [];
    expect(await natMappingFor('', data, (m) => warnings.push(m))).toBe('');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('203.0.113.7');
  });
});
