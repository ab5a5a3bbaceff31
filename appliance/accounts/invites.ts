// Invite tokens: `<claims>.<mac>`, both base64url, the MAC is HMAC-SHA256 over the claims with a
// 256-bit key kept in <data>/invite.key. One fixed algorithm, nothing negotiable in the token. The
// token travels only in link fragments and the WebSocket hello, never in a URL the box sees.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../config/durable.js';

export const INVITE_KEY_FILE = 'invite.key';
const DOMAIN = 'stube-invite-v1\n';

export interface InviteClaims {
  invite: string;
  room: string;
  role: 'moderator' | 'participant';
}

export class InviteSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('an invite key has 32 bytes');
    this.#key = key;
  }

  /** Loads the key from the data folder, creating it on first use. */
  static async open(dataDir: string): Promise<InviteSigner> {
    const file = join(dataDir, INVITE_KEY_FILE);
    if (!existsSync(file)) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      await writeFileDurable(file, randomBytes(32).toString('base64url') + '\n', 0o600);
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    return new InviteSigner(key);
  }

  #mac(claims: string): Buffer {
    return createHmac('sha256', this.#key).update(DOMAIN).update(claims).digest();
  }

  sign(claims: InviteClaims): string {
    const body = Buffer.from(`${claims.invite}:${claims.room}:${claims.role === 'moderator' ? 'm' : 'p'}`).toString('base64url');
    return `${body}.${this.#mac(body).toString('base64url')}`;
  }

  /** The claims of a token whose MAC is right, or null. */
  verify(token: string): InviteClaims | null {
    if (token.length > 512) return null;
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const expected = this.#mac(body);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const m = /^([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]{22}):([mp])$/.exec(Buffer.from(body, 'base64url').toString('utf8'));
    if (!m || !m[1] || !m[2]) return null;
    return { invite: m[1], room: m[2], role: m[3] === 'm' ? 'moderator' : 'participant' };
  }
}
