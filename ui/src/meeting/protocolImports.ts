// The one place the browser bundle reaches into the service's protocol module: types, and the few
// constants that carry no code with them.
export type {
  ClientMessage,
  ServerMessage,
  WelcomeMessage,
  Participant,
  ParticipantId,
  SubscriberStream,
  TileView,
  IceCandidateInit,
  ErrorCode,
  Role,
  CreateMeetingResponse,
  DeniedMessage,
  Knocker,
  ModeratorAction,
} from '../../../appliance/meeting/protocol.js';
export { PROTOCOL_VERSION, SIGNALLING_PATH, CloseCode, LIMITS, MEETING_ID_PATTERN } from '../../../appliance/meeting/protocol.js';
