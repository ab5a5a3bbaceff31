import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalClient, type SocketLike } from './SignalClient.js';
import { backoffPolicy } from './reconnectPolicy.js';
import { CloseCode, PROTOCOL_VERSION, type WelcomeMessage } from './protocolImports.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  // test side
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const welcome: WelcomeMessage = {
  type: 'welcome',
  protocol: PROTOCOL_VERSION,
  you: { id: 'me', name: 'Me', role: 'moderator', audioMuted: false, videoMuted: false, publishing: false },
  participants: [],
  iceServers: [],
};

function setup() {
  const sockets: FakeSocket[] = [];
  const client = new SignalClient({
    url: 'ws://box/ws',
    meeting: 'm'.repeat(22),
    name: 'Ada',
    policy: backoffPolicy({ random: () => 0.5 }),
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
  });
  const events: string[] = [];
  client.on('state', (s) => events.push(`state:${s}`));
  client.on('welcome', (_w, { resumed }) => events.push(`welcome:${resumed}`));
  client.on('reconnecting', ({ attempt, delayMs }) => events.push(`reconnecting:${attempt}:${delayMs}`));
  client.on('closed', ({ code, byUs }) => events.push(`closed:${code}:${byUs}`));
  client.on('message', (m) => events.push(`message:${m.type}`));
  return { client, sockets, events };
}

describe('SignalClient', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says hello with the protocol version, meeting and name, then reports the welcome', () => {
    const { client, sockets, events } = setup();
    client.connect();
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: 'hello', protocol: PROTOCOL_VERSION, meeting: 'm'.repeat(22), name: 'Ada' }]);
    sockets[0]!.receive(welcome);
    sockets[0]!.receive({ type: 'talking', participant: 'x', talking: true });
    expect(events).toEqual(['state:connecting', 'state:connected', 'welcome:false', 'message:talking']);
  });

  it('does not send other messages before the welcome', () => {
    const { client, sockets } = setup();
    client.connect();
    sockets[0]!.open();
    expect(client.send({ type: 'leave' })).toBe(false);
    sockets[0]!.receive(welcome);
    expect(client.send({ type: 'leave' })).toBe(true);
  });

  it('ignores garbage from the wire', () => {
    const { client, sockets, events } = setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    client.connect();
    sockets[0]!.open();
    sockets[0]!.onmessage?.({ data: 'not json' });
    sockets[0]!.receive([1, 2]);
    expect(events).toEqual(['state:connecting']);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it('reconnects with backoff and a new hello after an unexpected drop', () => {
    const { client, sockets, events } = setup();
    client.connect();
    sockets[0]!.open();
    sockets[0]!.receive(welcome);
    sockets[0]!.drop(1006);
    expect(client.state).toBe('reconnecting');
    vi.advanceTimersByTime(299);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop(1006); // still down
    vi.advanceTimersByTime(600);
    sockets[2]!.open();
    expect(sockets[2]!.sent[0]).toMatchObject({ type: 'hello', name: 'Ada' });
    sockets[2]!.receive(welcome);
    expect(events).toEqual([
      'state:connecting',
      'state:connected',
      'welcome:false',
      'state:reconnecting',
      'reconnecting:1:300',
      'reconnecting:2:600',
      'state:connected',
      'welcome:true',
    ]);
  });

  it('does not reconnect when kicked, and reports it', () => {
    const { client, sockets, events } = setup();
    client.connect();
    sockets[0]!.open();
    sockets[0]!.receive(welcome);
    sockets[0]!.drop(CloseCode.kicked, 'kicked');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(events.at(-1)).toBe(`closed:${CloseCode.kicked}:false`);
    expect(client.state).toBe('closed');
  });

  it('close() is final and idempotent', () => {
    const { client, sockets, events } = setup();
    client.connect();
    sockets[0]!.open();
    sockets[0]!.receive(welcome);
    client.close();
    client.close();
    expect(sockets[0]!.closedWith).toEqual({ code: 1000, reason: 'left' });
    expect(events.filter((e) => e.startsWith('closed'))).toEqual(['closed:1000:true']);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('pings every 15 s and reconnects when the service goes silent', () => {
    const { client, sockets } = setup();
    client.connect();
    sockets[0]!.open();
    sockets[0]!.receive(welcome);
    vi.advanceTimersByTime(15_000);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: 'ping', seq: 1 });
    sockets[0]!.receive({ type: 'pong', seq: 1 });
    vi.advanceTimersByTime(15_000);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: 'ping', seq: 2 });
    // No answer for more than 40 s.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.advanceTimersByTime(45_000);
    warn.mockRestore();
    expect(client.state).toBe('reconnecting');
    vi.advanceTimersByTime(300);
    expect(sockets).toHaveLength(2);
  });
});
