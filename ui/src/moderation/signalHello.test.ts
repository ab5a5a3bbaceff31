// The invite token and room password travel in the hello (never in the socket URL), and a denial
// (4007) or an ended meeting (4008) is final: the client does not knock again by itself.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalClient, type SocketLike } from '../meeting/SignalClient.js';
import { backoffPolicy } from '../meeting/reconnectPolicy.js';
import { CloseCode, PROTOCOL_VERSION } from '../meeting/protocolImports.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
}

describe('hello with an invite', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each([CloseCode.denied, CloseCode.ended])('sends token and password in the hello; close %i is final', (code) => {
    const sockets: FakeSocket[] = [];
    const closed: number[] = [];
    const client = new SignalClient({
      url: 'wss://box/ws',
      meeting: 'm'.repeat(22),
      name: 'Ada',
      invite: 'aGVsbG8gd29ybGQgaGVsbG8.c2lnbmF0dXJl',
      password: 'door code',
      policy: backoffPolicy({ random: () => 0.5 }),
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
    });
    client.on('closed', (c) => closed.push(c.code));
    client.connect();
    const s = sockets[0]!;
    s.readyState = 1;
    s.onopen?.({});
    expect(s.url).toBe('wss://box/ws');
    expect(s.sent).toEqual([
      { type: 'hello', protocol: PROTOCOL_VERSION, meeting: 'm'.repeat(22), name: 'Ada', invite: 'aGVsbG8gd29ybGQgaGVsbG8.c2lnbmF0dXJl', password: 'door code' },
    ]);
    s.onclose?.({ code, reason: 'denied' });
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(closed).toEqual([code]);
  });
});
