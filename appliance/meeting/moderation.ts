// Moderator actions inside a live meeting. The caller (the meeting service's session) has already
// checked the sender's role against the policy table; this file carries the actions out — on the
// server and at the media server, never only by asking the target's browser.
import type { MediaBackend } from '../media/types.js';
import type { Lobby } from './lobby.js';
import type { Meeting } from './meeting.js';
import { CloseCode, type ErrorCode, type ModerateMessage, type Participant } from './protocol.js';

export interface ModerationContext {
  meeting: Meeting;
  lobby: Lobby;
  media: MediaBackend;
  self: Participant;
  /** Sends the waiting list to every moderator. */
  announceKnockers(): void;
  endMeeting(): Promise<void>;
}

export type ModerationResult = { ok: true } | { ok: false; code: ErrorCode; message: string };

const OK: ModerationResult = { ok: true };
const notFound = (what: string): ModerationResult => ({ ok: false, code: 'not-found', message: `no such ${what}` });

export async function moderate(ctx: ModerationContext, message: ModerateMessage): Promise<ModerationResult> {
  const { meeting, lobby, media, self } = ctx;
  const target = message.participant;
  switch (message.action) {
    case 'admit':
    case 'deny': {
      const knock = target ? lobby.take(target) : undefined;
      if (!knock) return notFound('person waiting');
      if (message.action === 'admit') knock.admit();
      else knock.deny('denied', 'a moderator did not let you in');
      ctx.announceKnockers();
      return OK;
    }
    case 'admitAll':
      for (const knock of lobby.takeAll()) knock.admit();
      ctx.announceKnockers();
      return OK;
    case 'mute':
    case 'stopVideo': {
      const member = target ? meeting.member(target) : undefined;
      if (!member || !target) return notFound('participant');
      await stop(ctx, target, message.action);
      return OK;
    }
    case 'muteAll':
      for (const p of meeting.participants()) if (p.id !== self.id) await stop(ctx, p.id, 'mute');
      return OK;
    case 'remove': {
      const member = target ? meeting.member(target) : undefined;
      if (!member || !target || target === self.id) return notFound('participant');
      if (message.block) lobby.block(target);
      member.connection.send({ type: 'denied', reason: message.block ? 'blocked' : 'denied', message: 'a moderator removed you from the meeting' });
      member.connection.close(CloseCode.kicked, 'removed by a moderator');
      await meeting.remove(target, 'kicked');
      lobby.left(target);
      return OK;
    }
    case 'lock':
    case 'unlock':
      lobby.locked = message.action === 'lock';
      meeting.broadcast({ type: 'meetingState', locked: lobby.locked });
      return OK;
    case 'promote': {
      const member = target ? meeting.member(target) : undefined;
      if (!member || !target) return notFound('participant');
      meeting.update(target, { role: 'moderator' });
      member.connection.send({ type: 'moderated', action: 'promote' });
      member.connection.send({ type: 'knocking', knockers: lobby.knockers() });
      return OK;
    }
    case 'end':
      await ctx.endMeeting();
      return OK;
    default:
      return assertNever(message.action);
  }
}

/** Stops a participant's audio or video at the media server and tells everyone. */
async function stop(ctx: ModerationContext, id: string, action: 'mute' | 'stopVideo'): Promise<void> {
  const audio = action === 'mute';
  (audio ? ctx.lobby.audioStopped : ctx.lobby.videoStopped).add(id);
  await ctx.media.setForwarding(ctx.meeting.id, id, audio ? { audio: false } : { video: false });
  ctx.meeting.update(id, audio ? { audioMuted: true } : { videoMuted: true });
  ctx.meeting.member(id)?.connection.send({ type: 'moderated', action });
}

function assertNever(x: never): never {
  throw new Error(`unhandled moderator action ${String(x)}`);
}
