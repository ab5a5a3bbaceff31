// Certificates by ACME (acme-client does the protocol). HTTP-01: the router forwards port 80 to the box,
// whose plain-HTTP listener answers /.well-known/acme-challenge/<token> from the ChallengeStore and
// redirects everything else to HTTPS. The directory URL is a setting (Let's Encrypt on the box, Pebble
// in tests); a CA file may be given for a directory with a private CA (Pebble).
import { Agent, get as httpsGet } from 'node:https';
import { get as httpGet } from 'node:http';
import { readFile } from 'node:fs/promises';
import * as acme from 'acme-client';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';

/** Renew when fewer days than this are left (Let's Encrypt certificates last 90 days, short ones 6). */
export const RENEW_BEFORE_DAYS = 30;

/** Token → key authorization, for the challenges in flight. Bounded: an order has few. */
export class ChallengeStore {
  readonly #map = new Map<string, string>();
  set(token: string, keyAuthorization: string): void {
    if (this.#map.size >= 32) this.#map.clear();
    this.#map.set(token, keyAuthorization);
  }
  get(token: string): string | undefined {
    return this.#map.get(token);
  }
  delete(token: string): void {
    this.#map.delete(token);
  }
}

export interface AcmeOptions {
  directoryUrl: string;
  /** PEM file with the CA that signs the directory's own HTTPS certificate; null: the system's. */
  caFile: string | null;
  challenges: ChallengeStore;
  log: Logger;
  /** How often acme-client retries a request that failed (default 10, with backoff up to 5 s). */
  retries?: number;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  accountKeyPem: string;
  notAfter: string;
}

export class AcmeError extends Error {
  override readonly name = 'AcmeError';
  constructor(
    readonly reason: 'directory' | 'challenge' | 'order',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Fetches the directory once before ordering. acme-client's promise never settles when the directory
 * cannot be reached at all (seen with a refused connection), so this check gives the clear error.
 */
export function checkDirectory(url: string, agent: Agent | undefined, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new AcmeError('directory', `the certificate authority could not be reached (${why})`));
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsGet : httpGet)(u, { timeout: timeoutMs, ...(agent && u.protocol === 'https:' ? { agent } : {}) }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else fail(`status ${res.statusCode ?? 0}`);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.name));
  });
}

/** Orders a certificate for `name`. Reuses `accountKeyPem` when given (renewals). */
export async function issueCertificate(opts: AcmeOptions, name: string, email: string | null, accountKeyPem: string | null): Promise<IssuedCertificate> {
  const agent = opts.caFile ? new Agent({ ca: await readFile(opts.caFile) }) : undefined;
  // acme-client speaks through its axios instance; give it an agent that trusts the directory's CA.
  if (agent) acme.axios.defaults.httpsAgent = agent;
  await checkDirectory(opts.directoryUrl, agent);
  const accountKey = accountKeyPem ? Buffer.from(accountKeyPem) : await acme.crypto.createPrivateEcdsaKey('P-256');
  const client = new acme.Client({ directoryUrl: opts.directoryUrl, accountKey, backoffAttempts: opts.retries ?? 10, backoffMin: 500, backoffMax: 5000 });
  const [key, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
  let cert: string;
  try {
    cert = await client.auto({
      csr,
      ...(email ? { email } : {}),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The box cannot reach itself through the router on every network (no hairpin NAT): let the CA check.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        opts.challenges.set(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        opts.challenges.delete(challenge.token);
      },
    });
  } catch (err) {
    opts.log.warn('certificate order failed', { err: describeError(err) });
    const msg = err instanceof Error ? err.message : String(err);
    // acme-client reports the CA's problem document text; it names no secret.
    throw new AcmeError(/connect|ENOTFOUND|ECONNREFUSED|directory/i.test(msg) && !/challenge|authorization/i.test(msg) ? 'directory' : 'challenge', msg.slice(0, 300));
  }
  const info = acme.crypto.readCertificateInfo(cert);
  opts.log.info('certificate issued', { days: Math.round((info.notAfter.getTime() - Date.now()) / 86_400_000) });
  return { certPem: cert, keyPem: key.toString(), accountKeyPem: accountKey.toString(), notAfter: info.notAfter.toISOString() };
}

/** True when the certificate ends within RENEW_BEFORE_DAYS (or in less than a third of its life). */
export function needsRenewal(certPem: string, now: Date): boolean {
  const info = acme.crypto.readCertificateInfo(certPem);
  const left = info.notAfter.getTime() - now.getTime();
  const life = info.notAfter.getTime() - info.notBefore.getTime();
  return left < Math.min(RENEW_BEFORE_DAYS * 86_400_000, life / 3);
}
