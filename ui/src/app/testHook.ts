// `window.stube`: a small, stable surface for the browser tests (and for curious people in the console).
// It reads the room model; it never changes anything.
import { toBase64Url } from '../e2ee/bytes.js';
import type { Room } from '../meeting/Room.js';
import type { ConnectionPath, PublishedLayerStats, RemoteParticipantStats } from '../meeting/stats.js';

export interface StubeTestHook {
  getRemoteStats(): Promise<Record<string, RemoteParticipantStats>>;
  /** The simulcast layers this page sends (rid, size, frames encoded). */
  getPublishStats(): Promise<PublishedLayerStats[]>;
  /** The path our media ended on: direct-udp, turn-udp, turn-tcp, turn-tls (or unknown). */
  connectionPath(): Promise<ConnectionPath>;
  participants(): { id: string; name: string }[];
  selfId(): string | null;
  state(): string;
  /** End-to-end encryption as this page sees it (no keys, only what the UI shows and counts). */
  e2ee(): E2eeTestView | null;
  /** The latest video keyframe received, as the SFU forwarded it (base64url), and its decrypted length. */
  e2eeForwardedSample(): Promise<{ participant: string; forwarded: string; decryptedLength: number } | null>;
}

export interface E2eeTestView {
  safetyCode: string;
  sendingKid: number | null;
  sentFrames: number;
  rejected: string[];
  undecryptable: string[];
  received: Record<string, { decrypted: number; failed: number }>;
  chat: { from: string; text: string; mine: boolean }[];
}

let currentRoom: Room | null = null;
let pageState = 'loading';

export function setHookRoom(room: Room | null): void {
  currentRoom = room;
}

/** For pages without a room: 'landing', 'unsupported', 'not-found'. */
export function setHookPageState(state: string): void {
  pageState = state;
  currentRoom = null;
}

export function installTestHook(win: Window): void {
  const hook: StubeTestHook = {
    e2eeForwardedSample: async () => {
      const s = await currentRoom?.e2ee?.forwardedSample();
      return s ? { participant: s.participant, forwarded: toBase64Url(s.forwarded), decryptedLength: s.decryptedLength } : null;
    },
    getRemoteStats: async () => (currentRoom ? currentRoom.remoteStats() : {}),
    getPublishStats: async () => (currentRoom ? currentRoom.publishedVideoStats() : []),
    connectionPath: async () => (currentRoom ? currentRoom.connectionPath() : 'unknown'),
    participants: () => currentRoom?.participants().map((p) => ({ id: p.info.id, name: p.info.name })) ?? [],
    selfId: () => currentRoom?.self?.id ?? null,
    state: () => currentRoom?.state ?? pageState,
    e2ee: () => {
      const e = currentRoom?.e2ee;
      if (!e) return null;
      return {
        safetyCode: e.safetyCode,
        sendingKid: e.sendingKid,
        sentFrames: e.sentFrames,
        rejected: e.rejected(),
        undecryptable: e.undecryptable(),
        received: e.receiveStats(),
        chat: e.chatMessages().map((m) => ({ from: m.from, text: m.text, mine: m.mine })),
      };
    },
  };
  Object.defineProperty(win, 'stube', { value: Object.freeze(hook), configurable: true });
}
