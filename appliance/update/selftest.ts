// The self-test meeting join behind a boot's "healthy": one participant joins a meeting kept for this
// purpose through the service's own signalling session (hello → welcome → publish → the real Janus's
// answer → leave), with no browser. A version whose signalling or media path is broken therefore never
// gets its boot entry marked good, even when /healthz (Janus connected, HTTPS serving) answers.
//
// The join runs in the service's process, not over a WebSocket: the caller (stube-healthy.service)
// reaches it over HTTPS, which covers the TLS and HTTP part, and the service's WebSocket glue is the few
// lines of server/signalling.ts. The publisher offer is made here: audio only, a fresh ICE user name
// and password and a random DTLS fingerprint; Janus answers it without any media flowing.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../config/durable.js';
import type { Connection } from '../meeting/meeting.js';
import { PROTOCOL_VERSION, type ServerMessage } from '../meeting/protocol.js';
import type { MeetingService } from '../meeting/service.js';

export interface SelfTestResult {
  readonly ok: boolean;
  /** Which step did not happen (no personal data: the meeting is the self-test's own). */
  readonly failed?: 'welcome' | 'answer' | 'left';
  readonly ms: number;
}

/** A WebRTC-shaped publisher offer with one Opus send-only m-line. */
export function selfTestOffer(): string {
  const fingerprint = [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  const ssrc = randomBytes(4).readUInt32BE() || 1;
  return [
    'v=0',
    `o=- ${randomBytes(6).readUIntBE(0, 6)} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=msid-semantic: WMS selftest',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${randomBytes(6).toString('hex')}`,
    `a=ice-pwd:${randomBytes(12).toString('hex')}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    'a=mid:0',
    'a=sendonly',
    'a=msid:selftest audio',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    `a=ssrc:${ssrc} cname:selftest`,
    '',
  ].join('\r\n');
}

/** The meeting ID the self-test joins, kept in the data folder so each check does not add a meeting. */
async function selfTestMeeting(meetings: MeetingService, dataDir: string): Promise<string> {
  const file = join(dataDir, 'selftest-meeting.json');
  try {
    const id = (JSON.parse(await readFile(file, 'utf8')) as { id?: unknown }).id;
    if (typeof id === 'string' && meetings.meetingExists(id)) return id;
  } catch {
    // none yet (or unreadable): make one
  }
  const id = await meetings.createMeeting();
  await writeFileDurable(file, `${JSON.stringify({ id })}\n`);
  return id;
}

/** Joins, publishes and leaves once; resolves (never rejects) with what happened. */
export async function selfTestJoin(meetings: MeetingService, dataDir: string, timeoutMs = 20_000): Promise<SelfTestResult> {
  const started = Date.now();
  const meeting = await selfTestMeeting(meetings, dataDir);
  const received: ServerMessage[] = [];
  let wake: () => void = () => {};
  let closed = false;
  const connection: Connection = {
    send(message) {
      received.push(message);
      wake();
    },
    close() {
      closed = true;
      wake();
    },
  };
  const until = started + timeoutMs;
  const waitFor = async (type: ServerMessage['type']): Promise<ServerMessage | null> => {
    for (;;) {
      const found = received.find((m) => m.type === type);
      if (found) return found;
      if (closed || received.some((m) => m.type === 'error' || m.type === 'denied') || Date.now() >= until) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(0, Math.min(500, until - Date.now())));
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  };
  const session = meetings.connect(connection);
  const result = (failed?: SelfTestResult['failed']): SelfTestResult => ({ ok: !failed, ...(failed ? { failed } : {}), ms: Date.now() - started });
  try {
    session.receive(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, meeting, name: 'Self-test' }));
    if (!(await waitFor('welcome'))) return result('welcome');
    session.receive(JSON.stringify({ type: 'publish', sdp: selfTestOffer(), audioMuted: true, videoMuted: true }));
    const answer = await waitFor('publisherAnswer');
    if (!answer || answer.type !== 'publisherAnswer' || !/^m=audio /m.test(answer.sdp)) return result('answer');
    session.receive(JSON.stringify({ type: 'leave' }));
    if (!(await waitUntil(() => closed, until))) return result('left');
    return result();
  } finally {
    session.closed();
  }
}

async function waitUntil(check: () => boolean, until: number): Promise<boolean> {
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return check();
}

/**
 * GET /healthz/join: runs the self-test at most once per `minGapMs` (each run makes a Janus room and
 * publisher, so a flood of requests must not make more), one at a time, and answers with the last result.
 */
export function selfTestGate(run: () => Promise<SelfTestResult>, minGapMs = 10_000): () => Promise<SelfTestResult | null> {
  let last: { at: number; result: SelfTestResult } | null = null;
  let running: Promise<SelfTestResult> | null = null;
  return async () => {
    if (running) return running;
    if (last && Date.now() - last.at < minGapMs) return last.result;
    running = run().then((result) => {
      last = { at: Date.now(), result };
      return result;
    }, (): SelfTestResult => {
      const result: SelfTestResult = { ok: false, failed: 'welcome', ms: 0 };
      last = { at: Date.now(), result };
      return result;
    });
    try {
      return await running;
    } finally {
      running = null;
    }
  };
}
