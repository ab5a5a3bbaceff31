// One meeting visit: pre-join, the meeting, and what comes after leaving. "Join again" builds a fresh
// room and local media (the old ones are finished for good).
import { useEffect, useState } from 'preact/hooks';
import { useEvent } from '../app/hooks.js';
import { navigate } from '../app/navigation.js';
import { signallingUrl } from '../app/routes.js';
import { setHookRoom } from '../app/testHook.js';
import { LocalMedia } from '../meeting/LocalMedia.js';
import { Room } from '../meeting/Room.js';
import { SIGNALLING_PATH } from '../meeting/protocolImports.js';
import { parseFragment } from '../app/fragment.js';
import { RoomPassword } from '../moderation/RoomPassword.js';
import { WaitingRoom } from '../moderation/WaitingRoom.js';
import { InMeeting } from './InMeeting.js';
import { PreJoin } from './PreJoin.js';

export function MeetingPage({ meetingId }: { meetingId: string }) {
  const [visit, setVisit] = useState(0);
  // A room password lives in this page's memory only, for the next join.
  const [password, setPassword] = useState<string | undefined>(undefined);
  return (
    <MeetingVisit
      key={visit}
      meetingId={meetingId}
      password={password}
      rejoin={(pw?: string) => {
        if (pw !== undefined) setPassword(pw);
        setVisit((v) => v + 1);
      }}
    />
  );
}

function MeetingVisit({ meetingId, password, rejoin }: { meetingId: string; password: string | undefined; rejoin: (password?: string) => void }) {
  const [room] = useState(() => {
    const { invite } = parseFragment(location.hash);
    return new Room({
      meetingId,
      local: new LocalMedia(),
      signalUrl: signallingUrl(location, SIGNALLING_PATH),
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
