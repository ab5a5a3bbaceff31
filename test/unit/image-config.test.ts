import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { imageVersion, loadConfig, parseConfig } from '../../image/config/load.js';
import { ConfigError } from '../../image/errors.js';

const configs = fileURLToPath(new URL('../../image/configs/', import.meta.url));
const debianFile = `${configs}debian-13-amd64.json`;
const debian = (): Record<string, unknown> => JSON.parse(readFileSync(debianFile, 'utf8')) as Record<string, unknown>;

function problemsOf(data: unknown): readonly string[] {
  try {
    parseConfig(data, 'test.json');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('image configuration', () => {
  it('accepts the default Debian 13 configuration and fills defaults', () => {
    const c = loadConfig(debianFile);
    expect(c.suite).toBe('trixie');
    expect(c.partitions.rootMiB).toBeGreaterThanOrEqual(1024);
    expect(c.ports).toEqual({ https: 443, turn: 3478, rtp: '20000-20199', turnRelay: '40000-40199' });
    expect(c.bootTries).toBe(3);
    expect(c.healthTimeoutSeconds).toBe(600);
    expect(c.version).toBe('');
    expect(imageVersion(c, '0.1.0')).toBe('0.1.0');
    expect(c.backports.packages.map((p) => p.source)).toEqual(['janus', 'coturn']);
  });

  it('accepts the Ubuntu LTS configuration (suite, mirror and keyring by configuration)', () => {
    const c = loadConfig(`${configs}ubuntu-24.04-amd64.json`);
    expect(c.distribution).toBe('ubuntu');
    expect(c.keyring).toMatch(/ubuntu-archive-keyring/);
    expect(c.backports.from.signedBy).toMatch(/debian-archive-keyring/);
  });

  it('fills defaults for a minimal file', () => {
    const d = debian();
    for (const k of ['name', 'hostname', 'locale', 'timezone', 'packages', 'ports', 'update', 'bootTries']) delete d[k];
    const c = parseConfig(d);
    expect(c.name).toBe('stube');
    expect(c.hostname).toBe('stube');
    expect(c.update).toEqual({ channel: 'stable', url: '' });
  });

  it('names the field and the reason for each problem', () => {
    const d = debian();
    d['suite'] = 'Trixie!';
    d['architecture'] = 'arm64';
    (d['partitions'] as Record<string, unknown>)['rootMiB'] = 10;
    d['colour'] = 'blue';
    delete d['kernelPackage'];
    const problems = problemsOf(d);
    expect(problems).toContain('suite: has an invalid format (must match ^[a-z]+$)');
    expect(problems).toContain('architecture: must be one of "amd64"');
    expect(problems).toContain('partitions.rootMiB: must be >= 512');
    expect(problems).toContain('colour: is not a known field');
    expect(problems).toContain('kernelPackage: is required');
  });

  it('rejects port ranges that overlap or contain the fixed ports', () => {
    const d = debian();
    d['ports'] = { https: 443, turn: 20005, rtp: '20000-20199', turnRelay: '20100-20300' };
    const problems = problemsOf(d);
    expect(problems).toContain('ports.turnRelay: overlaps ports.rtp');
    expect(problems).toContain('ports.turn: lies inside ports.rtp');
  });

  it('rejects a backport listed twice and an unknown route', () => {
    const d = debian();
    const bp = d['backports'] as { packages: Record<string, unknown>[] };
    bp.packages.push({ ...bp.packages[0] });
    expect(problemsOf(d)).toContain('backports.packages: source "janus" is listed twice');
    (bp.packages[0] as Record<string, unknown>)['route'] = 'download';
    expect(problemsOf(d)).toContain('backports.packages.0.route: must be one of "rebuild", "binary"');
  });

  it('rejects a Node runtime older than 24 (Node 20 reached its end of life)', () => {
    const d = debian();
    (d['node'] as Record<string, unknown>)['version'] = '20.19.0';
    expect(problemsOf(d).join('\n')).toMatch(/^node\.version: has an invalid format/m);
  });

  it('fails on a file that is not JSON, saying so', () => {
    expect(() => loadConfig(fileURLToPath(new URL('./image-config.test.ts', import.meta.url)))).toThrow(/is not valid JSON/);
  });
});
