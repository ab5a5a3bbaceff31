// Every wizard step's input schema, the setup code and its limits, and the password check.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStep, InputError, STEP_SCHEMAS } from '../../appliance/setup/schemas.js';
import { AttemptLimiter, CODE_LENGTH, codesEqual, createBootCode, formatCode, generateCode, normaliseCode, readBootCode, removeBootCode } from '../../appliance/setup/code.js';
import { passwordProblems } from '../../appliance/setup/password.js';
import { checkSetupConfig } from '../../appliance/setup/config.js';
import { desecUpdateRequest } from '../../appliance/setup/ddns.js';
import { requiredForwards, singleMappings } from '../../appliance/setup/forwards.js';

const ok = (step: keyof typeof STEP_SCHEMAS, body: unknown): boolean => STEP_SCHEMAS[step](body);

describe('step input schemas', () => {
  it.each<[keyof typeof STEP_SCHEMAS, unknown, boolean]>([
    ['code', { code: 'ABCDE-FGHJK' }, true],
    ['code', { code: '' }, false],
    ['code', { code: 'x'.repeat(33) }, false],
    ['code', { code: 12345 }, false],
    ['code', { code: 'ABCDE', extra: 1 }, false],
    ['code', {}, false],
    ['line', { uploadMbps: 40, downloadMbps: 250, meetingSize: 10 }, true],
    ['line', { uploadMbps: null, downloadMbps: null, meetingSize: 2 }, true],
    ['line', { uploadMbps: 0, downloadMbps: 250, meetingSize: 10 }, false],
    ['line', { uploadMbps: 1e6, downloadMbps: 250, meetingSize: 10 }, false],
    ['line', { uploadMbps: 40, downloadMbps: 250, meetingSize: 1 }, false],
    ['line', { uploadMbps: 40, downloadMbps: 250, meetingSize: 10.5 }, false],
    ['line', { uploadMbps: 40, downloadMbps: 250 }, false],
    ['network', { mapPorts: true }, true],
    ['network', { mapPorts: 'yes' }, false],
    ['domain', { kind: 'own', name: 'meet.example.org' }, true],
    ['domain', { kind: 'own', name: 'Meet.Example.org' }, false],
    ['domain', { kind: 'own', name: 'localhost' }, false],
    ['domain', { kind: 'own', name: 'a..b.org' }, false],
    ['domain', { kind: 'own', name: '-bad.example.org' }, false],
    ['domain', { kind: 'own', name: 'meet.example.org', token: 'x'.repeat(20) }, false],
    ['domain', { kind: 'desec', name: 'club.dedyn.io', token: 'abcDEF123_-abcDEF123_-abcdef' }, true],
    ['domain', { kind: 'desec', name: 'club.dedyn.io', token: 'short' }, false],
    ['domain', { kind: 'desec', name: 'club.dedyn.io', token: 'has space has space has space' }, false],
    ['domain', { kind: 'desec', name: 'club.dedyn.io' }, false],
    ['domain', { kind: 'other', name: 'club.dedyn.io' }, false],
    ['certificate', { email: null }, true],
    ['certificate', { email: 'host@example.org' }, true],
    ['certificate', { email: 'not an address' }, false],
    ['certificate', {}, false],
    ['admin', { name: 'Anna', password: 'x', boxName: 'Praxis Müller' }, true],
    ['admin', { name: ' Anna', password: 'x', boxName: 'Box' }, false],
    ['admin', { name: 'Anna', password: '', boxName: 'Box' }, false],
    ['admin', { name: 'Anna', password: 'x'.repeat(257), boxName: 'Box' }, false],
    ['admin', { name: 'Anna', password: 'x', boxName: '<script>' }, false],
    ['admin', { name: 'A'.repeat(65), password: 'x', boxName: 'Box' }, false],
    ['done', { confirm: true }, true],
    ['done', { confirm: false }, false],
    ['done', {}, false],
  ])('%s %j → %s', (step, body, expected) => {
    expect(ok(step, body)).toBe(expected);
  });

  it('names the step and the field in its error', () => {
    expect(() => checkStep('line', { uploadMbps: 'fast', downloadMbps: 1, meetingSize: 2 })).toThrow(InputError);
    expect(() => checkStep('line', { uploadMbps: 'fast', downloadMbps: 1, meetingSize: 2 })).toThrow(/line: input\/uploadMbps/);
  });
});

describe('setup code', () => {
  it('is random, from an alphabet without look-alikes, and typed forgivingly', () => {
    const codes = new Set(Array.from({ length: 200 }, generateCode));
    expect(codes.size).toBe(200);
    for (const c of codes) expect(c).toMatch(new RegExp(`^[A-HJKMNP-Z2-9]{${CODE_LENGTH}}$`));
    const code = generateCode();
    expect(codesEqual(code, formatCode(code).toLowerCase())).toBe(true);
    expect(codesEqual(code, ` ${code.slice(0, 5)} ${code.slice(5)} `)).toBe(true);
    expect(codesEqual(code, code.slice(0, -1))).toBe(false);
    expect(normaliseCode('ab-cd ef')).toBe('ABCDEF');
  });

  it('is kept in the runtime folder with mode 0600 and removed when setup is done', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'stube-code-')), 'run');
    const code = await createBootCode(dir);
    expect(statSync(join(dir, 'setup-code')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'setup-code'), 'utf8')).toBe(formatCode(code) + '\n');
    expect(await readBootCode(dir)).toBe(code);
    const again = await createBootCode(dir);
    expect(again).not.toBe(code);
    await removeBootCode(dir);
    expect(await readBootCode(dir)).toBeNull();
  });

  it('limits wrong codes per sender and in total', () => {
    let now = 0;
    const l = new AttemptLimiter({ perSender: 3, total: 5, windowMs: 60_000, maxSenders: 10 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.check('a')).toBeNull();
      l.fail('a');
    }
    expect(l.check('a')).toBe(60_000);
    expect(l.check('b')).toBeNull();
    l.fail('b');
    l.fail('c');
    // Five wrong codes in the window: everybody waits, also a sender never seen.
    expect(l.check('d')).toBeGreaterThan(0);
    now = 60_000;
    expect(l.check('a')).toBeNull();
    expect(l.check('d')).toBeNull();
  });

  it('forgets the oldest sender when its table is full', () => {
    const l = new AttemptLimiter({ perSender: 1, total: 1000, windowMs: 60_000, maxSenders: 2 }, () => 0);
    l.fail('a');
    l.fail('b');
    l.fail('c');
    expect(l.check('a')).toBeNull();
    expect(l.check('c')).not.toBeNull();
  });
});

describe('password strength', () => {
  it.each<[string, string, string[]]>([
    ['correct horse battery staple', 'anna', []],
    ['Tr0mbone-Kater!', 'anna', []],
    ['short1A!', 'anna', ['tooShort']],
    ['Password12345!', 'anna', ['common']],
    ['Passwort2026!!', 'anna', ['common']],
    ['anna-is-the-admin-42', 'anna', ['containsName']],
    ['aaaaaaaaaaaaaaaa', 'anna', ['repetitive', 'fewKinds']],
    ['abcdefghijklmnop', 'anna', ['repetitive', 'fewKinds']],
    ['lowercaseonlyword', 'anna', ['fewKinds']],
    ['x'.repeat(257), 'anna', ['tooLong', 'repetitive']],
  ])('%s', (pw, name, problems) => {
    expect(passwordProblems(pw, name)).toEqual(problems);
  });
});

describe('setup configuration', () => {
  const good = {
    version: 1,
    boxName: 'Praxis',
    domain: { kind: 'own', name: 'meet.example.org' },
    upnp: true,
    line: { uploadMbps: 40, downloadMbps: null, meetingSize: 10 },
    privacy: { meetingLog: false, recordings: false },
    completedAt: '2026-11-27T13:00:00.000Z',
  };
  it('accepts a complete configuration and refuses changed privacy defaults or extra fields', () => {
    expect(checkSetupConfig(good)).toEqual(good);
    expect(() => checkSetupConfig({ ...good, privacy: { meetingLog: true, recordings: false } })).toThrow();
    expect(() => checkSetupConfig({ ...good, token: 'x' })).toThrow();
    expect(() => checkSetupConfig({ ...good, version: 2 })).toThrow();
  });
});

describe('deSEC request', () => {
  it('puts the token in a header and the record in the body, at the configured base URL', () => {
    const req = desecUpdateRequest('http://10.0.0.9:8080/api/v1/', 'club.dedyn.io', 'tok_123', '203.0.113.4', '2001:db8::4');
    expect(req.method).toBe('PUT');
    expect(req.url).toBe('http://10.0.0.9:8080/api/v1/domains/club.dedyn.io/rrsets/');
    expect(req.url).not.toContain('tok_123');
    expect(req.headers).toEqual({ Authorization: 'Token tok_123', 'Content-Type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual([
      { subname: '', type: 'A', ttl: 3600, records: ['203.0.113.4'] },
      { subname: '', type: 'AAAA', ttl: 3600, records: ['2001:db8::4'] },
    ]);
    expect(JSON.parse(desecUpdateRequest('https://x/api', 'a.dedyn.io', 't', '1.2.3.4', null).body)).toHaveLength(1);
  });
});

describe('port forwards', () => {
  it('lists HTTPS, the ACME challenge, media and TURN, and expands ranges for UPnP', () => {
    const f = requiredForwards({ httpsPort: 8443, httpPort: 8080, rtp: { min: 20000, max: 20002 }, turnPort: 3478 });
    expect(f.map((x) => `${x.protocol} ${x.externalFrom}-${x.externalTo}→${x.internalFrom}`)).toEqual(['TCP 443-443→8443', 'TCP 80-80→8080', 'UDP 20000-20002→20000', 'UDP 3478-3478→3478']);
    expect(singleMappings(f)).toHaveLength(6);
    expect(singleMappings(f)[0]).toEqual({ protocol: 'TCP', externalPort: 443, internalPort: 8443 });
  });
});
