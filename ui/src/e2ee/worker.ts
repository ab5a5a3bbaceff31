// The E2EE transform worker: every encoded frame we send is SFrame-encrypted here, every frame we
// receive is decrypted here; frames that do not authenticate are dropped (never handed to a decoder)
// and counted. One worker serves all transforms of a page, so one counter covers every frame sent
// under a sender key (audio, and all simulcast layers of the video).
/// <reference lib="webworker" />
import { decryptFrame, encryptFrame } from './frameCrypto.js';
import { newSenderKey } from './keySchedule.js';
import { deriveSFrameKey, SFrameSender, type SFrameKey } from './sframe.js';
import type { ForwardedSample, FromWorker, ParticipantFrameStats, ToWorker, TransformOptions } from './workerProtocol.js';

declare const self: DedicatedWorkerGlobalScope;

const sender = new SFrameSender();
/** KID → key and the participant it belongs to. */
const receiveKeys = new Map<number, { participant: string; key: SFrameKey }>();
const KEYS_KEPT_PER_PARTICIPANT = 4;
const owners = new Map<number, string>();
let received: Record<string, ParticipantFrameStats> = {};
let sent = 0;
let unsentNoKey = 0;
/** Key changes are applied in order even though deriving takes a moment. */
let keyQueue: Promise<void> = Promise.resolve();
/** Only the latest sendKey takes effect, even if an earlier one's delay ends later. */
let sendKeyGeneration = 0;
/** The latest video keyframe received, as forwarded (it is what the box sees); for the test hook only. */
let sample: ForwardedSample | null = null;

function count(participant: string | undefined, ok: boolean): void {
  if (!participant) return;
  const s = (received[participant] ??= { decrypted: 0, failed: 0 });
  if (ok) s.decrypted++;
  else s.failed++;
}

function lookup(kid: number): SFrameKey | undefined {
  return receiveKeys.get(kid)?.key;
}

function pipe(readable: ReadableStream, writable: WritableStream, o: TransformOptions): void {
  const transform = new TransformStream<RTCEncodedVideoFrame | RTCEncodedAudioFrame, RTCEncodedVideoFrame | RTCEncodedAudioFrame>({
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      if (data.length === 0) return;
      if (o.op === 'encrypt') {
        if (sender.kid === null) {
          unsentNoKey++;
          return; // no key yet: drop, never send in clear
        }
        const out = await encryptFrame(sender, o.kind, data);
        frame.data = out.buffer;
        sent++;
        controller.enqueue(frame);
        return;
      }
      try {
        const { frame: plain } = await decryptFrame(lookup, o.kind, data);
        if (o.kind === 'video' && (data[0]! & 0x01) === 0) {
          sample = { participant: owners.get(o.id) ?? '', forwarded: data, decryptedLength: plain.length };
        }
        frame.data = plain.buffer;
        count(owners.get(o.id), true);
        controller.enqueue(frame);
      } catch {
        count(owners.get(o.id), false);
      }
    },
  });
  readable
    .pipeThrough(transform)
    .pipeTo(writable)
    .catch((err: unknown) => console.warn(`e2ee ${o.op} pipe ended`, err));
}

// Standard path (Firefox, Safari, current Chromium).
self.onrtctransform = (event: RTCTransformEvent) => {
  const t = event.transformer;
  pipe(t.readable, t.writable, t.options as TransformOptions);
};

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'sendKey': {
      const generation = ++sendKeyGeneration;
      const derived = deriveSFrameKey(m.key, m.kid);
      setTimeout(() => {
        keyQueue = keyQueue
          .then(async () => {
            const k = await derived;
            if (generation === sendKeyGeneration) sender.setKey(k);
          })
          .catch((err: unknown) => console.warn('setting the sender key failed', err));
      }, m.delayMs);
      return;
    }
    case 'receiveKey':
      keyQueue = keyQueue
        .then(async () => {
          receiveKeys.set(m.kid, { participant: m.participant, key: await deriveSFrameKey(m.key, m.kid) });
          // Keep the newest few keys of each participant (frames under the previous key may still be in
          // flight after a change); Map iteration order is insertion order, so the oldest go first.
          const theirs = [...receiveKeys].filter(([, v]) => v.participant === m.participant);
          for (const [kid] of theirs.slice(0, Math.max(0, theirs.length - KEYS_KEPT_PER_PARTICIPANT))) receiveKeys.delete(kid);
        })
        .catch((err: unknown) => console.warn('adding a receive key failed', err));
      return;
    case 'forget':
      for (const [kid, v] of receiveKeys) if (v.participant === m.participant) receiveKeys.delete(kid);
      return;
    case 'owner':
      owners.set(m.id, m.participant);
      return;
    case 'streams':
      pipe(m.readable, m.writable, { op: m.op, kind: m.kind, id: m.id });
      return;
    case 'bench':
      void bench(m.frames, m.size);
      return;
    case 'sample':
      self.postMessage({ type: 'sample', sample } satisfies FromWorker);
      return;
    default: {
      const unknown: never = m;
      console.warn('e2ee worker: unknown message', unknown);
    }
  }
};

setInterval(() => {
  const report: FromWorker = { type: 'stats', received, sent, unsentNoKey, sendingKid: sender.kid };
  received = {};
  sent = 0;
  unsentNoKey = 0;
  self.postMessage(report);
}, 1_000);

/** Times encrypt and decrypt of synthetic VP8 delta frames with a throw-away key (bench/e2ee.ts). */
async function bench(frames: number, size: number): Promise<void> {
  const sk = newSenderKey();
  const k = await deriveSFrameKey(sk.key, sk.kid);
  const s = new SFrameSender();
  s.setKey(k);
  const input = crypto.getRandomValues(new Uint8Array(size));
  input[0] = input[0]! | 1;
  const encrypted: Uint8Array[] = [];
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) encrypted.push(await encryptFrame(s, 'video', input));
  const t1 = performance.now();
  for (const e of encrypted) await decryptFrame((kid) => (kid === k.kid ? k : undefined), 'video', e);
  const t2 = performance.now();
  self.postMessage({ type: 'bench', encryptMsPerFrame: (t1 - t0) / frames, decryptMsPerFrame: (t2 - t1) / frames } satisfies FromWorker);
}
