// `window.stube`: a small, stable surface for the browser tests (and for curious people in the console).
// It reads the room model; it never changes anything.
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
    getRemoteStats: async () => (currentRoom ? currentRoom.remoteStats() : {}),
    getPublishStats: async () => (currentRoom ? currentRoom.publishedVideoStats() : []),
    connectionPath: async () => (currentRoom ? currentRoom.connectionPath() : 'unknown'),
    participants: () => currentRoom?.participants().map((p) => ({ id: p.info.id, name: p.info.name })) ?? [],
    selfId: () => currentRoom?.self?.id ?? null,
    state: () => currentRoom?.state ?? pageState,
  };
  Object.defineProperty(win, 'stube', { value: Object.freeze(hook), configurable: true });
}
