// Signalling against the real service and a real Janus, with plain WebSocket clients: what a bad
// client gets, and that the other participants keep being served meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode, LIMITS, PROTOCOL_VERSION, type ServerMessage } from '../../appliance/meeting/protocol.js';
import { startTestService, waitFor, type TestService } from '../helpers/service.js';

let service: TestService;
let meeting: string;

beforeAll(async () => {
  service = await startTestService();
  const res = await fetch(`${service.url}/api/meetings`, { method: 'POST' });
  expect(res.status).toBe(201);
  meeting = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await service?.stop();
});

class Client {
  readonly ws: WebSocket;
  readonly received: ServerMessage[] = [];
  closeCode: number | null = null;
  readonly opened: Promise<void>;
  constructor(url: string) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
    this.ws.on('message', (data) => this.received.push(JSON.parse(String(data)) as ServerMessage));
    this.ws.on('close', (code) => (this.closeCode = code));
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve) => this.ws.once('open', () => resolve()));
  }
  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }
  async hello(name: string): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    await this.opened;
    this.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting, name });
    return waitFor('welcome', () => this.received.find((m): m is Extract<ServerMessage, { type: 'welcome' }> => m.type === 'welcome'));
  }
  errors(): Extract<ServerMessage, { type: 'error' }>[] {
    return this.received.filter((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error');
  }
  async ping(seq: number): Promise<void> {
    this.send({ type: 'ping', seq });
    await waitFor(`pong ${seq}`, () => this.received.some((m) => m.type === 'pong' && m.seq === seq), 5000);
  }
  close(): void {
    this.ws.close();
  }
}

describe('signalling', () => {
  it('greets with the protocol version, tells others, and says who left', async () => {
    const a = new Client(service.url);
    const b = new Client(service.url);
    const wa = await a.hello('Ada');
    expect(wa.protocol).toBe(PROTOCOL_VERSION);
    expect(wa.you.role).toBe('moderator');
    const wb = await b.hello('  Bob \u202e ');
    expect(wb.you.name).toBe('Bob');
    expect(wb.participants.map((p) => p.name)).toEqual(['Ada']);
    await waitFor('Ada sees Bob', () => a.received.some((m) => m.type === 'participantJoined' && m.participant.name === 'Bob'));
    b.close();
    await waitFor('Ada sees Bob leave', () => a.received.some((m) => m.type === 'participantLeft' && m.participant === wb.you.id));
    a.close();
  });

  it('answers malformed, unknown and invalid messages with errors and keeps the connection', async () => {
    const c = new Client(service.url);
    await c.hello('Carol');
    c.send('this is not json');
    c.send({ type: 'teleport' });
    c.send({ type: 'media', audioMuted: 'yes', videoMuted: false });
    c.send([1, 2, 3]);
    await waitFor('four errors', () => c.errors().length >= 4);
    expect(c.errors().map((e) => e.code)).toEqual(['malformed', 'malformed', 'invalid', 'malformed']);
    await c.ping(1);
    expect(c.closeCode).toBeNull();
    c.close();
  });

  it('refuses a wrong protocol version, an unknown meeting and a silent client with documented codes', async () => {
    const v = new Client(service.url);
    await v.opened;
    v.send({ type: 'hello', protocol: 99, meeting, name: 'Vic' });
    await waitFor('close', () => v.closeCode);
    expect(v.closeCode).toBe(CloseCode.protocolVersion);

    const u = new Client(service.url);
    await u.opened;
    u.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'Uma' });
    await waitFor('close', () => u.closeCode);
    expect(u.closeCode).toBe(CloseCode.meetingNotFound);
  });

  it('refuses an SDP with 100 m-lines, an oversized SDP and an oversized frame', async () => {
    const d = new Client(service.url);
    await d.hello('Dan');
    const mlines = Array.from({ length: 100 }, (_, i) => `m=audio ${9 + i} UDP/TLS/RTP/SAVPF 111\r\na=mid:${i}\r\n`).join('');
    d.send({ type: 'publish', sdp: `v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n${mlines}`, audioMuted: false, videoMuted: false });
    d.send({ type: 'publish', sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(LIMITS.maxSdpChars / 5 + 10), audioMuted: false, videoMuted: false });
    await waitFor('two errors', () => d.errors().length >= 2);
    expect(d.errors().map((e) => e.code)).toEqual(['too-large', 'too-large']);
    await d.ping(2);
    // A frame over the limit is refused by the WebSocket layer: close 1009.
    d.send('x'.repeat(LIMITS.maxMessageBytes + 1));
    await waitFor('close', () => d.closeCode);
    expect(d.closeCode).toBe(CloseCode.tooBig);
  });

  it('a flooding client is limited and then disconnected while another is still served', async () => {
    const good = new Client(service.url);
    await good.hello('Eve');
    const bad = new Client(service.url);
    await bad.hello('Mallory');
    for (let i = 0; i < 5000 && bad.ws.readyState === WebSocket.OPEN; i++) bad.send({ type: 'ping', seq: i });
    await waitFor('flooder closed', () => bad.closeCode, 10_000);
    expect(bad.closeCode).toBe(CloseCode.abuse);
    expect(bad.errors().some((e) => e.code === 'rate-limited')).toBe(true);
    await good.ping(7);
    await waitFor('Eve sees Mallory go', () => good.received.some((m) => m.type === 'participantLeft'));
    good.close();
  });

  it('only a moderator may remove someone, and the removed one is closed with 4003', async () => {
    // A fresh meeting, so that the first to join is its moderator.
    const res = await fetch(`${service.url}/api/meetings`, { method: 'POST' });
    const fresh = ((await res.json()) as { id: string }).id;
    const join = async (name: string): Promise<[Client, Extract<ServerMessage, { type: 'welcome' }>]> => {
      const c = new Client(service.url);
      await c.opened;
      c.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: fresh, name });
      return [c, await waitFor('welcome', () => c.received.find((m): m is Extract<ServerMessage, { type: 'welcome' }> => m.type === 'welcome'))];
    };
    const [mod, wm] = await join('Mo');
    const [pat, wp] = await join('Pat');
    const [quinn, wq] = await join('Quinn');
    expect([wm.you.role, wp.you.role, wq.you.role]).toEqual(['moderator', 'participant', 'participant']);
    pat.send({ type: 'kick', participant: wq.you.id });
    await waitFor('not-allowed', () => pat.errors().some((e) => e.code === 'not-allowed'));
    expect(quinn.closeCode).toBeNull();
    mod.send({ type: 'kick', participant: wq.you.id });
    await waitFor('kicked close', () => quinn.closeCode);
    expect(quinn.closeCode).toBe(CloseCode.kicked);
    await waitFor('Pat sees Quinn removed', () =>
      pat.received.some((m) => m.type === 'participantLeft' && m.participant === wq.you.id && m.reason === 'kicked'),
    );
    mod.close();
    pat.close();
  });

  it('/healthz answers 200 and the log carries no names or meeting IDs', async () => {
    const res = await fetch(`${service.url}/healthz`);
    expect(res.status).toBe(200);
    const log = service.logLines.join('\n');
    for (const secret of [meeting, 'Ada', 'Bob', 'Carol', 'Mallory', 'Quinn']) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
  });
});
