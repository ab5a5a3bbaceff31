import type { Notice, Room } from '../meeting/Room.js';
import { Icon } from './Icon.js';
import { shareableLink } from '../moderation/shareLink.js';

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (err) {
    // No clipboard API (or no permission): fall back to a selected text field and the copy command.
    console.warn('clipboard API unavailable, using the fallback', err);
    const field = document.createElement('textarea');
    field.value = text;
    field.setAttribute('readonly', '');
    field.className = 'offscreen';
    document.body.append(field);
    field.select();
    const ok = document.execCommand('copy');
    field.remove();
    return ok;
  }
}

export function Controls({ room, peopleOpen, togglePeople, notify }: {
  room: Room;
  peopleOpen: boolean;
  togglePeople: () => void;
  notify: (n: Notice) => void;
}) {
  const local = room.local;
  const micOff = local.micMuted || !local.audio;
  const camOff = local.cameraOff || !local.video;

  async function copyInvite(): Promise<void> {
    const link = shareableLink(location.href, room.isModerator);
    const ok = await copyText(link);
    notify(ok ? { kind: 'info', text: 'Invite link copied.' } : { kind: 'error', text: `Copy this link: ${link}` });
  }

  return (
    <nav class="controls" aria-label="Meeting controls">
      <button type="button" class={micOff ? 'round off' : 'round'} aria-pressed={micOff} onClick={() => room.toggleMic()} disabled={!local.audio}>
        <Icon name={micOff ? 'micOff' : 'mic'} />
        <span class="label">{micOff ? 'Unmute' : 'Mute'}</span>
      </button>
      <button type="button" class={camOff ? 'round off' : 'round'} aria-pressed={camOff} onClick={() => void room.toggleCamera()}>
        <Icon name={camOff ? 'cameraOff' : 'camera'} />
        <span class="label">{camOff ? 'Start camera' : 'Stop camera'}</span>
      </button>
      <button type="button" class="round" aria-expanded={peopleOpen} aria-controls="participant-list" onClick={togglePeople}>
        <Icon name="people" />
        <span class="label">Participants</span>
      </button>
      <button type="button" class="round" onClick={() => void copyInvite()}>
        <Icon name="link" />
        <span class="label">Copy invite link</span>
      </button>
      <button type="button" class="round leave" onClick={() => room.leave()}>
        <Icon name="leave" />
        <span class="label">Leave</span>
      </button>
    </nav>
  );
}
