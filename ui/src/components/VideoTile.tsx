import { useEffect, useRef } from 'preact/hooks';
import { useEvent } from '../app/hooks.js';
import type { Room, RoomParticipant } from '../meeting/Room.js';
import { Icon } from './Icon.js';
import { MediaView } from './MediaView.js';

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0]!, parts[parts.length - 1]!] : parts;
  return letters.map((p) => [...p][0]?.toUpperCase() ?? '').join('') || '?';
}

export function VideoTile({ room, participant }: { room: Room; participant: RoomParticipant }) {
  const { info, isSelf, talking, stream, showsVideo } = participant;
  const ref = useRef<HTMLElement>(null);

  // Tell the service how big this tile is, so it can send the simulcast layer that fits.
  useEffect(() => {
    const el = ref.current;
    if (!el || isSelf) return;
    const id = info.id;
    const report = (): void => {
      const r = el.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      room.setTile(id, r.width * dpr, r.height * dpr);
    };
    report();
    const observer = new ResizeObserver(report);
    observer.observe(el);
    return () => {
      observer.disconnect();
      room.removeTile(id);
    };
  }, [room, info.id, isSelf]);

  const e2ee = room.e2ee;
  if (e2ee) useEvent(e2ee, 'changed');
  const cantDecrypt = !isSelf && e2ee !== null && (e2ee.undecryptable().includes(info.id) || e2ee.rejected().includes(info.id));
  const classes = ['tile'];
  if (talking) classes.push('talking');
  if (!showsVideo) classes.push('no-video');
  return (
    <figure ref={ref} class={classes.join(' ')} data-participant-id={info.id} data-talking={talking ? 'true' : undefined}>
      <MediaView stream={stream} muted={isSelf} mirrored={isSelf} label={`Video of ${info.name}`} />
      {!showsVideo && (
        <div class="avatar" aria-hidden="true">
          {initials(info.name)}
        </div>
      )}
      {cantDecrypt && (
        <div class="cant-decrypt" data-e2ee="undecryptable">
          Can't decrypt
        </div>
      )}
      <figcaption>
        <span data-name>{info.name}</span>
        {isSelf && <span class="you"> (you)</span>}
        {info.audioMuted && (
          <span class="muted-mark" title="Microphone off">
            <Icon name="micOff" />
            <span class="sr-only">, microphone off</span>
          </span>
        )}
      </figcaption>
    </figure>
  );
}
