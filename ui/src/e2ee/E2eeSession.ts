// End-to-end encryption for one meeting visit, on the main thread: the key exchange (over the
// service's relay), the transform worker every sender and receiver is attached to, the state the UI
// shows (safety code, who cannot be decrypted) and the encrypted chat. The meeting secret enters here
// and goes nowhere else: not into messages, storage or logs.
import type { TrackPipeline } from '../meeting/MediaEngine.js';
import { Emitter } from '../meeting/Emitter.js';
import type { ClientMessage, ServerMessage } from '../meeting/protocolImports.js';
import { fromBase64Url, randomBytes, toBase64Url, utf8 } from './bytes.js';
import { KeyExchange } from './keyExchange.js';
import type { SenderKey } from './keySchedule.js';
import { deriveSecretKeys } from './secretKeys.js';
import { transformPath, type TransformPath } from './support.js';
import type { ForwardedSample, FromWorker, ToWorker, TransformOptions } from './workerProtocol.js';

export interface ChatMessage {
  from: string;
  text: string;
  at: number;
  mine: boolean;
}

/** A participant whose frames keep failing to authenticate for this long is shown as undecryptable. */
const UNDECRYPTABLE_AFTER_S = 2;
export const MAX_CHAT_TEXT = 2000;

export type E2eeEvents = {
  changed: [];
  chat: [ChatMessage];
};

interface ReceiveHealth {
  decrypted: number;
  failed: number;
  /** Consecutive one-second reports with failures and no success. */
  badStreak: number;
}

export class E2eeSession extends Emitter<E2eeEvents> {
  readonly #worker: Worker;
  readonly #path: TransformPath;
  readonly #kx: KeyExchange;
  #send: ((m: ClientMessage) => boolean) | null = null;
  #late: { send: ((m: ClientMessage) => boolean) | null } = { send: null };
  #self: string | null = null;
  #sendingKid: number | null = null;
  #sentFrames = 0;
  readonly #health = new Map<string, ReceiveHealth>();
  readonly #receiverIds = new WeakMap<RTCRtpReceiver, number>();
  #nextId = 1;
  readonly #chat: ChatMessage[] = [];
  #closed = false;
  #sampleWaiters: ((s: ForwardedSample | null) => void)[] = [];

  private constructor(worker: Worker, path: TransformPath, kx: KeyExchange) {
    super();
    this.#worker = worker;
    this.#path = path;
    this.#kx = kx;
    kx.on('sendKey', (k, delayMs) => this.#post({ type: 'sendKey', kid: k.kid, key: k.key, delayMs }));
    kx.on('receiveKey', (from, k) => this.#post({ type: 'receiveKey', participant: from, kid: k.kid, key: k.key }));
    kx.on('forget', (from) => {
      this.#post({ type: 'forget', participant: from });
      this.#health.delete(from);
    });
    kx.on('changed', () => this.emit('changed'));
    worker.onmessage = (ev: MessageEvent<FromWorker>) => this.#fromWorker(ev.data);
    worker.onerror = (ev) => console.error('the encryption worker failed', ev.message);
  }

  /** Call only after missingE2eeCapability() returned null. */
  static async create(secret: string): Promise<E2eeSession> {
    const path = transformPath();
    if (!path) throw new Error('no encoded transform support');
    const keys = await deriveSecretKeys(secret);
    const late: { send: ((m: ClientMessage) => boolean) | null } = { send: null };
    const kx = await KeyExchange.create(keys, (data, to) => {
      late.send?.({ type: 'e2ee', data, ...(to ? { to } : {}) });
    });
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'stube-e2ee' });
    const session = new E2eeSession(worker, path, kx);
    session.#late = late;
    return session;
  }

  /** The pipeline every RTCRtpSender and RTCRtpReceiver of the meeting goes through. */
  readonly pipeline: TrackPipeline = {
    attachSender: (sender, kind) => this.#attach(sender, { op: 'encrypt', kind, id: 0 }),
    attachReceiver: (receiver, kind, participant) => {
      let id = this.#receiverIds.get(receiver);
      if (id === undefined) {
        id = this.#nextId++;
        this.#receiverIds.set(receiver, id);
        this.#attach(receiver, { op: 'decrypt', kind, id });
      }
      this.#post({ type: 'owner', id, participant });
    },
  };

  /** Chromium's older encoded-streams API must be switched on when the PeerConnection is made. */
  get peerConnectionConfig(): Record<string, unknown> {
    return this.#path === 'encoded-streams' ? { encodedInsertableStreams: true } : {};
  }

  connect(send: (m: ClientMessage) => boolean): void {
    this.#send = send;
    this.#late.send = send;
  }

  /** After each welcome: we are a new participant for the others. */
  joined(self: string): void {
    this.#self = self;
    this.#health.clear();
    this.#kx.joined(self);
  }

  participantLeft(id: string): void {
    this.#health.delete(id);
    this.#kx.left(id);
  }

  receive(m: Extract<ServerMessage, { type: 'e2ee' | 'chat' }>): void {
    if (m.type === 'e2ee') this.#kx.receive(m.from, m.data);
    else void this.#receiveChat(m.from, m.data);
  }

  get safetyCode(): string {
    return this.#kx.safetyCode;
  }

  /** The KID our frames carry right now (null before the first key is in use). */
  get sendingKid(): number | null {
    return this.#sendingKid;
  }

  get sentFrames(): number {
    return this.#sentFrames;
  }

  /** Participants whose announcement did not verify: their link carries another secret. */
  rejected(): string[] {
    return this.#kx.rejectedPeers();
  }

  /** Participants whose frames keep failing to decrypt. */
  undecryptable(): string[] {
    return [...this.#health].filter(([, h]) => h.badStreak >= UNDECRYPTABLE_AFTER_S).map(([id]) => id);
  }

  receiveStats(): Record<string, { decrypted: number; failed: number }> {
    return Object.fromEntries([...this.#health].map(([id, h]) => [id, { decrypted: h.decrypted, failed: h.failed }]));
  }

  chatMessages(): readonly ChatMessage[] {
    return this.#chat;
  }

  async sendChat(text: string): Promise<void> {
    const body = text.trim().slice(0, MAX_CHAT_TEXT);
    if (!body || !this.#self || !this.#send) return;
    const key = this.#kx.currentKey();
    const iv = randomBytes(12);
    const aesKey = await chatKey(key);
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(`stube chat\n${this.#self}`) }, aesKey, utf8(body)));
    const kid = new Uint8Array(8);
    new DataView(kid.buffer).setUint32(0, Math.floor(key.kid / 2 ** 32));
    new DataView(kid.buffer).setUint32(4, key.kid >>> 0);
    const payload = new Uint8Array(8 + 12 + ct.length);
    payload.set(kid, 0);
    payload.set(iv, 8);
    payload.set(ct, 20);
    this.#send({ type: 'chat', data: toBase64Url(payload) });
    this.#addChat({ from: this.#self, text: body, at: Date.now(), mine: true });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#kx.close();
    this.#worker.terminate();
    this.removeAllListeners();
  }

  async #receiveChat(from: string, data: string): Promise<void> {
    try {
      const bytes = fromBase64Url(data);
      if (bytes.length < 8 + 12 + 16) throw new Error('too short');
      const view = new DataView(bytes.buffer);
      const kid = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
      const key = this.#kx.peerKey(from, kid);
      if (!key) throw new Error('no key for this chat message');
      const pt = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.slice(8, 20), additionalData: utf8(`stube chat\n${from}`) },
        await chatKey(key),
        bytes.slice(20),
      );
      const text = new TextDecoder('utf-8', { fatal: true }).decode(pt).slice(0, MAX_CHAT_TEXT);
      this.#addChat({ from, text, at: Date.now(), mine: false });
    } catch (err) {
      console.warn('a chat message could not be decrypted', err instanceof Error ? err.message : err);
    }
  }

  #addChat(m: ChatMessage): void {
    this.#chat.push(m);
    if (this.#chat.length > 200) this.#chat.shift();
    this.emit('chat', m);
    this.emit('changed');
  }

  #attach(target: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    if (this.#path === 'script-transform') {
      target.transform = new RTCRtpScriptTransform(this.#worker, options);
      return;
    }
    const withStreams = target as unknown as { createEncodedStreams(): { readable: ReadableStream; writable: WritableStream } };
    const { readable, writable } = withStreams.createEncodedStreams();
    this.#worker.postMessage({ type: 'streams', readable, writable, ...options } satisfies ToWorker, [readable, writable] as unknown as Transferable[]);
  }

  #post(m: ToWorker): void {
    if (!this.#closed) this.#worker.postMessage(m);
  }

  /** Test hook: the latest video keyframe this page received, exactly as the SFU forwarded it. */
  forwardedSample(): Promise<ForwardedSample | null> {
    return new Promise((resolve) => {
      this.#sampleWaiters.push(resolve);
      this.#post({ type: 'sample' });
    });
  }

  #fromWorker(m: FromWorker): void {
    if (m.type === 'sample') {
      for (const w of this.#sampleWaiters.splice(0)) w(m.sample);
      return;
    }
    if (m.type !== 'stats') return;
    let changed = m.sendingKid !== this.#sendingKid;
    this.#sendingKid = m.sendingKid;
    this.#sentFrames += m.sent;
    for (const [id, s] of Object.entries(m.received)) {
      const h = this.#health.get(id) ?? { decrypted: 0, failed: 0, badStreak: 0 };
      const wasBad = h.badStreak >= UNDECRYPTABLE_AFTER_S;
      h.decrypted += s.decrypted;
      h.failed += s.failed;
      h.badStreak = s.decrypted === 0 && s.failed > 0 ? h.badStreak + 1 : 0;
      this.#health.set(id, h);
      if (wasBad !== h.badStreak >= UNDECRYPTABLE_AFTER_S) changed = true;
    }
    if (changed) this.emit('changed');
  }
}

async function chatKey(key: SenderKey): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', key.key, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8('stube chat key') },
    ikm,
    { name: 'AES-GCM', length: 128 },
    false,
    ['encrypt', 'decrypt'],
  );
}
