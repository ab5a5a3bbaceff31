// Messages between the main thread and the E2EE transform worker. Keys cross this boundary (same
// origin, same process); nothing here ever goes to the network.
export type FrameOp = 'encrypt' | 'decrypt';
export type MediaKind = 'audio' | 'video';

/** Options given to each RTCRtpScriptTransform (or sent with the streams of the fallback path). */
export interface TransformOptions {
  op: FrameOp;
  kind: MediaKind;
  /** Receivers: a stable number; the participant behind it is set (and changed) with an `owner` message. */
  id: number;
}

export type ToWorker =
  /** Encrypt with this key from `delayMs` on (a later sendKey cancels an earlier one still waiting). */
  | { type: 'sendKey'; kid: number; key: Uint8Array<ArrayBuffer>; delayMs: number }
  | { type: 'receiveKey'; participant: string; kid: number; key: Uint8Array<ArrayBuffer> }
  | { type: 'forget'; participant: string }
  | { type: 'owner'; id: number; participant: string }
  | ({ type: 'streams'; readable: ReadableStream; writable: WritableStream } & TransformOptions)
  /** Test hook: report the latest received video keyframe as it came from the SFU. */
  | { type: 'sample' }
  /** Bench only: encrypt and decrypt `frames` synthetic frames of `size` bytes and report the times. */
  | { type: 'bench'; frames: number; size: number };

export interface ParticipantFrameStats {
  decrypted: number;
  failed: number;
}

export type FromWorker =
  | {
      type: 'stats';
      /** Frames since the previous report, per participant. */
      received: Record<string, ParticipantFrameStats>;
      sent: number;
      /** Frames dropped because no sender key was set yet (never sent in clear). */
      unsentNoKey: number;
      sendingKid: number | null;
    }
  | { type: 'bench'; encryptMsPerFrame: number; decryptMsPerFrame: number }
  | { type: 'sample'; sample: ForwardedSample | null };

/** A video keyframe as the SFU forwarded it (encrypted), with the length it had once decrypted. */
export interface ForwardedSample {
  participant: string;
  forwarded: Uint8Array<ArrayBuffer>;
  decryptedLength: number;
}
