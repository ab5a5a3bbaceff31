// The signalling protocol between a browser and the service: JSON over one WebSocket per participant.
// This file holds only types and constants so that the browser bundle can import it without pulling in
// the schemas or ajv; the schemas that enforce these types live in protocol-schema.ts.
// docs/protocol.md explains the flows; keep the two in step.

/** Bumped on any incompatible change; the first message of each side carries it. */
export const PROTOCOL_VERSION = 1;

/** Path of the signalling WebSocket. No identifiers or secrets travel in it. */
export const SIGNALLING_PATH = '/ws';

export const LIMITS = {
  /** Largest WebSocket message the service accepts, in bytes. */
  maxMessageBytes: 128 * 1024,
  /** Largest SDP inside a message, in characters. */
  maxSdpChars: 64 * 1024,
  /** Most m-lines in a publisher offer (audio, camera, screen, data). */
  maxPublishMLines: 4,
  /** Display names, after trimming. */
  maxNameChars: 64,
  /** Most participants in one meeting. */
  maxParticipants: 16,
  /** Most people waiting in one meeting's waiting room; more get `denied` `full`. */
  maxWaiting: 32,
  /** Most tiles a client may describe in one `view` message. */
  maxTiles: 64,
  /** Token bucket for incoming messages: sustained rate and burst. */
  messagesPerSecond: 40,
  messageBurst: 120,
  /** A client that sends this many invalid messages is disconnected. */
  maxInvalidMessages: 20,
  /** Time allowed between opening the socket and a valid `hello`, in ms. */
  helloTimeoutMs: 10_000,
  /** Opaque end-to-end encryption payloads (key announcements, pairwise-encrypted sender keys), base64url characters. */
  maxE2eeChars: 2048,
  /** Encrypted chat payloads, base64url characters (about 4,000 characters of text after encryption). */
  maxChatChars: 12 * 1024,
  /** Token bucket for relayed E2EE and chat messages (besides the general one). */
  relayPerSecond: 10,
  relayBurst: 40,
} as const;

/** WebSocket close codes the service uses (4000–4999 are free for applications). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  /** Sent by the WebSocket layer when a frame exceeds maxMessageBytes. */
  tooBig: 1009,
  protocolVersion: 4000,
  abuse: 4001,
  helloTimeout: 4002,
  kicked: 4003,
  meetingNotFound: 4004,
  meetingFull: 4005,
  replaced: 4006,
  /** Not let in: a `denied` message with the reason came first (waiting room, link, password, block). */
  denied: 4007,
  /** A moderator or an admin ended the meeting for everyone. */
  ended: 4008,
  serverError: 4011,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Error codes carried by `error` messages; the connection stays open after these. */
export type ErrorCode =
  | 'malformed' // not JSON, or not an object with a known `type`
  | 'invalid' // a known type whose fields fail the schema
  | 'too-large' // an SDP or other field over its limit
  | 'rate-limited' // messages dropped because the client sends too fast
  | 'not-allowed' // the participant's role does not permit this action
  | 'bad-state' // e.g. `publish` before `hello`, or `answer` without an offer
  | 'media-failed' // the SFU refused the SDP or is unavailable right now
  | 'not-found'; // a participant or feed that does not exist

export type Role = 'moderator' | 'participant';

/** Opaque participant ID, 22 characters of base64url (128 random bits). */
export type ParticipantId = string;

export interface Participant {
  id: ParticipantId;
  name: string;
  role: Role;
  audioMuted: boolean;
  videoMuted: boolean;
  /** True once the participant's media is flowing into the SFU. */
  publishing: boolean;
}

export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

// ---- browser → service ----

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  /** The meeting ID from the page's path `/r/<id>`. */
  meeting: string;
  name: string;
  /** The invite token from the link's fragment (`#<secret>~<invite>`); persistent rooms need one or a sign-in. */
  invite?: string;
  /** The room password, when the room has one and the person typed it. */
  password?: string;
}
/** An SDP offer for the publisher PeerConnection (sendonly audio + video, simulcast). */
export interface PublishMessage {
  type: 'publish';
  sdp: string;
  audioMuted: boolean;
  videoMuted: boolean;
}
/** The SDP answer to the latest `subscriberOffer`. */
export interface AnswerMessage {
  type: 'answer';
  sdp: string;
}
export interface TrickleMessage {
  type: 'trickle';
  target: 'publisher' | 'subscriber';
  /** null means end of candidates. */
  candidate: IceCandidateInit | null;
}
export interface MediaStateMessage {
  type: 'media';
  audioMuted: boolean;
  videoMuted: boolean;
}
export interface TileView {
  participant: ParticipantId;
  /** Rendered size in CSS pixels times devicePixelRatio; 0 when the tile is not visible. */
  width: number;
  height: number;
}
/** What the client shows and how much it can receive; the service picks simulcast layers from it. */
export interface ViewMessage {
  type: 'view';
  tiles: TileView[];
  /** Estimated available incoming bandwidth in kbit/s, when the browser knows it. */
  bandwidthKbps?: number;
}
export interface KickMessage {
  type: 'kick';
  participant: ParticipantId;
}
export interface LeaveMessage {
  type: 'leave';
}
export interface PingMessage {
  type: 'ping';
  seq: number;
}

/**
 * An end-to-end encryption message for one participant (`to`) or for everyone else in the meeting. The
 * service cannot read `data` and only relays it; see docs/protocol.md for what the browsers put inside.
 */
export interface E2eeClientMessage {
  type: 'e2ee';
  to?: ParticipantId;
  data: string;
}
/** An encrypted chat message for everyone else in the meeting; relayed, never stored. */
export interface ChatClientMessage {
  type: 'chat';
  data: string;
}

/** Every moderator action; the service checks the sender's role for each (appliance/accounts/policy.ts). */
export const MODERATOR_ACTIONS = ['admit', 'deny', 'admitAll', 'mute', 'muteAll', 'stopVideo', 'remove', 'lock', 'unlock', 'promote', 'end'] as const;
export type ModeratorAction = (typeof MODERATOR_ACTIONS)[number];
/**
 * A moderator action. `participant` names the target: a participant, or for admit/deny someone
 * knocking. `block` with `remove`: the same link from the same address cannot come back this meeting.
 */
export interface ModerateMessage {
  type: 'moderate';
  action: ModeratorAction;
  participant?: ParticipantId;
  block?: boolean;
}

export type ClientMessage =
  | E2eeClientMessage
  | ChatClientMessage
  | ModerateMessage
  | HelloMessage
  | PublishMessage
  | AnswerMessage
  | TrickleMessage
  | MediaStateMessage
  | ViewMessage
  | KickMessage
  | LeaveMessage
  | PingMessage;

// ---- service → browser ----

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  you: Participant;
  participants: Participant[];
  /** ICE servers of this box (never a third party's); empty when none is configured. */
  iceServers: { urls: string[]; username?: string; credential?: string }[];
}
export interface PublisherAnswerMessage {
  type: 'publisherAnswer';
  sdp: string;
}
export interface SubscriberStream {
  mid: string;
  participant: ParticipantId;
  kind: 'audio' | 'video';
}
/** A new or updated offer for the subscriber PeerConnection; answer with `answer`. */
export interface SubscriberOfferMessage {
  type: 'subscriberOffer';
  sdp: string;
  streams: SubscriberStream[];
}
export interface ParticipantJoinedMessage {
  type: 'participantJoined';
  participant: Participant;
}
export interface ParticipantUpdatedMessage {
  type: 'participantUpdated';
  participant: Participant;
}
export interface ParticipantLeftMessage {
  type: 'participantLeft';
  participant: ParticipantId;
  reason: 'left' | 'kicked' | 'disconnected';
}
export interface TalkingMessage {
  type: 'talking';
  participant: ParticipantId;
  talking: boolean;
}
/** The media server restarted: drop both PeerConnections and publish again; a new offer follows. */
export interface MediaRestartMessage {
  type: 'mediaRestart';
}
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The `type` of the message that caused the error, when known. */
  about?: string;
}
export interface PongMessage {
  type: 'pong';
  seq: number;
}
/** Something a moderator should know about the box, e.g. that it restarts for an update after the meeting. */
export interface NoticeMessage {
  type: 'notice';
  code: 'reboot-pending';
  message: string;
}

/** A relayed `e2ee` message; `from` is set by the service, `to` tells whether it was addressed to us alone. */
export interface E2eeServerMessage {
  type: 'e2ee';
  from: ParticipantId;
  direct: boolean;
  data: string;
}
export interface ChatServerMessage {
  type: 'chat';
  from: ParticipantId;
  data: string;
}

/** Instead of `welcome`: the person waits until a moderator lets them in. */
export interface WaitingMessage {
  type: 'waiting';
  /** False while no moderator is in the meeting (then nobody is let in, if the room says so). */
  moderatorPresent: boolean;
}
export interface Knocker {
  id: ParticipantId;
  name: string;
}
/** To moderators: everyone waiting right now, in order of arrival (the whole list each time). */
export interface KnockingMessage {
  type: 'knocking';
  knockers: Knocker[];
}
export type DenyReason =
  | 'denied' // a moderator said no
  | 'blocked' // removed and blocked in this meeting
  | 'ended' // the meeting was ended for everyone
  | 'full'
  | 'invite-required' // a persistent room without a link or sign-in
  | 'invite-invalid'
  | 'invite-revoked'
  | 'invite-expired'
  | 'guests-not-allowed'
  | 'password-required'
  | 'password-wrong'
  | 'password-rate-limited';
/** Why the service will not (or no longer) let this person in; the socket closes with 4007/4008 next. */
export interface DeniedMessage {
  type: 'denied';
  reason: DenyReason;
  message: string;
}
/** To the participant a moderator acted on: muted, video stopped, or made moderator. */
export interface ModeratedMessage {
  type: 'moderated';
  action: 'mute' | 'stopVideo' | 'promote';
}
export interface MeetingStateMessage {
  type: 'meetingState';
  locked: boolean;
}

export type ServerMessage =
  | E2eeServerMessage
  | ChatServerMessage
  | WaitingMessage
  | KnockingMessage
  | DeniedMessage
  | ModeratedMessage
  | MeetingStateMessage
  | WelcomeMessage
  | PublisherAnswerMessage
  | SubscriberOfferMessage
  | ParticipantJoinedMessage
  | ParticipantUpdatedMessage
  | ParticipantLeftMessage
  | TalkingMessage
  | MediaRestartMessage
  | ErrorMessage
  | PongMessage
  | NoticeMessage;

/** Meeting IDs: 22 base64url characters = 132 bits, of which 128 come from the random generator. */
export const MEETING_ID_PATTERN = '^[A-Za-z0-9_-]{22}$';

/** REST: POST /api/meetings → 201 { id }. The page then goes to /r/<id>. */
export interface CreateMeetingResponse {
  id: string;
}
