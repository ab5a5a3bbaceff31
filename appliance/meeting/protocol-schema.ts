// ajv schemas for every message a browser may send, compiled once when this module loads. The types
// they check are in protocol.ts; JSONSchemaType ties each schema to its type at compile time.
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import {
  LIMITS,
  MEETING_ID_PATTERN,
  MODERATOR_ACTIONS,
  type ModerateMessage,
  type AnswerMessage,
  type ChatClientMessage,
  type ClientMessage,
  type E2eeClientMessage,
  type ErrorCode,
  type HelloMessage,
  type KickMessage,
  type LeaveMessage,
  type MediaStateMessage,
  type PingMessage,
  type PublishMessage,
  type ViewMessage,
} from './protocol.js';

const PARTICIPANT_ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } as const;
const SDP = { type: 'string', minLength: 10, maxLength: LIMITS.maxSdpChars } as const;

const hello: JSONSchemaType<HelloMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'protocol', 'meeting', 'name'],
  properties: {
    type: { type: 'string', const: 'hello' },
    protocol: { type: 'integer', minimum: 0, maximum: 1000 },
    meeting: { type: 'string', pattern: MEETING_ID_PATTERN },
    // Checked again after trimming and normalising in names.ts.
    name: { type: 'string', minLength: 1, maxLength: LIMITS.maxNameChars * 4 },
    invite: { type: 'string', nullable: true, pattern: '^[A-Za-z0-9_.-]{16,512}$' },
    password: { type: 'string', nullable: true, minLength: 1, maxLength: 256 },
  },
};
const moderate: JSONSchemaType<ModerateMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'action'],
  properties: {
    type: { type: 'string', const: 'moderate' },
    action: { type: 'string', enum: [...MODERATOR_ACTIONS] },
    participant: { ...PARTICIPANT_ID, nullable: true },
    block: { type: 'boolean', nullable: true },
  },
};
const publish: JSONSchemaType<PublishMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'sdp', 'audioMuted', 'videoMuted'],
  properties: {
    type: { type: 'string', const: 'publish' },
    sdp: SDP,
    audioMuted: { type: 'boolean' },
    videoMuted: { type: 'boolean' },
  },
};
const answer: JSONSchemaType<AnswerMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'sdp'],
  properties: { type: { type: 'string', const: 'answer' }, sdp: SDP },
};
// Not JSONSchemaType-checked: ajv's type helper cannot express a required property that may be null.
// The unit tests cover this schema against TrickleMessage examples instead.
const trickle = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'target', 'candidate'],
  properties: {
    type: { type: 'string', const: 'trickle' },
    target: { type: 'string', enum: ['publisher', 'subscriber'] },
    candidate: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['candidate'],
      properties: {
        candidate: { type: 'string', maxLength: 1024 },
        sdpMid: { type: 'string', nullable: true, maxLength: 32 },
        sdpMLineIndex: { type: 'integer', nullable: true, minimum: 0, maximum: 1024 },
      },
    },
  },
} as const;
const media: JSONSchemaType<MediaStateMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'audioMuted', 'videoMuted'],
  properties: {
    type: { type: 'string', const: 'media' },
    audioMuted: { type: 'boolean' },
    videoMuted: { type: 'boolean' },
  },
};
const view: JSONSchemaType<ViewMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'tiles'],
  properties: {
    type: { type: 'string', const: 'view' },
    tiles: {
      type: 'array',
      maxItems: LIMITS.maxTiles,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['participant', 'width', 'height'],
        properties: {
          participant: PARTICIPANT_ID,
          width: { type: 'number', minimum: 0, maximum: 16384 },
          height: { type: 'number', minimum: 0, maximum: 16384 },
        },
      },
    },
    bandwidthKbps: { type: 'number', nullable: true, minimum: 0, maximum: 10_000_000 },
  },
};
const kick: JSONSchemaType<KickMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'participant'],
  properties: { type: { type: 'string', const: 'kick' }, participant: PARTICIPANT_ID },
};
const leave: JSONSchemaType<LeaveMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: { type: { type: 'string', const: 'leave' } },
};
const ping: JSONSchemaType<PingMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'seq'],
  properties: { type: { type: 'string', const: 'ping' }, seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
};

const e2ee: JSONSchemaType<E2eeClientMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'data'],
  properties: {
    type: { type: 'string', const: 'e2ee' },
    to: { ...PARTICIPANT_ID, nullable: true },
    data: { type: 'string', minLength: 1, maxLength: LIMITS.maxE2eeChars, pattern: '^[A-Za-z0-9_-]+$' },
  },
};
const chat: JSONSchemaType<ChatClientMessage> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'data'],
  properties: {
    type: { type: 'string', const: 'chat' },
    data: { type: 'string', minLength: 1, maxLength: LIMITS.maxChatChars, pattern: '^[A-Za-z0-9_-]+$' },
  },
};

const ajv = new Ajv({ allErrors: false, strict: true });
const validators: Record<ClientMessage['type'], ValidateFunction> = {
  hello: ajv.compile(hello),
  moderate: ajv.compile(moderate),
  publish: ajv.compile(publish),
  answer: ajv.compile(answer),
  trickle: ajv.compile(trickle),
  media: ajv.compile(media),
  view: ajv.compile(view),
  kick: ajv.compile(kick),
  leave: ajv.compile(leave),
  ping: ajv.compile(ping),
  e2ee: ajv.compile(e2ee),
  chat: ajv.compile(chat),
};

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; code: ErrorCode; message: string; about?: string };

/** Counts `m=` lines; a publisher offer with more than a handful is refused before Janus sees it. */
export function countMLines(sdp: string): number {
  let n = 0;
  for (const line of sdp.split('\n')) if (line.startsWith('m=')) n++;
  return n;
}

export function parseClientMessage(raw: string): ParseResult {
  if (raw.length > LIMITS.maxMessageBytes) return { ok: false, code: 'too-large', message: 'message too large' };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'malformed', message: 'not valid JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, code: 'malformed', message: 'expected a JSON object' };
  const type = (data as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(validators, type)) {
    return { ok: false, code: 'malformed', message: 'unknown message type' };
  }
  const validate = validators[type as ClientMessage['type']];
  if (!validate(data)) {
    const err = validate.errors?.[0];
    const tooLong = err?.keyword === 'maxLength' || err?.keyword === 'maxItems';
    return {
      ok: false,
      code: tooLong ? 'too-large' : 'invalid',
      message: `${err?.instancePath || '/'} ${err?.message ?? 'is invalid'}`,
      about: type,
    };
  }
  const message = data as ClientMessage;
  if (message.type === 'publish' && countMLines(message.sdp) > LIMITS.maxPublishMLines) {
    return { ok: false, code: 'too-large', message: `a publisher offer may have at most ${LIMITS.maxPublishMLines} m-lines`, about: type };
  }
  if (message.type === 'answer' && countMLines(message.sdp) > LIMITS.maxParticipants * 3) {
    return { ok: false, code: 'too-large', message: 'too many m-lines in the answer', about: type };
  }
  return { ok: true, message };
}
