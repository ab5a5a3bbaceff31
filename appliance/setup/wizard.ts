// The wizard's state between steps, in memory: what each step found. Only the final configuration
// (config.ts) and the secrets the box keeps using (ACME account key, DDNS token) reach the data partition.
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import type { CapacityEstimate } from './capacity.js';
import type { DomainInput, LineInput } from './schemas.js';
import type { RouterReport } from './router.js';
import type { Finding, HardwareReport, Level } from './hardware.js';

export interface WizardProgress {
  hardware: { report: HardwareReport; findings: Finding[]; overall: Level } | null;
  line: LineInput | null;
  capacity: CapacityEstimate | null;
  router: RouterReport | null;
  upnp: boolean;
  domain: { kind: DomainInput['kind']; name: string; resolves: boolean } | null;
  certificate: { notAfter: string } | null;
  admin: { boxName: string } | null;
}

export function emptyProgress(): WizardProgress {
  return { hardware: null, line: null, capacity: null, router: null, upnp: false, domain: null, certificate: null, admin: null };
}

/**
 * Sessions opened by a correct setup code. The token travels in the Authorization header (never in a
 * URL); a few may exist at once (a laptop and a phone), each expires.
 */
export class SetupSessions {
  readonly #tokens = new Map<string, number>();
  constructor(
    readonly ttlMs = 4 * 3600_000,
    readonly max = 4,
    readonly now: () => number = () => Date.now(),
  ) {}

  open(): string {
    const token = randomBytes(32).toString('base64url');
    if (this.#tokens.size >= this.max) {
      const oldest = this.#tokens.keys().next().value;
      if (oldest !== undefined) this.#tokens.delete(oldest);
    }
    this.#tokens.set(hash(token), this.now() + this.ttlMs);
    return token;
  }

  valid(token: string | undefined): boolean {
    if (!token || token.length > 100) return false;
    const h = hash(token);
    for (const [k, until] of this.#tokens) {
      if (until < this.now()) {
        this.#tokens.delete(k);
        continue;
      }
      if (timingSafeEqual(Buffer.from(k, 'hex'), Buffer.from(h, 'hex'))) return true;
    }
    return false;
  }

  clear(): void {
    this.#tokens.clear();
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
