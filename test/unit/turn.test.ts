// TURN: credential minting and expiry, the secret file, ICE servers for a participant, and coturn's
// configuration (golden file plus the properties that keep it from being an open relay).
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_PEER_RANGES, CoturnConfigError, coturnLimits, renderCoturnConfig, secretLine, type CoturnConfigInput } from '../../appliance/turn/coturn-config.js';
import { mintCredential, newPseudonym, TurnSecret, TurnSecretError } from '../../appliance/turn/credentials.js';
import { hostFromHeader, turnIceServers } from '../../appliance/turn/ice-servers.js';
import { MASKED_UNITS } from '../../image/plan/files.js';
import { REMOVED_PATHS } from '../../image/stages/configure.js';

const SECRET = 'a'.repeat(64);

describe('TURN REST credentials', () => {
  it('follow the use-auth-secret scheme: expiry:pseudonym, base64 HMAC-SHA1 of the user name', () => {
    const c = mintCredential(SECRET, 'Pseudonym_123', 600, 1_700_000_000_500);
    expect(c.expiresAt).toBe(1_700_000_600);
    expect(c.username).toBe('1700000600:Pseudonym_123');
    expect(c.credential).toBe(createHmac('sha1', SECRET).update('1700000600:Pseudonym_123').digest('base64'));
  });

  it('differ with the secret and with the expiry', () => {
    const a = mintCredential(SECRET, 'Pseudonym_123', 600, 0);
    expect(mintCredential('b'.repeat(64), 'Pseudonym_123', 600, 0).credential).not.toBe(a.credential);
    expect(mintCredential(SECRET, 'Pseudonym_123', 601, 0).credential).not.toBe(a.credential);
  });

  it('refuse lifetimes outside 60 s – 1 day and odd pseudonyms', () => {
    expect(() => mintCredential(SECRET, 'Pseudonym_123', 59, 0)).toThrow(RangeError);
    expect(() => mintCredential(SECRET, 'Pseudonym_123', 86_401, 0)).toThrow(RangeError);
    expect(() => mintCredential(SECRET, 'a:b@c', 600, 0)).toThrow(RangeError);
  });

  it('use a random pseudonym that says nothing about the person', () => {
    const names = new Set(Array.from({ length: 200 }, () => newPseudonym()));
    expect(names.size).toBe(200);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('TurnSecret', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stube-turn-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created once (mode 0600), kept across opens, and rotated to a new value', async () => {
    const file = join(dir, 'secrets', 'turn');
    const s1 = await TurnSecret.open(file, { create: true });
    expect(s1.value).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const s2 = await TurnSecret.open(file, { create: true });
    expect(s2.value).toBe(s1.value);
    await s1.rotate();
    expect(s1.value).not.toBe(s2.value);
    await s2.reload();
    expect(s2.value).toBe(s1.value);
    const c = s1.mint(600, 0);
    expect(c.credential).toBe(createHmac('sha1', s1.value).update(c.username).digest('base64'));
  });

  it('is not created when the TURN unit owns it, and a damaged file is refused without quoting it', async () => {
    const file = join(dir, 'turn');
    await expect(TurnSecret.open(file, { create: false })).rejects.toThrow(TurnSecretError);
    await writeFile(file, 'not-hex-secret-value\n');
    const err = await TurnSecret.open(file, { create: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TurnSecretError);
    expect(String(err)).not.toContain('not-hex-secret-value');
  });
});

describe('ICE servers for a participant', () => {
  const cred = mintCredential(SECRET, 'Pseudonym_123', 600, 0);

  it('point only at the box: turn: UDP and TCP on the TURN port, turns: on the HTTPS port', () => {
    expect(turnIceServers('stube.local', cred, { turn: 3478, tls: 443 })).toEqual([
      {
        urls: ['turn:stube.local:3478?transport=udp', 'turn:stube.local:3478?transport=tcp', 'turns:stube.local:443?transport=tcp'],
        username: cred.username,
        credential: cred.credential,
      },
    ]);
    expect(turnIceServers('10.0.0.5', cred, { turn: 3478, tls: null })[0]?.urls).toEqual([
      'turn:10.0.0.5:3478?transport=udp',
      'turn:10.0.0.5:3478?transport=tcp',
    ]);
  });

  it('take the host from the Host header, and nothing that is not a plain name or address', () => {
    expect(hostFromHeader('Stube.Local:8443')).toBe('stube.local');
    expect(hostFromHeader('192.168.1.20')).toBe('192.168.1.20');
    expect(hostFromHeader('[fd00::1]:443')).toBe('[fd00::1]');
    for (const bad of [undefined, '', 'a b', 'evil.example/x', 'x?transport=udp', '[zz::1]', 'a'.repeat(301), 'host:port:1', 'user@host']) {
      expect(hostFromHeader(bad)).toBeNull();
    }
  });
});

const golden = join(import.meta.dirname, 'golden', 'turnserver.conf');

function input(over: Partial<CoturnConfigInput> = {}): CoturnConfigInput {
  return {
    ...coturnLimits(),
    listeningIps: ['10.231.5.2'],
    turnPort: 3478,
    realm: 'stube.local',
    hostname: 'stube',
    relayFirst: 40000,
    relayLast: 40199,
    runtimeDir: '/run/stube/coturn',
    deniedPeerRanges: [...ALL_PEER_RANGES],
    allowedPeerIps: ['10.231.5.2'],
    ...over,
  };
}

/** key → values, comments and blank lines dropped. */
function options(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [k = '', v = ''] = line.split(/=(.*)/s);
    out.set(k, [...(out.get(k) ?? []), v]);
  }
  return out;
}

describe('coturn configuration', () => {
  it('matches its golden copy', () => {
    const text = renderCoturnConfig(input());
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('denies every IPv4 and IPv6 peer before allowing only the media server', () => {
    const o = options(renderCoturnConfig(input({ allowedPeerIps: ['10.231.5.2', 'fd00::2'] })));
    expect(o.get('denied-peer-ip')).toEqual(['0.0.0.0-255.255.255.255', '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']);
    expect(o.get('allowed-peer-ip')).toEqual(['10.231.5.2', 'fd00::2']);
  });

  it('has the hardening the issue asks for', () => {
    const o = options(renderCoturnConfig(input()));
    for (const flag of ['fingerprint', 'use-auth-secret', 'no-cli', 'no-tcp-relay', 'no-multicast-peers', 'no-software-attribute',
      'no-tlsv1', 'no-tlsv1_1', 'no-stdout-log', 'simple-log']) {
      expect(o.has(flag), flag).toBe(true);
    }
    expect(o.get('stale-nonce')).toEqual(['600']);
    expect(o.get('log-file')).toEqual(['/dev/null']);
    expect(o.get('min-port')).toEqual(['40000']);
    expect(o.get('max-port')).toEqual(['40199']);
    expect(Number(o.get('user-quota')?.[0])).toBeGreaterThan(0);
    expect(Number(o.get('total-quota')?.[0])).toBeGreaterThan(0);
    expect(Number(o.get('max-bps')?.[0])).toBeGreaterThan(0);
    // No anonymous access, no CLI password, no secret in the rendered template.
    for (const k of ['no-auth', 'cli-password', 'static-auth-secret', 'verbose', 'Verbose', 'syslog', 'log-binding']) expect(o.has(k), k).toBe(false);
  });

  it('refuses input the schema does not allow instead of rendering blanks', () => {
    expect(() => renderCoturnConfig({ ...input(), realm: 'x\nno-auth' })).toThrow(CoturnConfigError);
    expect(() => renderCoturnConfig({ ...input(), allowedPeerIps: ['10.0.0.1\nno-auth'] })).toThrow(CoturnConfigError);
    expect(() => renderCoturnConfig({ ...input(), relayFirst: 40000, relayLast: 40000 })).toThrow(CoturnConfigError);
    const { realm: _, ...missing } = input();
    expect(() => renderCoturnConfig(missing as CoturnConfigInput)).toThrow(CoturnConfigError);
  });

  it('adds the secret only as hex', () => {
    expect(secretLine(SECRET)).toBe(`static-auth-secret=${SECRET}\n`);
    expect(() => secretLine('abc\nno-auth')).toThrow(CoturnConfigError);
  });
});

describe('the image never runs Debian\'s coturn', () => {
  it('masks its unit and removes its enablement link, SysV script, defaults and sample configuration', () => {
    expect(MASKED_UNITS).toContain('coturn.service');
    expect(REMOVED_PATHS).toEqual(expect.arrayContaining([
      '/etc/systemd/system/multi-user.target.wants/coturn.service', '/etc/init.d/coturn', '/etc/default/coturn', '/etc/turnserver.conf',
    ]));
  });
});
