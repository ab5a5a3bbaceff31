// A moderator's controls in the meeting: who is knocking (admit or deny one at a time, or all), mute
// everyone, lock the meeting, end it for everyone. The service checks the role for each action.
import { useEvent } from '../app/hooks.js';
import type { Room } from '../meeting/Room.js';

export function ModeratorPanel({ room }: { room: Room }) {
  useEvent(room, 'lobby');
  useEvent(room, 'changed');
  if (!room.isModerator) return null;
  const knockers = room.knockers;
  return (
    <section class="moderator-panel" aria-label="Moderator controls">
      <div class="row">
        <button type="button" class="small" data-testid="mute-all" onClick={() => room.moderate('muteAll')}>
          Mute everyone
        </button>
        <button type="button" class="small" data-testid="lock" onClick={() => room.moderate(room.locked ? 'unlock' : 'lock')}>
          {room.locked ? 'Unlock meeting' : 'Lock meeting'}
        </button>
        <button
          type="button"
          class="danger small"
          data-testid="end-meeting"
          onClick={() => {
            if (confirm('End the meeting for everyone?')) room.moderate('end');
          }}
        >
          End for everyone
        </button>
      </div>
      {knockers.length > 0 && (
        <div class="knockers" role="region" aria-label="Waiting to join">
          <h2>Waiting to join ({knockers.length})</h2>
          <ul>
            {knockers.map((k) => (
              <li key={k.id} data-testid="knocker">
                <span class="who">{k.name}</span>
                <button type="button" class="primary small" data-testid="admit" onClick={() => room.moderate('admit', k.id)}>
                  Admit
                </button>
                <button type="button" class="small" data-testid="deny" onClick={() => room.moderate('deny', k.id)}>
                  Deny
                </button>
              </li>
            ))}
          </ul>
          {knockers.length > 1 && (
            <button type="button" class="small" onClick={() => room.moderate('admitAll')}>
              Admit all
            </button>
          )}
        </div>
      )}
    </section>
  );
}

/** Per-participant moderator buttons, for the participant list. */
export function ParticipantActions({ room, id, name }: { room: Room; id: string; name: string }) {
  return (
    <span class="mod-actions">
      <button type="button" class="small" aria-label={`Mute ${name}`} onClick={() => room.moderate('mute', id)}>
        Mute
      </button>
      <button type="button" class="small" aria-label={`Stop ${name}'s video`} onClick={() => room.moderate('stopVideo', id)}>
        Stop video
      </button>
      <button type="button" class="small" aria-label={`Make ${name} moderator`} onClick={() => room.moderate('promote', id)}>
        Make moderator
      </button>
      <button type="button" class="danger small" aria-label={`Remove and block ${name}`} onClick={() => room.moderate('remove', id, true)}>
        Remove and block
      </button>
    </span>
  );
}
