// A media backend for unit tests: records every call, answers at once, and lets the test emit the
// backend's events. Subscribing to a non-empty set of other publishers returns an offer.
import { EventEmitter } from 'node:events';
import type {
  IceCandidate,
  LayerChoice,
  MediaBackend,
  MediaEvents,
  PeerKey,
  RoomKey,
  SubscriberOffer,
} from '../../appliance/media/types.js';

export type FakeMediaCall =
  | { method: 'createRoom'; room: RoomKey; maxPublishers: number }
  | { method: 'destroyRoom'; room: RoomKey }
  | { method: 'publish'; room: RoomKey; peer: PeerKey; sdp: string }
  | { method: 'subscribe'; room: RoomKey; peer: PeerKey; sources: PeerKey[] }
  | { method: 'startSubscriber'; peer: PeerKey; sdp: string }
  | { method: 'trickle'; peer: PeerKey; target: 'publisher' | 'subscriber'; candidate: IceCandidate | null }
  | { method: 'setLayers'; peer: PeerKey; choices: LayerChoice[] }
  | { method: 'leave'; peer: PeerKey }
  | { method: 'kick'; room: RoomKey; peer: PeerKey }
  | { method: 'setForwarding'; room: RoomKey; peer: PeerKey; change: { audio?: boolean; video?: boolean } }
  | { method: 'close' };

export type FakeMediaMethod = FakeMediaCall['method'];

export class FakeMedia extends EventEmitter<MediaEvents> implements MediaBackend {
  ready = true;
  readonly calls: FakeMediaCall[] = [];
  /** The next call of a method rejects with this error (once). */
  readonly failNext = new Map<FakeMediaMethod, Error>();

  callsOf<M extends FakeMediaMethod>(method: M): Extract<FakeMediaCall, { method: M }>[] {
    return this.calls.filter((c): c is Extract<FakeMediaCall, { method: M }> => c.method === method);
  }

  #record(call: FakeMediaCall): void {
    this.calls.push(call);
    const err = this.failNext.get(call.method);
    if (err) {
      this.failNext.delete(call.method);
      throw err;
    }
  }

  async createRoom(room: RoomKey, opts: { maxPublishers: number }): Promise<void> {
    this.#record({ method: 'createRoom', room, maxPublishers: opts.maxPublishers });
  }

  async destroyRoom(room: RoomKey): Promise<void> {
    this.#record({ method: 'destroyRoom', room });
  }

  async publish(room: RoomKey, peer: PeerKey, offerSdp: string): Promise<string> {
    this.#record({ method: 'publish', room, peer, sdp: offerSdp });
    return `v=0 answer for ${peer}`;
  }

  async subscribe(room: RoomKey, peer: PeerKey, sources: readonly PeerKey[]): Promise<SubscriberOffer | null> {
    this.#record({ method: 'subscribe', room, peer, sources: [...sources] });
    const others = sources.filter((s) => s !== peer);
    if (others.length === 0) return null;
    return {
      sdp: `v=0 offer for ${peer}`,
      streams: others.flatMap((from, i) => [
        { mid: String(2 * i), from, kind: 'audio' as const },
        { mid: String(2 * i + 1), from, kind: 'video' as const },
      ]),
    };
  }

  async startSubscriber(peer: PeerKey, answerSdp: string): Promise<void> {
    this.#record({ method: 'startSubscriber', peer, sdp: answerSdp });
  }

  async trickle(peer: PeerKey, target: 'publisher' | 'subscriber', candidate: IceCandidate | null): Promise<void> {
    this.#record({ method: 'trickle', peer, target, candidate });
  }

  async setLayers(peer: PeerKey, choices: readonly LayerChoice[]): Promise<void> {
    this.#record({ method: 'setLayers', peer, choices: [...choices] });
  }

  async leave(peer: PeerKey): Promise<void> {
    this.#record({ method: 'leave', peer });
  }

  async kick(room: RoomKey, peer: PeerKey): Promise<void> {
    this.#record({ method: 'kick', room, peer });
  }

  async setForwarding(room: RoomKey, peer: PeerKey, change: { audio?: boolean; video?: boolean }): Promise<void> {
    this.#record({ method: 'setForwarding', room, peer, change: { ...change } });
  }

  async close(): Promise<void> {
    this.#record({ method: 'close' });
  }
}
