import { describe, expect, it } from 'vitest';
import { countMLines, parseClientMessage, type ParseResult } from '../../appliance/meeting/protocol-schema.js';
import {
  LIMITS,
  PROTOCOL_VERSION,
  type AnswerMessage,
  type ClientMessage,
  type HelloMessage,
  type KickMessage,
  type LeaveMessage,
  type MediaStateMessage,
  type PingMessage,
  type PublishMessage,
  type TileView,
  type TrickleMessage,
  type ViewMessage,
} from '../../appliance/meeting/protocol.js';

const MEETING = 'AbCdEfGhIjKlMnOpQr_-12';
const PEER_A = 'pA0000000000000000000A';
const PEER_B = 'pB0000000000000000000B';

/** A syntactically plausible SDP with `mLines` media sections. */
function sdp(mLines: number): string {
  const head = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];
  const media = Array.from({ length: mLines }, (_, i) => [`m=${i % 2 ? 'video' : 'audio'} 9 UDP/TLS/RTP/SAVPF 111`, `a=mid:${i}`]);
  return [...head, ...media.flat(), ''].join('\r\n');
}

function expectError(result: ParseResult, code: string, about?: string): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.about).toBe(about);
  expect(result.message.length).toBeGreaterThan(0);
}

const hello: HelloMessage = { type: 'hello', protocol: PROTOCOL_VERSION, meeting: MEETING, name: 'Ada Lovelace' };
const publish: PublishMessage = { type: 'publish', sdp: sdp(2), audioMuted: false, videoMuted: true };
const answer: AnswerMessage = { type: 'answer', sdp: sdp(6) };
const trickle: TrickleMessage = {
  type: 'trickle',
  target: 'publisher',
  candidate: { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 },
};
const trickleEnd: TrickleMessage = { type: 'trickle', target: 'subscriber', candidate: null };
const trickleNullMid: TrickleMessage = { type: 'trickle', target: 'subscriber', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } };
const media: MediaStateMessage = { type: 'media', audioMuted: true, videoMuted: false };
const view: ViewMessage = {
  type: 'view',
  tiles: [
    { participant: PEER_A, width: 640, height: 360 },
    { participant: PEER_B, width: 0, height: 0 },
  ],
  bandwidthKbps: 2500,
};
const viewNoBandwidth: ViewMessage = { type: 'view', tiles: [] };
const kick: KickMessage = { type: 'kick', participant: PEER_A };
const leave: LeaveMessage = { type: 'leave' };
const ping: PingMessage = { type: 'ping', seq: 7 };

const valid: [string, ClientMessage][] = [
  ['hello', hello],
  ['publish', publish],
  ['answer', answer],
  ['trickle', trickle],
  ['trickle (end of candidates)', trickleEnd],
  ['trickle (null mid and index)', trickleNullMid],
  ['media', media],
  ['view', view],
  ['view (no bandwidth)', viewNoBandwidth],
  ['kick', kick],
  ['leave', leave],
  ['ping', ping],
  ['e2ee (to everyone)', { type: 'e2ee', data: 'eyJrIjoiYW5ub3VuY2UifQ' }],
  ['e2ee (to one participant)', { type: 'e2ee', to: 'AAAAAAAAAAAAAAAAAAAAAA', data: 'q83v' }],
  ['chat', { type: 'chat', data: 'AbC-_9' }],
  ['hello with invite and password', { ...hello, invite: 'aGVsbG8gd29ybGQgaGVsbG8.c2lnbmF0dXJl', password: 'door code' }],
  ['moderate (mute)', { type: 'moderate', action: 'mute', participant: PEER_A }],
  ['moderate (remove and block)', { type: 'moderate', action: 'remove', participant: PEER_A, block: true }],
  ['moderate (end)', { type: 'moderate', action: 'end' }],
];

describe('parseClientMessage: valid messages', () => {
  it.each(valid)('accepts %s', (_what, message) => {
    expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, message });
  });

  it('covers every client message type', () => {
    const types = new Set(valid.map(([, m]) => m.type));
    const all: Record<ClientMessage['type'], true> = {
      hello: true, publish: true, answer: true, trickle: true, media: true, view: true, kick: true, leave: true, ping: true,
      e2ee: true, chat: true, moderate: true,
    };
    expect([...types].sort()).toEqual(Object.keys(all).sort());
  });
});

describe('parseClientMessage: malformed', () => {
  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', '{"type":"ping","seq":1'],
    ['an empty frame', ''],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"hello"'],
    ['an array', '[{"type":"ping","seq":1}]'],
    ['an object without type', '{"seq":1}'],
    ['a non-string type', '{"type":1}'],
    ['an unknown type', '{"type":"shutdown"}'],
    ['a service-to-browser type', '{"type":"welcome"}'],
    ['an inherited property name as type', '{"type":"toString"}'],
    ['__proto__ as type', '{"type":"__proto__"}'],
  ])('refuses %s', (_what, raw) => {
    expectError(parseClientMessage(raw), 'malformed');
  });
});

describe('parseClientMessage: invalid fields', () => {
  it.each<[string, Record<string, unknown>]>([
    ['hello with a string protocol', { ...hello, protocol: '1' }],
    ['hello with a fractional protocol', { ...hello, protocol: 1.5 }],
    ['hello without a name', { type: 'hello', protocol: 1, meeting: MEETING }],
    ['hello with an empty name', { ...hello, name: '' }],
    ['hello with an extra field', { ...hello, token: 'x' }],
    ['publish with a string flag', { ...publish, audioMuted: 'no' }],
    ['publish with a short sdp', { ...publish, sdp: 'v=0' }],
    ['answer with a numeric sdp', { type: 'answer', sdp: 12345678901 }],
    ['trickle with an unknown target', { ...trickle, target: 'both' }],
    ['trickle without candidate', { type: 'trickle', target: 'publisher' }],
    ['trickle with an extra candidate field', { ...trickle, candidate: { candidate: 'c', usernameFragment: 'u' } }],
    ['trickle with a negative m-line index', { ...trickle, candidate: { candidate: 'c', sdpMLineIndex: -1 } }],
    ['media with a missing flag', { type: 'media', audioMuted: true }],
    ['view with a negative width', { ...view, tiles: [{ participant: PEER_A, width: -1, height: 10 }] }],
    ['view with a bad participant id', { ...view, tiles: [{ participant: 'short', width: 1, height: 1 }] }],
    ['view with an extra tile field', { ...view, tiles: [{ participant: PEER_A, width: 1, height: 1, x: 0 }] }],
    ['view with negative bandwidth', { ...view, bandwidthKbps: -5 }],
    ['kick with a bad participant id', { type: 'kick', participant: 'not an id' }],
    ['leave with an extra field', { type: 'leave', reason: 'bye' }],
    ['ping with a negative seq', { type: 'ping', seq: -1 }],
    ['ping with a fractional seq', { type: 'ping', seq: 1.5 }],
  ])('refuses %s', (_what, message) => {
    expectError(parseClientMessage(JSON.stringify(message)), 'invalid', String(message.type));
  });

  it('refuses a __proto__ key as an extra field', () => {
    expectError(parseClientMessage('{"type":"leave","__proto__":{"admin":true}}'), 'invalid', 'leave');
  });

  it.each([
    ['21 characters', MEETING.slice(1)],
    ['23 characters', MEETING + 'x'],
    ['base64 (not base64url) characters', 'AbCdEfGhIjKlMnOpQr+/12'],
    ['a path', '../../../../etc/passwd'],
  ])('refuses a meeting id of %s', (_what, meeting) => {
    expectError(parseClientMessage(JSON.stringify({ ...hello, meeting })), 'invalid', 'hello');
  });
});

describe('parseClientMessage: sizes', () => {
  it('refuses a frame over the message limit before parsing it', () => {
    const raw = JSON.stringify({ type: 'leave', pad: 'x'.repeat(LIMITS.maxMessageBytes) });
    expectError(parseClientMessage(raw), 'too-large');
  });

  it('accepts an SDP of exactly the limit and refuses one character more', () => {
    const atLimit = 'v=0\r\n' + 'a'.repeat(LIMITS.maxSdpChars - 5);
    expect(atLimit).toHaveLength(LIMITS.maxSdpChars);
    expect(parseClientMessage(JSON.stringify({ type: 'answer', sdp: atLimit })).ok).toBe(true);
    expectError(parseClientMessage(JSON.stringify({ type: 'answer', sdp: atLimit + 'a' })), 'too-large', 'answer');
    expectError(parseClientMessage(JSON.stringify({ ...publish, sdp: atLimit + 'a' })), 'too-large', 'publish');
  });

  it(`accepts a publisher offer with ${LIMITS.maxPublishMLines} m-lines and refuses one with more`, () => {
    expect(parseClientMessage(JSON.stringify({ ...publish, sdp: sdp(LIMITS.maxPublishMLines) })).ok).toBe(true);
    expectError(parseClientMessage(JSON.stringify({ ...publish, sdp: sdp(LIMITS.maxPublishMLines + 1) })), 'too-large', 'publish');
  });

  it('limits the m-lines of a subscriber answer to three per possible participant', () => {
    const most = LIMITS.maxParticipants * 3;
    expect(parseClientMessage(JSON.stringify({ type: 'answer', sdp: sdp(most) })).ok).toBe(true);
    expectError(parseClientMessage(JSON.stringify({ type: 'answer', sdp: sdp(most + 1) })), 'too-large', 'answer');
  });

  it('refuses a name longer than the schema allows', () => {
    const longest = 'n'.repeat(LIMITS.maxNameChars * 4);
    expect(parseClientMessage(JSON.stringify({ ...hello, name: longest })).ok).toBe(true);
    expectError(parseClientMessage(JSON.stringify({ ...hello, name: longest + 'n' })), 'too-large', 'hello');
  });

  it(`accepts ${LIMITS.maxTiles} tiles in a view and refuses more`, () => {
    const tiles = (n: number): TileView[] => Array.from({ length: n }, () => ({ participant: PEER_A, width: 320, height: 180 }));
    expect(parseClientMessage(JSON.stringify({ type: 'view', tiles: tiles(LIMITS.maxTiles) })).ok).toBe(true);
    expectError(parseClientMessage(JSON.stringify({ type: 'view', tiles: tiles(LIMITS.maxTiles + 1) })), 'too-large', 'view');
  });

  it('refuses a trickle candidate over 1024 characters', () => {
    const candidate = { candidate: 'c'.repeat(1025) };
    expectError(parseClientMessage(JSON.stringify({ ...trickle, candidate })), 'too-large', 'trickle');
  });
});

describe('countMLines', () => {
  it('counts m= lines with CRLF and LF line ends', () => {
    expect(countMLines(sdp(0))).toBe(0);
    expect(countMLines(sdp(3))).toBe(3);
    expect(countMLines(sdp(3).replaceAll('\r\n', '\n'))).toBe(3);
  });

  it('counts only lines that start with m=', () => {
    expect(countMLines('v=0\r\na=x m=audio\r\ns=m=\r\nm=video 9 UDP 96\r\n')).toBe(1);
    expect(countMLines('m=audio 9 UDP 111')).toBe(1);
  });
});
