// The key exchange between the browsers of one meeting, over the service's opaque `e2ee` relay.
//
// - Each browser has an ephemeral X25519 key pair and announces its public key to everyone, with an
//   HMAC under a key derived from the meeting secret. The box relays announcements but, lacking the
//   secret, cannot forge or swap one. Announcements that fail the MAC are ignored (and reported).
// - Sender keys travel pairwise: AES-GCM under HKDF(X25519(mine, theirs), salt from the secret).
// - When a newcomer announces itself, everyone who was there ratchets its sender key forward and sends
//   the result to all (the newcomer cannot decrypt the past); the newcomer sends its key to each peer
//   whose announcement answers its own. When someone leaves, everyone draws a fresh key (the leaver
//   cannot decrypt the future).
// - A new own sender key is used for sending only after SWITCH_DELAY_MS, so that the others have it.
import { Emitter } from '../meeting/Emitter.js';
import { concat, equalBytes, fromBase64Url, randomBytes, toBase64Url, utf8 } from './bytes.js';
import { newSenderKey, ratchet, type SenderKey } from './keySchedule.js';
import { safetyCode } from './safetyCode.js';
import type { MeetingSecretKeys } from './secretKeys.js';

export const SWITCH_DELAY_MS = 700;
/** Own keys that receivers may still see frames from; older ones are forgotten. */
const KEYS_KEPT_PER_PEER = 4;

export type PeerId = string;

export interface KeyExchangeSend {
  (data: string, to?: PeerId): void;
}

interface Peer {
  publicKey: Uint8Array<ArrayBuffer>;
  pairKey: CryptoKey;
  keys: SenderKey[];
}

export type KeyExchangeEvents = {
  /** Our sender key to encrypt with, starting `delayMs` from now (the others need it first). */
  sendKey: [SenderKey, number];
  /** A peer's sender key to decrypt with. */
  receiveKey: [PeerId, SenderKey];
  /** A peer is gone (or re-keyed its identity): forget all its keys. */
  forget: [PeerId];
  /** The safety code or the set of verified / rejected peers changed. */
  changed: [];
};

type Inner =
  | { v: 1; t: 'announce'; pub: string; mac: string; reply: boolean }
  | { v: 1; t: 'key'; iv: string; ct: string };

const MAX_INNER_CHARS = 1500;

export class KeyExchange extends Emitter<KeyExchangeEvents> {
  readonly #secret: MeetingSecretKeys;
  readonly #keyPair: CryptoKeyPair;
  readonly #publicKey: Uint8Array<ArrayBuffer>;
  readonly #send: KeyExchangeSend;
  #self: PeerId | null = null;
  /** The key the others have (or are getting); becomes the sending key after the delay. */
  #current: SenderKey;
  readonly #peers = new Map<PeerId, Peer>();
  readonly #rejected = new Set<PeerId>();
  #code = '';
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(secret: MeetingSecretKeys, keyPair: CryptoKeyPair, publicKey: Uint8Array<ArrayBuffer>, send: KeyExchangeSend) {
    super();
    this.#secret = secret;
    this.#keyPair = keyPair;
    this.#publicKey = publicKey;
    this.#send = send;
    this.#current = newSenderKey();
  }

  static async create(secret: MeetingSecretKeys, send: KeyExchangeSend): Promise<KeyExchange> {
    const keyPair = (await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
    return new KeyExchange(secret, keyPair, publicKey, send);
  }

  get safetyCode(): string {
    return this.#code;
  }

  get sendingKid(): number {
    return this.#current.kid;
  }

  /** Peers whose announcement carried a valid MAC. */
  verifiedPeers(): PeerId[] {
    return [...this.#peers.keys()];
  }

  /** Peers whose announcement did not verify: they hold another secret (or someone forged it). */
  rejectedPeers(): PeerId[] {
    return [...this.#rejected];
  }

  /** The latest sender key a peer gave us (chat needs it by KID). */
  peerKey(peer: PeerId, kid: number): SenderKey | undefined {
    return this.#peers.get(peer)?.keys.find((k) => k.kid === kid);
  }

  currentKey(): SenderKey {
    return this.#current;
  }

  /** Called with our participant ID after every welcome: we are (again) new to everyone. */
  joined(self: PeerId): void {
    this.#run(async () => {
      for (const id of this.#peers.keys()) this.emit('forget', id);
      this.#peers.clear();
      this.#rejected.clear();
      this.#self = self;
      this.#current = newSenderKey(this.#current.kid);
      this.emit('sendKey', this.#current, 0);
      await this.#announce(false);
      await this.#updateCode();
    });
  }

  /** A relayed `e2ee` message. */
  receive(from: PeerId, data: string): void {
    this.#run(() => this.#receive(from, data));
  }

  /** Someone left the meeting: forget them and make a new key they do not know. */
  left(peer: PeerId): void {
    this.#run(async () => {
      this.#rejected.delete(peer);
      if (!this.#peers.delete(peer)) {
        this.emit('changed');
        return;
      }
      this.emit('forget', peer);
      await this.#rotate(newSenderKey(this.#current.kid));
      await this.#updateCode();
    });
  }

  close(): void {
    this.#closed = true;
    this.removeAllListeners();
  }

  /** Inbound messages and own state changes run one at a time, in order. */
  #run(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return;
      try {
        await task();
      } catch (err) {
        console.warn('end-to-end key exchange step failed', err);
      }
    });
  }

  /** Resolves once everything queued so far has been handled (tests). */
  settled(): Promise<void> {
    return this.#queue;
  }

  async #announce(reply: boolean, to?: PeerId): Promise<void> {
    if (!this.#self) return;
    const pub = toBase64Url(this.#publicKey);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', this.#secret.announceMac, this.#announceInput(this.#self, pub)));
    this.#post({ v: 1, t: 'announce', pub, mac: toBase64Url(mac), reply }, to);
  }

  #announceInput(id: PeerId, pub: string): Uint8Array<ArrayBuffer> {
    return utf8(`stube announce\n${id}\n${pub}`);
  }

  #post(inner: Inner, to?: PeerId): void {
    this.#send(toBase64Url(utf8(JSON.stringify(inner))), to);
  }

  async #receive(from: PeerId, data: string): Promise<void> {
    if (!this.#self || from === this.#self) return;
    const inner = parseInner(data);
    if (!inner) {
      console.warn('ignoring a malformed end-to-end message');
      return;
    }
    if (inner.t === 'announce') return this.#onAnnounce(from, inner);
    return this.#onKey(from, inner);
  }

  async #onAnnounce(from: PeerId, m: Extract<Inner, { t: 'announce' }>): Promise<void> {
    let ok = false;
    let pub: Uint8Array<ArrayBuffer> | null = null;
    try {
      pub = fromBase64Url(m.pub);
      ok = pub.length === 32 && (await crypto.subtle.verify('HMAC', this.#secret.announceMac, fromBase64Url(m.mac), this.#announceInput(from, m.pub)));
    } catch {
      ok = false;
    }
    if (!ok || !pub) {
      // Another secret, or a forgery: never use this key. The UI tells people.
      if (!this.#rejected.has(from)) {
        this.#rejected.add(from);
        this.emit('changed');
        // Answer anyway (a public key is no secret): their page then learns that it cannot verify us
        // either and can tell its user that the link differs.
        if (!m.reply) await this.#announce(true, from);
      }
      return;
    }
    this.#rejected.delete(from);
    const known = this.#peers.get(from);
    if (known && equalBytes(known.publicKey, pub)) return; // a repeat
    if (known) this.emit('forget', from);
    const theirs = await crypto.subtle.importKey('raw', pub, { name: 'X25519' }, false, []);
    const shared = await crypto.subtle.deriveBits({ name: 'X25519', public: theirs }, this.#keyPair.privateKey, 256);
    const hkdf = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
    const [a, b] = [this.#self!, from].sort();
    const pairKey = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: this.#secret.pairwiseSalt, info: utf8(`stube pairwise\n${a}\n${b}`) },
      hkdf,
      { name: 'AES-GCM', length: 128 },
      false,
      ['encrypt', 'decrypt'],
    );
    this.#peers.set(from, { publicKey: pub, pairKey, keys: [] });
    if (!m.reply) {
      // They are new: answer so they learn our key, then ratchet forward and give everyone the result.
      await this.#announce(true, from);
      await this.#rotate(await ratchet(this.#current));
    } else {
      // We are new to them: they will ratchet for our sake; we only owe them our current key.
      await this.#sendKeyTo(from, this.#current);
    }
    await this.#updateCode();
  }

  async #onKey(from: PeerId, m: Extract<Inner, { t: 'key' }>): Promise<void> {
    const peer = this.#peers.get(from);
    if (!peer) return;
    let key: SenderKey;
    try {
      const pt = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64Url(m.iv), additionalData: utf8(`stube key\n${from}\n${this.#self}`) },
        peer.pairKey,
        fromBase64Url(m.ct),
      );
      const bytes = new Uint8Array(pt);
      if (bytes.length !== 8 + 16) throw new Error('bad key length');
      const kid = new DataView(bytes.buffer).getUint32(0) * 2 ** 32 + new DataView(bytes.buffer).getUint32(4);
      key = { kid, key: bytes.slice(8) };
    } catch {
      console.warn('a sender key did not decrypt; ignoring it');
      return;
    }
    peer.keys = [key, ...peer.keys.filter((k) => k.kid !== key.kid)].slice(0, KEYS_KEPT_PER_PEER);
    this.emit('receiveKey', from, key);
  }

  async #sendKeyTo(to: PeerId, key: SenderKey): Promise<void> {
    const peer = this.#peers.get(to);
    if (!peer || !this.#self) return;
    const iv = randomBytes(12);
    const kid = new Uint8Array(8);
    new DataView(kid.buffer).setUint32(0, Math.floor(key.kid / 2 ** 32));
    new DataView(kid.buffer).setUint32(4, key.kid >>> 0);
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(`stube key\n${this.#self}\n${to}`) }, peer.pairKey, concat(kid, key.key)),
    );
    this.#post({ v: 1, t: 'key', iv: toBase64Url(iv), ct: toBase64Url(ct) }, to);
  }

  /**
   * Hands `next` to every verified peer now; sending with it starts a little later. The delay runs in the
   * transform worker, whose timers are not throttled like those of a page in a background tab.
   */
  async #rotate(next: SenderKey): Promise<void> {
    this.#current = next;
    for (const id of this.#peers.keys()) await this.#sendKeyTo(id, next);
    this.emit('sendKey', next, SWITCH_DELAY_MS);
  }

  async #updateCode(): Promise<void> {
    this.#code = await safetyCode([this.#publicKey, ...[...this.#peers.values()].map((p) => p.publicKey)]);
    this.emit('changed');
  }
}

function parseInner(data: string): Inner | null {
  try {
    if (data.length > 4 * MAX_INNER_CHARS) return null;
    const v: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(data)));
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (o.v !== 1) return null;
    if (o.t === 'announce' && typeof o.pub === 'string' && typeof o.mac === 'string' && typeof o.reply === 'boolean') {
      return { v: 1, t: 'announce', pub: o.pub, mac: o.mac, reply: o.reply };
    }
    if (o.t === 'key' && typeof o.iv === 'string' && typeof o.ct === 'string') return { v: 1, t: 'key', iv: o.iv, ct: o.ct };
    return null;
  } catch {
    return null;
  }
}
