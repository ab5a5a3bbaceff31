import { useState } from 'preact/hooks';
import { useEvent } from '../app/hooks.js';
import type { Room } from '../meeting/Room.js';
import { ChatPanel } from './ChatPanel.js';
import { ConnectionPath } from './ConnectionPath.js';
import { ModeratorPanel } from '../moderation/ModeratorPanel.js';
import { Controls } from './Controls.js';
import { E2eeStatus } from './E2eeStatus.js';
import { Notices, useNotices } from './Notices.js';
import { ParticipantList } from './ParticipantList.js';
import { VideoGrid } from './VideoGrid.js';

export function InMeeting({ room }: { room: Room }) {
  useEvent(room, 'changed');
  const [peopleOpen, setPeopleOpen] = useState(false);
  const [notices, notify, dismiss] = useNotices(room);
  const participants = room.participants();
  const status = room.state === 'reconnecting' ? 'Reconnecting…' : room.state === 'joining' ? 'Joining…' : null;

  return (
    <div class="meeting">
      <header class="topbar">
        <h1 class="brand small">Stube</h1>
        <span class="count">
          {participants.length} {participants.length === 1 ? 'person' : 'people'}
        </span>
        <span class="status" role="status">
          {status}
        </span>
        <E2eeStatus room={room} />
        <ConnectionPath room={room} />
      </header>
      <div class="stage">
        <main class="tiles-area" aria-label="Meeting">
          <VideoGrid room={room} participants={participants} />
        </main>
        {peopleOpen && <ParticipantList room={room} participants={participants} onClose={() => setPeopleOpen(false)} />}
        <ChatPanel room={room} />
      </div>
      <ModeratorPanel room={room} />
      <Controls room={room} peopleOpen={peopleOpen} togglePeople={() => setPeopleOpen((o) => !o)} notify={notify} />
      <Notices notices={notices} dismiss={dismiss} />
    </div>
  );
}
