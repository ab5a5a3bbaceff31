import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../appliance/log.js';
import { MediaError } from '../../appliance/media/types.js';
import type { Connection } from '../../appliance/meeting/meeting.js';
import { MeetingService, type Session } from '../../appliance/meeting/service.js';
import { MeetingStore } from '../../appliance/meeting/store.js';
import {
  CloseCode,
  LIMITS,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '../../appliance/meeting/protocol.js';
import { FakeMedia } from './fake-media.js';

class FakeConnection implements Connection {
  readonly sent: ServerMessage[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
  }
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
  get closedWith(): number | undefined {
    return this.closes[0]?.code;
  }
}

/** Lets every queued message handler and promise chain run; all fakes answer without I/O. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const SDP_OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const ICE_SERVERS: WelcomeMessage['iceServers'] = [{ urls: ['stun:box.local:3478'] }];

let dataDir: string;
let media: FakeMedia;
let service: MeetingService;
let meetingId: string;
let logLines: string[];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stube-svc-'));
  const store = await MeetingStore.open(dataDir);
  meetingId = (await store.create()).id;
  media = new FakeMedia();
  logLines = [];
  const log = createLogger({ level: 'debug', write: (line) => logLines.push(line) });
  service = new MeetingService({ media, store, log, iceServers: ICE_SERVERS });
});

afterEach(async () => {
  vi.useRealTimers();
  await rm(dataDir, { recursive: true, force: true });
});

interface Client {
  conn: FakeConnection;
  session: Session;
  send(message: ClientMessage | string): Promise<void>;
  /** Who this client is, from its welcome. */
  id: string;
  welcome: WelcomeMessage;
}

function open(): { conn: FakeConnection; session: Session; send(message: ClientMessage | string): Promise<void> } {
  const conn = new FakeConnection();
  const session = service.connect(conn);
  return {
    conn,
    session,
    async send(message) {
      session.receive(typeof message === 'string' ? message : JSON.stringify(message));
      await flush();
    },
  };
}

async function enter(name: string, meeting = meetingId): Promise<Client> {
  const client = open();
  await client.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting, name });
  const welcome = client.conn.of('welcome')[0];
  if (!welcome) throw new Error(`no welcome for ${name}: ${JSON.stringify(client.conn.sent)}`);
  return { ...client, id: welcome.you.id, welcome };
}

describe('joining', () => {
  it('welcomes the first participant as moderator and the next as participant', async () => {
    const ada = await enter('  Ada   Lovelace ');
    expect(ada.welcome).toEqual({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      you: { id: ada.id, name: 'Ada Lovelace', role: 'moderator', audioMuted: false, videoMuted: false, publishing: false },
      participants: [],
      iceServers: ICE_SERVERS,
    });
    expect(ada.id).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const bob = await enter('Bob');
    expect(bob.welcome.you.role).toBe('participant');
    expect(bob.welcome.participants).toEqual([ada.welcome.you]);
    expect(ada.conn.of('participantJoined')).toEqual([{ type: 'participantJoined', participant: bob.welcome.you }]);
    expect(bob.conn.of('participantJoined')).toEqual([]);
    expect(service.sessions).toBe(2);
    expect(service.liveMeetings).toBe(1);
  });

  it('creates the media room once, for the most participants a meeting may have', async () => {
    await enter('Ada');
    await enter('Bob');
    expect(media.callsOf('createRoom')).toEqual([{ method: 'createRoom', room: meetingId, maxPublishers: LIMITS.maxParticipants }]);
  });

  it('handles one session\'s messages in the order they came', async () => {
    const client = open();
    client.session.receive(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: meetingId, name: 'Ada' }));
    client.session.receive(JSON.stringify({ type: 'ping', seq: 1 }));
    client.session.receive(JSON.stringify({ type: 'ping', seq: 2 }));
    await flush();
    expect(client.conn.sent.map((m) => m.type)).toEqual(['welcome', 'pong', 'pong']);
    expect(client.conn.of('pong').map((m) => m.seq)).toEqual([1, 2]);
  });

  it('closes a session whose meeting does not exist', async () => {
    const client = open();
    await client.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: 'Z'.repeat(22), name: 'Ada' });
    expect(client.conn.closedWith).toBe(CloseCode.meetingNotFound);
    expect(client.conn.of('welcome')).toEqual([]);
  });

  it('closes a session that speaks another protocol version, with an error first', async () => {
    const client = open();
    await client.send({ type: 'hello', protocol: PROTOCOL_VERSION + 1, meeting: meetingId, name: 'Ada' });
    expect(client.conn.of('error')).toMatchObject([{ code: 'invalid', about: 'hello' }]);
    expect(client.conn.closedWith).toBe(CloseCode.protocolVersion);
  });

  it('refuses a name with nothing visible, and stays open', async () => {
    const client = open();
    await client.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: meetingId, name: '\u200B\u202E' });
    expect(client.conn.of('error')).toMatchObject([{ code: 'invalid', about: 'hello' }]);
    expect(client.conn.closes).toEqual([]);
  });

  it(`closes the ${LIMITS.maxParticipants + 1}th participant with meeting full`, async () => {
    for (let i = 0; i < LIMITS.maxParticipants; i++) await enter(`P${i}`);
    const late = open();
    await late.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: meetingId, name: 'Late' });
    expect(late.conn.closedWith).toBe(CloseCode.meetingFull);
  });

  it('answers a second hello with bad-state', async () => {
    const ada = await enter('Ada');
    await ada.send({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: meetingId, name: 'Ada' });
    expect(ada.conn.of('error')).toMatchObject([{ code: 'bad-state', about: 'hello' }]);
  });

  it('logs neither names nor meeting ids', async () => {
    const ada = await enter('Ada Lovelace');
    await enter('Bob Builder');
    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    ada.session.closed();
    await flush();
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      expect(line).not.toMatch(/Ada|Lovelace|Bob|Builder/);
      expect(line).not.toContain(meetingId);
      expect(line).not.toContain(ada.id);
    }
  });
});

describe('hello timeout', () => {
  it(`closes a session without hello after ${LIMITS.helloTimeoutMs} ms`, () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const client = open();
    vi.advanceTimersByTime(LIMITS.helloTimeoutMs - 1);
    expect(client.conn.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(client.conn.closedWith).toBe(CloseCode.helloTimeout);
    expect(service.sessions).toBe(0);
  });

  it('keeps a session that said hello in time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ada = await enter('Ada');
    vi.advanceTimersByTime(LIMITS.helloTimeoutMs * 2);
    expect(ada.conn.closes).toEqual([]);
  });
});

describe('publishing and subscribing', () => {
  it('answers a publisher and subscribes the others once its media is up', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    media.calls.length = 0;

    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: true, videoMuted: false });
    expect(media.callsOf('publish')).toEqual([{ method: 'publish', room: meetingId, peer: ada.id, sdp: SDP_OFFER }]);
    expect(ada.conn.of('publisherAnswer')).toEqual([{ type: 'publisherAnswer', sdp: `v=0 answer for ${ada.id}` }]);
    expect(bob.conn.of('participantUpdated').at(-1)?.participant).toMatchObject({ id: ada.id, audioMuted: true, videoMuted: false });

    media.emit('publisherUp', meetingId, ada.id);
    await flush();
    const bobSubscribes = media.callsOf('subscribe').filter((c) => c.peer === bob.id);
    expect(bobSubscribes).toHaveLength(1);
    expect(bobSubscribes[0]?.sources).toContain(ada.id);
    expect(media.callsOf('subscribe').filter((c) => c.peer === ada.id)).toEqual([]);
    expect(bob.conn.of('subscriberOffer')).toEqual([
      {
        type: 'subscriberOffer',
        sdp: `v=0 offer for ${bob.id}`,
        streams: [
          { mid: '0', participant: ada.id, kind: 'audio' },
          { mid: '1', participant: ada.id, kind: 'video' },
        ],
      },
    ]);
    expect(ada.conn.of('subscriberOffer')).toEqual([]);
    for (const c of [ada, bob]) expect(c.conn.of('participantUpdated').at(-1)?.participant).toMatchObject({ id: ada.id, publishing: true });
  });

  it('sends a late joiner an offer for those already publishing', async () => {
    const ada = await enter('Ada');
    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    media.emit('publisherUp', meetingId, ada.id);
    await flush();

    const carl = await enter('Carl');
    await flush();
    expect(carl.welcome.participants).toMatchObject([{ id: ada.id, publishing: true }]);
    expect(media.callsOf('subscribe').filter((c) => c.peer === carl.id)).toEqual([
      { method: 'subscribe', room: meetingId, peer: carl.id, sources: [ada.id] },
    ]);
    expect(carl.conn.of('subscriberOffer')).toHaveLength(1);
  });

  it('takes a publisher whose media connection ended out of everyone else\'s subscription', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    media.emit('publisherUp', meetingId, ada.id);
    await flush();
    media.calls.length = 0;

    media.emit('publisherDown', meetingId, ada.id);
    await flush();
    expect(bob.conn.of('participantUpdated').at(-1)?.participant).toMatchObject({ id: ada.id, publishing: false });
    expect(media.callsOf('subscribe').filter((c) => c.peer === bob.id)).toEqual([
      { method: 'subscribe', room: meetingId, peer: bob.id, sources: [] },
    ]);
  });

  it('refuses publish before hello with bad-state', async () => {
    const client = open();
    await client.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    expect(client.conn.of('error')).toMatchObject([{ code: 'bad-state', about: 'publish' }]);
    expect(media.callsOf('publish')).toEqual([]);
  });

  it('reports a media server refusal as media-failed', async () => {
    const ada = await enter('Ada');
    media.failNext.set('publish', new MediaError('no', 'rejected'));
    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    expect(ada.conn.of('error')).toMatchObject([{ code: 'media-failed', about: 'publish' }]);
    expect(ada.conn.of('publisherAnswer')).toEqual([]);
    expect(ada.conn.closes).toEqual([]);
  });

  it('passes answers, candidates and the view to the media backend', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await bob.send({ type: 'answer', sdp: 'v=0 answer sdp' });
    await bob.send({ type: 'trickle', target: 'subscriber', candidate: null });
    await bob.send({
      type: 'view',
      tiles: [
        { participant: ada.id, width: 1280, height: 720 },
        { participant: 'X'.repeat(22), width: 1280, height: 720 }, // not in the meeting
      ],
    });
    expect(media.callsOf('startSubscriber')).toEqual([{ method: 'startSubscriber', peer: bob.id, sdp: 'v=0 answer sdp' }]);
    expect(media.callsOf('trickle')).toEqual([{ method: 'trickle', peer: bob.id, target: 'subscriber', candidate: null }]);
    expect(media.callsOf('setLayers')).toEqual([{ method: 'setLayers', peer: bob.id, choices: [{ from: ada.id, substream: 2 }] }]);
  });

  it('broadcasts mute changes to everyone', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await bob.send({ type: 'media', audioMuted: true, videoMuted: true });
    for (const c of [ada, bob]) {
      expect(c.conn.of('participantUpdated')).toMatchObject([{ participant: { id: bob.id, audioMuted: true, videoMuted: true } }]);
    }
  });
});

describe('kicking', () => {
  it('refuses a kick by a participant who is not moderator', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await bob.send({ type: 'kick', participant: ada.id });
    expect(bob.conn.of('error')).toMatchObject([{ code: 'not-allowed', about: 'kick' }]);
    expect(ada.conn.closes).toEqual([]);
    expect(media.callsOf('kick')).toEqual([]);
  });

  it('removes the participant a moderator kicks and tells the others', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    const carl = await enter('Carl');
    await ada.send({ type: 'kick', participant: bob.id });

    expect(bob.conn.of('error')).toMatchObject([{ code: 'not-allowed' }]);
    expect(bob.conn.closes).toEqual([{ code: CloseCode.kicked, reason: expect.any(String) }]);
    for (const c of [ada, carl]) {
      expect(c.conn.of('participantLeft')).toEqual([{ type: 'participantLeft', participant: bob.id, reason: 'kicked' }]);
    }
    expect(bob.conn.of('participantLeft')).toEqual([]);
    expect(media.callsOf('kick')).toEqual([{ method: 'kick', room: meetingId, peer: bob.id }]);
    expect(media.callsOf('leave')).toEqual([]);

    // The socket then closes; nothing is announced twice.
    bob.session.closed();
    await flush();
    expect(ada.conn.of('participantLeft')).toHaveLength(1);
  });

  it('answers a kick of nobody, or of oneself, with not-found', async () => {
    const ada = await enter('Ada');
    await ada.send({ type: 'kick', participant: 'N'.repeat(22) });
    await ada.send({ type: 'kick', participant: ada.id });
    expect(ada.conn.of('error')).toMatchObject([
      { code: 'not-found', about: 'kick' },
      { code: 'not-found', about: 'kick' },
    ]);
    expect(ada.conn.closes).toEqual([]);
  });

  // Bug: after a kick the removed participant's Session still counts as joined until the socket
  // layer reports the close (the WebSocket library delivers frames for up to 30 s while closing), so
  // a client that ignores the close frame can publish into the room again.
  it('lets nothing a kicked participant sends reach the media backend', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await ada.send({ type: 'kick', participant: bob.id });
    await bob.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    expect(media.callsOf('publish').filter((c) => c.peer === bob.id)).toEqual([]);
  });
});

describe('leaving', () => {
  it('tells the others when a socket closes and releases the media', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    bob.session.closed();
    await flush();
    expect(ada.conn.of('participantLeft')).toEqual([{ type: 'participantLeft', participant: bob.id, reason: 'disconnected' }]);
    expect(media.callsOf('leave')).toEqual([{ method: 'leave', peer: bob.id }]);
    expect(service.sessions).toBe(1);
  });

  it('closes with 1000 on leave and tells the others it was a leave', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await bob.send({ type: 'leave' });
    expect(bob.conn.closedWith).toBe(CloseCode.normal);
    expect(ada.conn.of('participantLeft')).toEqual([{ type: 'participantLeft', participant: bob.id, reason: 'left' }]);
    bob.session.closed();
    await flush();
    expect(ada.conn.of('participantLeft')).toHaveLength(1);
    expect(media.callsOf('leave')).toEqual([{ method: 'leave', peer: bob.id }]);
  });

  it('destroys the media room and forgets the meeting when the last one leaves', async () => {
    const ada = await enter('Ada');
    ada.session.closed();
    await flush();
    expect(media.callsOf('destroyRoom')).toEqual([{ method: 'destroyRoom', room: meetingId }]);
    expect(service.liveMeetings).toBe(0);
  });

  it('renews the others\' subscriptions when a publisher leaves', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    media.emit('publisherUp', meetingId, ada.id);
    await flush();
    media.calls.length = 0;
    ada.session.closed();
    await flush();
    expect(media.callsOf('subscribe')).toEqual([{ method: 'subscribe', room: meetingId, peer: bob.id, sources: [] }]);
  });
});

describe('media events', () => {
  it('asks everyone to publish again after the media server restarted', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    await ada.send({ type: 'publish', sdp: SDP_OFFER, audioMuted: false, videoMuted: false });
    media.emit('publisherUp', meetingId, ada.id);
    await flush();

    media.emit('restored');
    await flush();
    for (const c of [ada, bob]) expect(c.conn.of('mediaRestart')).toEqual([{ type: 'mediaRestart' }]);

    // The room is created again on the next publish, and nobody counts as publishing meanwhile.
    const carl = await enter('Carl');
    expect(carl.welcome.participants.map((p) => p.publishing)).toEqual([false, false]);
    expect(media.callsOf('createRoom')).toHaveLength(2);
  });

  it('passes talking events to everyone in that meeting only', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    media.emit('talking', meetingId, ada.id, true);
    media.emit('talking', 'another-room', ada.id, false);
    for (const c of [ada, bob]) expect(c.conn.of('talking')).toEqual([{ type: 'talking', participant: ada.id, talking: true }]);
  });

  it('tells only the participant whose media connection failed', async () => {
    const ada = await enter('Ada');
    const bob = await enter('Bob');
    media.emit('peerFailed', meetingId, bob.id, 'subscriber');
    expect(bob.conn.of('error')).toMatchObject([{ code: 'media-failed' }]);
    expect(ada.conn.of('error')).toEqual([]);
  });
});

describe('abuse', () => {
  it(`closes a session after ${LIMITS.maxInvalidMessages} invalid messages`, async () => {
    const ada = await enter('Ada');
    for (let i = 0; i < LIMITS.maxInvalidMessages - 1; i++) await ada.send(i % 2 ? 'not json' : '{"type":"ping"}');
    expect(ada.conn.of('error')).toHaveLength(LIMITS.maxInvalidMessages - 1);
    expect(ada.conn.closes).toEqual([]);
    await ada.send('{"type":"nope"}');
    expect(ada.conn.closedWith).toBe(CloseCode.abuse);
    expect(media.callsOf('leave')).toEqual([{ method: 'leave', peer: ada.id }]);
  });

  it('counts refused actions as invalid too', async () => {
    await enter('Ada');
    const bob = await enter('Bob');
    for (let i = 0; i < LIMITS.maxInvalidMessages; i++) await bob.send({ type: 'kick', participant: 'K'.repeat(22) });
    expect(bob.conn.closedWith).toBe(CloseCode.abuse);
  });

  it('drops a flood with one rate-limited notice', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const ada = await enter('Ada');
    for (let i = 0; i < LIMITS.messageBurst + 10; i++) ada.session.receive(JSON.stringify({ type: 'ping', seq: i }));
    await flush();
    expect(ada.conn.of('error')).toMatchObject([{ code: 'rate-limited' }]);
    // The hello took one token of the burst.
    expect(ada.conn.of('pong')).toHaveLength(LIMITS.messageBurst - 1);
    expect(ada.conn.closes).toEqual([]);
  });
});
