// When a certificate is due for renewal, and that a fresh one is left alone.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRenewal } from '../../appliance/setup/acme.js';
import { CertificateRenewer } from '../../appliance/setup/renewal.js';
import { ChallengeStore } from '../../appliance/setup/acme.js';
import { createLogger } from '../../appliance/log.js';

function cert(days: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'stube-renew-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=meet.example.org', '-days', String(days), '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  return readFileSync(join(dir, 'c.pem'), 'utf8');
}

const DAY = 86_400_000;

describe('certificate renewal', () => {
  it('renews 30 days before the end, or after two thirds of a short life', () => {
    const ninety = cert(90);
    const now = Date.now();
    expect(needsRenewal(ninety, new Date(now))).toBe(false);
    expect(needsRenewal(ninety, new Date(now + 59 * DAY))).toBe(false);
    expect(needsRenewal(ninety, new Date(now + 61 * DAY))).toBe(true);
    const six = cert(6);
    expect(needsRenewal(six, new Date(now + 3 * DAY))).toBe(false);
    expect(needsRenewal(six, new Date(now + 4.5 * DAY))).toBe(true);
  });

  it('leaves a fresh certificate alone and reports a failed order without throwing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-renew-'));
    const certFile = join(dir, 'cert.pem');
    writeFileSync(certFile, cert(90));
    const calls: string[] = [];
    const make = (now: Date) =>
      new CertificateRenewer({
        dataDir: dir,
        certFile,
        name: 'meet.example.org',
        email: null,
        // Nothing listens on port 1 of loopback: the order fails at the directory.
        acme: { directoryUrl: 'http://127.0.0.1:1/directory', caFile: null, challenges: new ChallengeStore(), log: createLogger({ level: 'error' }), retries: 1 },
        system: { call: async (op) => void calls.push(op) },
        onCertificate: async () => void calls.push('reload'),
        log: createLogger({ level: 'error' }),
        now: () => now,
      });
    expect(await make(new Date()).checkOnce()).toBe('fresh');
    expect(await make(new Date(Date.now() + 80 * DAY)).checkOnce()).toBe('failed');
    expect(calls).toEqual([]);
  });
});
