// The media interface the rest of the service sees. Nothing here mentions Janus: the meeting layer
// talks about rooms, participants and layers; appliance/media/janus-*.ts translate that to Janus.

/** Our own keys: the meeting layer's room key and participant key (opaque strings). */
export type RoomKey = string;
export type PeerKey = string;

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface SubscriberStreamInfo {
  mid: string;
  /** The publishing participant this stream comes from. */
  from: PeerKey;
  kind: 'audio' | 'video';
}

export interface SubscriberOffer {
  sdp: string;
  streams: SubscriberStreamInfo[];
}

export interface LayerChoice {
  from: PeerKey;
  /** Simulcast substream: 0 lowest … 2 highest. */
  substream: 0 | 1 | 2;
}

export type MediaEvents = {
  /** The media server went away; every publisher and subscriber is gone. */
  lost: [];
  /** The media server is back and the rooms exist again: participants must publish again. */
  restored: [];
  talking: [room: RoomKey, peer: PeerKey, talking: boolean];
  /** A publisher's media connection is up: only now can others subscribe to it (Janus refuses before). */
  publisherUp: [room: RoomKey, peer: PeerKey];
  /** A publisher's media connection ended on the server side (hangup, ICE failure): its feed is gone. */
  publisherDown: [room: RoomKey, peer: PeerKey];
  /** A participant's media connection failed on the server side (ICE failed, hangup). */
  peerFailed: [room: RoomKey, peer: PeerKey, which: 'publisher' | 'subscriber'];
};

export interface MediaBackend {
  readonly ready: boolean;
  on<E extends keyof MediaEvents>(event: E, listener: (...args: MediaEvents[E]) => void): this;
  off<E extends keyof MediaEvents>(event: E, listener: (...args: MediaEvents[E]) => void): this;
  createRoom(room: RoomKey, opts: { maxPublishers: number }): Promise<void>;
  destroyRoom(room: RoomKey): Promise<void>;
  /** Publish a participant's media: an SDP offer in, the SFU's answer out. Replaces an earlier publisher. */
  publish(room: RoomKey, peer: PeerKey, offerSdp: string): Promise<string>;
  /**
   * Makes the participant's subscription cover exactly `sources` (publishing participants). Returns
   * the offer to pass to the browser, or null when nothing changed.
   */
  subscribe(room: RoomKey, peer: PeerKey, sources: readonly PeerKey[]): Promise<SubscriberOffer | null>;
  /** The browser's answer to the latest subscriber offer. */
  startSubscriber(peer: PeerKey, answerSdp: string): Promise<void>;
  trickle(peer: PeerKey, target: 'publisher' | 'subscriber', candidate: IceCandidate | null): Promise<void>;
  setLayers(peer: PeerKey, choices: readonly LayerChoice[]): Promise<void>;
  /** Detaches everything the participant has in the SFU (publisher and subscriber). */
  leave(peer: PeerKey): Promise<void>;
  /** Removes a participant by force: kicked from the SFU room and all their handles detached. */
  kick(room: RoomKey, peer: PeerKey): Promise<void>;
  /**
   * A moderator's enforcement: the SFU stops (false) or resumes (true) forwarding the participant's
   * audio or video to everyone, whatever their browser sends. Holds until changed or they publish anew.
   */
  setForwarding(room: RoomKey, peer: PeerKey, change: { audio?: boolean; video?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    message: string,
    readonly code: 'unavailable' | 'rejected' | 'not-found' | 'bad-state',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
