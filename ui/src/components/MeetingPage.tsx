// One meeting visit: pre-join, the meeting, and what comes after leaving. "Join again" builds a fresh
// room and local media (the old ones are finished for good).
import { useEffect, useState } from 'preact/hooks';
import { useEvent } from '../app/hooks.js';
import { navigate } from '../app/navigation.js';
import { signallingUrl } from '../app/routes.js';
import { parseFragment } from '../app/fragment.js';
import { setHookPageState, setHookRoom } from '../app/testHook.js';
import { E2eeSession } from '../e2ee/E2eeSession.js';
import { missingE2eeCapability } from '../e2ee/support.js';
import { LocalMedia } from '../meeting/LocalMedia.js';
import { Room } from '../meeting/Room.js';
import { SIGNALLING_PATH } from '../meeting/protocolImports.js';
import { RoomPassword } from '../moderation/RoomPassword.js';
import { WaitingRoom } from '../moderation/WaitingRoom.js';
import { InMeeting } from './InMeeting.js';
import { PreJoin } from './PreJoin.js';
import { SecretPrompt } from './SecretPrompt.js';

export function MeetingPage({ meetingId }: { meetingId: string }) {
  const [visit, setVisit] = useState(0);
  // The secret is read from the fragment once; it is never sent anywhere (see e2ee/E2eeSession.ts).
  const [secret, setSecret] = useState(() => parseFragment(location.hash).secret ?? null);
  // A room password lives in this page's memory only, for the next join.
  const [password, setPassword] = useState<string | undefined>(undefined);
  const [missing, setMissing] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void missingE2eeCapability().then((m) => live && setMissing(m));
    return () => {
      live = false;
    };
  }, []);
  if (missing === undefined) return <main class="ended" aria-busy="true" />;
  if (missing) {
    setHookPageState('unsupported');
    return (
      <main class="ended">
        <h1>This browser cannot join</h1>
        <p role="alert">{missing}</p>
      </main>
    );
  }
  if (!secret) {
    setHookPageState('needs-secret');
    return <SecretPrompt onSecret={setSecret} />;
  }
  return (
    <MeetingVisit
      key={visit}
      meetingId={meetingId}
      secret={secret}
      password={password}
      rejoin={(pw?: string) => {
        if (pw !== undefined) setPassword(pw);
        setVisit((v) => v + 1);
      }}
    />
  );
}

interface VisitProps {
  meetingId: string;
  password: string | undefined;
  rejoin: (password?: string) => void;
}

function MeetingVisit({ secret, ...visit }: VisitProps & { secret: string }) {
  const [e2ee, setE2ee] = useState<E2eeSession | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let made: E2eeSession | null = null;
    E2eeSession.create(secret).then(
      (s) => {
        made = s;
        if (live) setE2ee(s);
        else s.close();
      },
      (err: unknown) => {
        console.error('starting end-to-end encryption failed', err);
        if (live) setFailure(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      live = false;
      made?.close();
    };
  }, [secret]);
  if (failure) {
    return (
      <main class="ended">
        <h1>Encryption could not start</h1>
        <p role="alert">End-to-end encryption could not be set up ({failure}), so this page does not join.</p>
      </main>
    );
  }
  if (!e2ee) return <main class="ended" aria-busy="true" />;
  return <MeetingRoom {...visit} e2ee={e2ee} />;
}

function MeetingRoom({ meetingId, password, rejoin, e2ee }: VisitProps & { e2ee: E2eeSession }) {
  const [room] = useState(() => {
    const { invite } = parseFragment(location.hash);
    return new Room({
      meetingId,
      local: new LocalMedia(),
      signalUrl: signallingUrl(location, SIGNALLING_PATH),
      e2ee,
      ...(invite ? { invite } : {}),
      ...(password ? { password } : {}),
    });
  });
  useEvent(room, 'state');
  useEvent(room, 'lobby');

  useEffect(() => {
    setHookRoom(room);
    return () => {
      room.leave();
      setHookRoom(null);
    };
  }, [room]);

  switch (room.state) {
    case 'prejoin':
      return <PreJoin room={room} />;
    case 'joining':
      if (room.waiting) return <WaitingRoom room={room} />;
      return <InMeeting room={room} />;
    case 'joined':
    case 'reconnecting':
      return <InMeeting room={room} />;
    case 'left':
    case 'kicked':
    case 'ended':
      if (room.denial?.reason === 'password-required' || room.denial?.reason === 'password-wrong') {
        return <RoomPassword wrong={room.denial.reason === 'password-wrong'} submit={(pw) => rejoin(pw)} />;
      }
      return (
        <main class="ended">
          <h1>{room.endReason?.title ?? 'You left the meeting'}</h1>
          {room.endReason && <p>{room.endReason.text}</p>}
          <div class="row">
            {(room.endReason?.canRejoin ?? true) && (
              <button type="button" class="primary" onClick={() => rejoin()}>
                Join again
              </button>
            )}
            <button type="button" onClick={() => navigate('/')}>
              Back to the start page
            </button>
          </div>
        </main>
      );
  }
}
