import type { Room, RoomParticipant } from '../meeting/Room.js';
import { ParticipantActions } from '../moderation/ModeratorPanel.js';
import { Icon } from './Icon.js';

export function ParticipantList({ room, participants, onClose }: {
  room: Room;
  participants: RoomParticipant[];
  onClose: () => void;
}) {
  return (
    <aside
      class="people"
      id="participant-list"
      aria-labelledby="people-title"
      onKeyDown={(ev) => {
        if (ev.key === 'Escape') onClose();
      }}
    >
      <div class="people-head">
        <h2 id="people-title">Participants ({participants.length})</h2>
        <button type="button" class="plain" onClick={onClose} aria-label="Close the participant list">
          ×
        </button>
      </div>
      <ul>
        {participants.map(({ info, isSelf, talking }) => (
          <li key={info.id} class={talking ? 'talking' : undefined}>
            <span class="who">
              {info.name}
              {isSelf && ' (you)'}
              {info.role === 'moderator' && <span class="badge">Moderator</span>}
            </span>
            <span class="state">
              <Icon name={info.audioMuted ? 'micOff' : 'mic'} />
              <span class="sr-only">{info.audioMuted ? 'microphone off' : 'microphone on'}</span>
              <Icon name={info.videoMuted ? 'cameraOff' : 'camera'} />
              <span class="sr-only">{info.videoMuted ? ', camera off' : ', camera on'}</span>
            </span>
            {room.isModerator && !isSelf && <ParticipantActions room={room} id={info.id} name={info.name} />}
            {room.isModerator && !isSelf && (
              <button type="button" class="danger small" aria-label={`Remove ${info.name}`} onClick={() => room.kick(info.id)}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
