// The privileged helper's allow-list: only the listed operations with arguments inside their schemas
// run; everything else is refused before anything happens. Also over its real unix socket.
import { describe, expect, it, afterEach } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { runOperation, RefusedError, isOperation, type SystemContext } from '../../appliance/system/operations.js';
import { startHelper } from '../../appliance/system/helper.js';
import { helperClient, HelperError } from '../../appliance/system/client.js';
import { createLogger } from '../../appliance/log.js';

interface Recorder extends SystemContext {
  commands: string[][];
  files: Map<string, { data: string; mode: number }>;
}

function recorder(): Recorder {
  const commands: string[][] = [];
  const files = new Map<string, { data: string; mode: number }>();
  return {
    commands,
    files,
    exec: async (argv) => void commands.push(argv),
    writeFile: async (path, data, mode) => void files.set(path, { data, mode }),
    paths: { tlsDir: '/data/tls', nftablesConf: '/etc/nftables.conf', templatesDir: resolve('templates') },
    turnRelay: { user: 'stube-turn', first: 40000, last: 40199 },
  };
}

/** A self-signed certificate and its key, made with openssl (the same kind ACME returns: PEM). */
function certPair(): { certPem: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stube-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=meet.example.org', '-days', '2', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  return { certPem: readFileSync(join(dir, 'c.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'k.pem'), 'utf8') };
}

describe('privileged operations (allow-list)', () => {
  it.each<[unknown, unknown]>([
    ['exec', { argv: ['rm', '-rf', '/'] }],
    ['writeFile', { path: '/etc/shadow', data: 'x' }],
    ['__proto__', {}],
    ['constructor', {}],
    ['toString', {}],
    ['', {}],
    [42, {}],
    [null, {}],
  ])('refuses %j', async (op, args) => {
    const ctx = recorder();
    await expect(runOperation(op, args, ctx)).rejects.toThrow(RefusedError);
    expect(ctx.commands).toEqual([]);
    expect(ctx.files.size).toBe(0);
  });

  it.each<[string, unknown]>([
    ['restartUnit', { unit: 'ssh.service' }],
    ['restartUnit', { unit: 'stube.service; reboot' }],
    ['restartUnit', { unit: 'stube.service', extra: 1 }],
    ['restartUnit', {}],
    ['reboot', { now: true }],
    ['setFirewall', { https: 443, turn: 3478, rtpFirst: 20000, rtpLast: 20199, acmeHttp: 80, mdnsName: 'stube.local\nflush ruleset' }],
    ['setFirewall', { https: 443, turn: 3478, rtpFirst: 80, rtpLast: 20199, acmeHttp: null, mdnsName: 'stube.local' }],
    ['setFirewall', { https: 443, turn: 3478, rtpFirst: 20199, rtpLast: 20000, acmeHttp: null, mdnsName: 'stube.local' }],
    ['writeCertificate', { certPem: 'hello', keyPem: 'world' }],
    ['writeCertificate', { certPem: '-----BEGIN CERTIFICATE-----\n' + 'A'.repeat(70_000), keyPem: '-----BEGIN PRIVATE KEY-----\n' }],
    ['writeCertificate', { certPem: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n', keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }],
  ])('refuses %s with %j', async (op, args) => {
    const ctx = recorder();
    await expect(runOperation(op, args, ctx)).rejects.toThrow(RefusedError);
    expect(ctx.commands).toEqual([]);
    expect(ctx.files.size).toBe(0);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const a = certPair();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ctx = recorder();
    await expect(runOperation('writeCertificate', { certPem: a.certPem, keyPem: other }, ctx)).rejects.toThrow(/does not belong/);
    expect(ctx.files.size).toBe(0);
  });

  it('runs the listed operations with fixed paths and argument arrays', async () => {
    const ctx = recorder();
    const pair = certPair();
    await runOperation('writeCertificate', pair, ctx);
    expect(ctx.files.get('/data/tls/cert.pem')?.data).toBe(pair.certPem);
    expect(ctx.files.get('/data/tls/key.pem')?.mode).toBe(0o640);
    expect(new X509Certificate(ctx.files.get('/data/tls/cert.pem')?.data ?? '').subject).toContain('meet.example.org');

    await runOperation('restartUnit', { unit: 'stube.service' }, ctx);
    await runOperation('reboot', {}, ctx);
    await runOperation('setFirewall', { https: 443, turn: 3478, rtpFirst: 20000, rtpLast: 20199, acmeHttp: 80, mdnsName: 'stube.local' }, ctx);
    expect(ctx.commands).toEqual([
      ['systemctl', 'restart', '--no-block', 'stube.service'],
      ['systemctl', 'reboot'],
      ['nft', '-c', '-f', '/etc/nftables.conf.new'],
      ['nft', '-f', '/etc/nftables.conf'],
    ]);
    const rules = ctx.files.get('/etc/nftables.conf')?.data ?? '';
    expect(rules).toContain('tcp dport 80 accept');
    expect(rules).toContain('udp dport 20000-20199 accept');
    expect(isOperation('reboot')).toBe(true);
    expect(isOperation('hasOwnProperty')).toBe(false);
  });
});

describe('privileged helper over its unix socket', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('answers allowed operations, refuses others, and survives garbage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-helper-'));
    const socketPath = join(dir, 'system.sock');
    const ctx = recorder();
    const helper = await startHelper({ socketPath, gid: null, ctx, log: createLogger({ level: 'error' }) });
    closers.push(() => helper.close());
    const client = helperClient(socketPath, 5000);
    await client.call('restartUnit', { unit: 'stube-janus.service' });
    expect(ctx.commands).toEqual([['systemctl', 'restart', '--no-block', 'stube-janus.service']]);
    const refused = await client.call('restartUnit', { unit: 'sshd.service' } as never).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HelperError);
    expect((refused as HelperError).refused).toBe(true);
    const unknown = await client.call('exec' as never, { argv: ['id'] } as never).catch((e: unknown) => e);
    expect((unknown as HelperError).message).toMatch(/not allowed/);

    // Garbage on the socket: an error answer, and the helper keeps serving.
    const net = await import('node:net');
    const answer = await new Promise<string>((res) => {
      const s = net.createConnection(socketPath, () => s.write('{not json\n'));
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        s.end();
        res(d);
      });
    });
    expect(JSON.parse(answer)).toMatchObject({ ok: false, refused: true });
    await client.call('reboot', {});
    expect(ctx.commands).toHaveLength(2);
  });
});
