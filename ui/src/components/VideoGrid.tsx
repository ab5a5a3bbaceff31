// Tiles laid out so they are as large as the stage allows (see gridLayout.ts); CSS variables carry the
// result, set through the CSSOM so the strict Content-Security-Policy is satisfied.
import { useEffect, useRef, useState } from 'preact/hooks';
import { bestGrid } from '../meeting/gridLayout.js';
import type { Room, RoomParticipant } from '../meeting/Room.js';
import { VideoTile } from './VideoTile.js';

export function VideoGrid({ room, participants }: { room: Room; participants: RoomParticipant[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!el || size.width === 0) return;
    const grid = bestGrid(participants.length, size.width, size.height);
    el.style.setProperty('--cols', String(grid.cols));
    el.style.setProperty('--tile-w', `${grid.tileWidth}px`);
    el.style.setProperty('--tile-h', `${grid.tileHeight}px`);
  }, [participants.length, size.width, size.height]);

  return (
    <div ref={ref} class="grid" role="list" aria-label="Video tiles">
      {participants.map((p) => (
        <div role="listitem" class="cell" key={p.info.id}>
          <VideoTile room={room} participant={p} />
        </div>
      ))}
    </div>
  );
}
