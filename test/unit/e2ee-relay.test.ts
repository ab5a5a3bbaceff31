// The service's part in end-to-end encryption: it relays opaque `e2ee` and `chat` payloads to the others
// in the same meeting (or to one of them), with a schema, a size limit and a rate limit, and keeps and
// logs nothing of them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../appliance/log.js';
import type { Connection } from '../../appliance/meeting/meeting.js';
import { parseClientMessage } from '../../appliance/meeting/protocol-schema.js';
import { LIMITS, PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../../appliance/meeting/protocol.js';
import { MeetingService } from '../../appliance/meeting/service.js';
import { MeetingStore } from '../../appliance/meeting/store.js';
import { FakeMedia } from './fake-media.js';

class FakeConnection implements Connection {
  readonly sent: ServerMessage[] = [];
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  close(): void {}
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let dataDir: string;
let service: MeetingService;
let store: MeetingStore;
let logLines: string[];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stube-relay-'));
  store = await MeetingStore.open(dataDir);
  logLines = [];
  service = new MeetingService({ media: new FakeMedia(), store, log: createLogger({ level: 'debug', write: (l) => logLines.push(l) }) });
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function enter(meeting: string, name: string) {
  const conn = new FakeConnection();
  const session = service.connect(conn);
  const send = async (m: ClientMessage | string): Promise<void> => {
    session.receive(typeof m === 'string' ? m : JSON.stringify(m));
    await flush();
  };
  await send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting, name });
  const id = conn.of('welcome')[0]!.you.id;
  return { conn, send, id };
}

describe('relaying E2EE and chat payloads', () => {
  it('passes e2ee broadcasts to the others of the meeting only, with the sender set by the service', async () => {
    const m1 = (await store.create()).id;
    const m2 = (await store.create()).id;
    const a = await enter(m1, 'Ada');
    const b = await enter(m1, 'Bea');
    const c = await enter(m1, 'Cem');
    const x = await enter(m2, 'Xen');
    await a.send({ type: 'e2ee', data: 'announceAAA' });
    expect(b.conn.of('e2ee')).toEqual([{ type: 'e2ee', from: a.id, direct: false, data: 'announceAAA' }]);
    expect(c.conn.of('e2ee')).toHaveLength(1);
    expect(a.conn.of('e2ee')).toHaveLength(0);
    expect(x.conn.of('e2ee')).toHaveLength(0);
  });

  it('passes a direct e2ee message to its addressee alone, and refuses one to another meeting', async () => {
    const m1 = (await store.create()).id;
    const m2 = (await store.create()).id;
    const a = await enter(m1, 'Ada');
    const b = await enter(m1, 'Bea');
    const c = await enter(m1, 'Cem');
    const x = await enter(m2, 'Xen');
    await a.send({ type: 'e2ee', to: b.id, data: 'keyForBea' });
    expect(b.conn.of('e2ee')).toEqual([{ type: 'e2ee', from: a.id, direct: true, data: 'keyForBea' }]);
    expect(c.conn.of('e2ee')).toHaveLength(0);
    await a.send({ type: 'e2ee', to: x.id, data: 'keyForXen' });
    expect(x.conn.of('e2ee')).toHaveLength(0);
    expect(a.conn.of('error').at(-1)).toMatchObject({ code: 'not-found', about: 'e2ee' });
  });

  it('relays chat ciphertext to the others and logs none of it', async () => {
    const m1 = (await store.create()).id;
    const a = await enter(m1, 'Ada');
    const b = await enter(m1, 'Bea');
    await a.send({ type: 'chat', data: 'c2VjcmV0LWNpcGhlcnRleHQ' });
    expect(b.conn.of('chat')).toEqual([{ type: 'chat', from: a.id, data: 'c2VjcmV0LWNpcGhlcnRleHQ' }]);
    expect(logLines.join('\n')).not.toContain('c2VjcmV0LWNpcGhlcnRleHQ');
  });

  it('refuses relaying before hello', async () => {
    const conn = new FakeConnection();
    const session = service.connect(conn);
    session.receive(JSON.stringify({ type: 'chat', data: 'abc' }));
    await flush();
    expect(conn.of('error')[0]).toMatchObject({ code: 'bad-state' });
  });

  it('refuses payloads over the limit, not base64url, or with extra fields', () => {
    expect(parseClientMessage(JSON.stringify({ type: 'e2ee', data: 'a'.repeat(LIMITS.maxE2eeChars + 1) }))).toMatchObject({ ok: false, code: 'too-large' });
    expect(parseClientMessage(JSON.stringify({ type: 'chat', data: 'a'.repeat(LIMITS.maxChatChars + 1) }))).toMatchObject({ ok: false, code: 'too-large' });
    expect(parseClientMessage(JSON.stringify({ type: 'chat', data: '<b>hi</b>' }))).toMatchObject({ ok: false, code: 'invalid' });
    expect(parseClientMessage(JSON.stringify({ type: 'chat', data: '' }))).toMatchObject({ ok: false });
    expect(parseClientMessage(JSON.stringify({ type: 'e2ee', data: 'abc', to: 'short' }))).toMatchObject({ ok: false, code: 'invalid' });
    expect(parseClientMessage(JSON.stringify({ type: 'chat', data: 'abc', from: 'AAAAAAAAAAAAAAAAAAAAAA' }))).toMatchObject({ ok: false, code: 'invalid' });
  });

  it(`drops relayed messages beyond a burst of ${LIMITS.relayBurst} and tells only the sender`, async () => {
    const m1 = (await store.create()).id;
    const a = await enter(m1, 'Ada');
    const b = await enter(m1, 'Bea');
    for (let i = 0; i < LIMITS.relayBurst + 10; i++) await a.send({ type: 'chat', data: `m${i}` });
    const got = b.conn.of('chat').length;
    expect(got).toBeGreaterThanOrEqual(LIMITS.relayBurst);
    expect(got).toBeLessThan(LIMITS.relayBurst + 10);
    expect(a.conn.of('error').some((e) => e.code === 'rate-limited' && e.about === 'chat')).toBe(true);
    expect(b.conn.of('error')).toHaveLength(0);
  });
});
