// The signalling wire: one WebSocket to the service, the hello/welcome exchange, keep-alive pings, and
// reconnection with a fresh hello after an unexpected drop. It knows nothing about media or the room;
// the room listens to its events.
import { Emitter } from './Emitter.js';
import type { ReconnectPolicy } from './reconnectPolicy.js';
import {
  CloseCode,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ServerMessage,
  type WelcomeMessage,
} from './protocolImports.js';

/** The part of the browser's WebSocket this class uses (a fake one in unit tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

const OPEN = 1;

export type SignalState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface SignalClosed {
  code: number;
  reason: string;
  /** True when close() was called here (the user left). */
  byUs: boolean;
}

export type SignalEvents = {
  state: [SignalState];
  /** A welcome; `resumed` is true when it follows a reconnection (the service sees a new participant). */
  welcome: [WelcomeMessage, { resumed: boolean }];
  message: [ServerMessage];
  reconnecting: [{ attempt: number; delayMs: number; code: number }];
  /** Final: no more reconnection attempts. */
  closed: [SignalClosed];
};

/** Close codes after which reconnecting would not help (or must not happen). */
const FINAL_CODES: ReadonlySet<number> = new Set([
  CloseCode.normal,
  CloseCode.protocolVersion,
  CloseCode.abuse,
  CloseCode.kicked,
  CloseCode.meetingNotFound,
  CloseCode.meetingFull,
  CloseCode.replaced,
  CloseCode.denied,
  CloseCode.ended,
]);

export interface SignalClientOptions {
  url: string;
  meeting: string;
  name: string;
  /** From the link's fragment: presented in the hello, never in a URL. */
  invite?: string;
  /** The room password the person typed, if the room asked for one. */
  password?: string;
  policy: ReconnectPolicy;
  createSocket: (url: string) => SocketLike;
  pingIntervalMs?: number;
  /** No message at all for this long means the connection is dead. */
  deadAfterMs?: number;
  now?: () => number;
}

export class SignalClient extends Emitter<SignalEvents> {
  readonly #opts: Required<SignalClientOptions>;
  #socket: SocketLike | null = null;
  #state: SignalState = 'idle';
  #welcomed = false;
  #everWelcomed = false;
  #attempt = 0;
  #lostAt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pingSeq = 0;
  #lastHeard = 0;

  constructor(opts: SignalClientOptions) {
    super();
    this.#opts = { pingIntervalMs: 15_000, deadAfterMs: 40_000, now: () => Date.now(), invite: '', password: '', ...opts };
  }

  get state(): SignalState {
    return this.#state;
  }

  connect(): void {
    if (this.#state !== 'idle') return;
    this.#open();
  }

  /** Sends a message when connected and welcomed; returns false (and drops it) otherwise. */
  send(message: ClientMessage): boolean {
    const s = this.#socket;
    if (!s || s.readyState !== OPEN || (!this.#welcomed && message.type !== 'hello')) return false;
    s.send(JSON.stringify(message));
    return true;
  }

  /** Skips the remaining backoff delay (e.g. when the browser reports it is online again). */
  retryNow(): void {
    if (this.#state !== 'reconnecting' || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#open();
  }

  /** Drops the current socket as if the network had failed, and reconnects with a new hello. */
  reconnect(): void {
    if (this.#state !== 'connected' && this.#state !== 'connecting') return;
    this.#dropSocket();
    this.#handleDrop(CloseCode.goingAway, 'reconnect requested');
  }

  /** Idempotent; the final `closed` event reports byUs. Send `leave` before calling it. */
  close(code: number = CloseCode.normal, reason = 'left'): void {
    if (this.#state === 'closed') return;
    this.#dropSocket(code, reason);
    this.#finish({ code, reason, byUs: true });
  }

  #setState(state: SignalState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #open(): void {
    this.#setState(this.#everWelcomed || this.#attempt > 0 ? 'reconnecting' : 'connecting');
    this.#welcomed = false;
    let socket: SocketLike;
    try {
      socket = this.#opts.createSocket(this.#opts.url);
    } catch (err) {
      console.error('could not open the signalling socket', err);
      this.#handleDrop(CloseCode.goingAway, String(err));
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#lastHeard = this.#opts.now();
      socket.send(
        JSON.stringify({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          meeting: this.#opts.meeting,
          name: this.#opts.name,
          ...(this.#opts.invite ? { invite: this.#opts.invite } : {}),
          ...(this.#opts.password ? { password: this.#opts.password } : {}),
        }),
      );
    };
    socket.onmessage = (ev) => this.#onMessage(ev.data);
    socket.onerror = () => {
      // A close event always follows; the reason is decided there.
    };
    socket.onclose = (ev) => {
      this.#dropSocket();
      this.#handleDrop(ev.code, ev.reason);
    };
  }

  #onMessage(data: unknown): void {
    this.#lastHeard = this.#opts.now();
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch (err) {
      console.warn('ignoring a signalling message that is not JSON', err);
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') {
      console.warn('ignoring a signalling message without a type');
      return;
    }
    const message = msg as ServerMessage;
    switch (message.type) {
      case 'welcome': {
        const resumed = this.#everWelcomed;
        this.#welcomed = true;
        this.#everWelcomed = true;
        this.#attempt = 0;
        this.#startPings();
        this.#setState('connected');
        this.emit('welcome', message, { resumed });
        return;
      }
      case 'pong':
        return;
      default:
        this.emit('message', message);
    }
  }

  #startPings(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (this.#opts.now() - this.#lastHeard > this.#opts.deadAfterMs) {
        console.warn('signalling connection silent for too long; reconnecting');
        this.reconnect();
        return;
      }
      this.send({ type: 'ping', seq: ++this.#pingSeq });
    }, this.#opts.pingIntervalMs);
  }

  /** Detaches the current socket's handlers and closes it (browsers accept 1000 or 3000–4999). */
  #dropSocket(code: number = CloseCode.normal, reason = 'dropped'): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    const s = this.#socket;
    this.#socket = null;
    this.#welcomed = false;
    if (s) {
      s.onopen = s.onmessage = s.onerror = s.onclose = null;
      if (s.readyState <= OPEN) {
        try {
          s.close(code, reason);
        } catch (err) {
          console.warn('closing a dropped socket failed', err);
        }
      }
    }
  }

  #handleDrop(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    if (FINAL_CODES.has(code)) {
      this.#finish({ code, reason, byUs: false });
      return;
    }
    if (this.#attempt === 0) this.#lostAt = this.#opts.now();
    this.#attempt += 1;
    const delayMs = this.#opts.policy.nextDelayMs({
      attempt: this.#attempt,
      elapsedMs: this.#opts.now() - this.#lostAt,
    });
    if (delayMs === null) {
      this.#finish({ code, reason: reason || 'gave up reconnecting', byUs: false });
      return;
    }
    this.#setState('reconnecting');
    this.emit('reconnecting', { attempt: this.#attempt, delayMs, code });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, delayMs);
  }

  #finish(closed: SignalClosed): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#setState('closed');
    this.emit('closed', closed);
  }
}
