// What a guest sees in the waiting room. Names are rendered as text by Preact (never as HTML).
import { useEvent } from '../app/hooks.js';
import type { Room } from '../meeting/Room.js';

export function WaitingRoom({ room }: { room: Room }) {
  useEvent(room, 'lobby');
  const moderatorPresent = room.waiting?.moderatorPresent ?? false;
  return (
    <main class="ended waiting" data-testid="waiting-room">
      <h1>Waiting to be let in</h1>
      <p role="status">
        {moderatorPresent
          ? 'Waiting for the moderator to let you in.'
          : 'No moderator is here yet. You will be let in when one arrives.'}
      </p>
      <div class="row">
        <button type="button" onClick={() => room.leave()}>
          Leave
        </button>
      </div>
    </main>
  );
}
