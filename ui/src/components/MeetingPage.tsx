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
import { InMeeting } from './InMeeting.js';
import { PreJoin } from './PreJoin.js';

export function MeetingPage({ meetingId }: { meetingId: string }) {
  const [visit, setVisit] = useState(0);
  return <MeetingVisit key={visit} meetingId={meetingId} rejoin={() => setVisit((v) => v + 1)} />;
}

function MeetingVisit({ meetingId, rejoin }: { meetingId: string; rejoin: () => void }) {
  const [room] = useState(
    () => new Room({ meetingId, local: new LocalMedia(), signalUrl: signallingUrl(location, SIGNALLING_PATH) }),
  );
  useEvent(room, 'state');

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
    case 'joined':
    case 'reconnecting':
      return <InMeeting room={room} />;
    case 'left':
    case 'kicked':
    case 'ended':
      return (
        <main class="ended">
          <h1>{room.endReason?.title ?? 'You left the meeting'}</h1>
          {room.endReason && <p>{room.endReason.text}</p>}
          <div class="row">
            {(room.endReason?.canRejoin ?? true) && (
              <button type="button" class="primary" onClick={rejoin}>
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
