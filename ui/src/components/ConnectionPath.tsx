// A quiet indicator of the path our media takes: nothing to do for the user, but it explains a slow
// meeting ("through the box's relay over TLS") and the setup wizard's outside check can read the same value.
import { useEffect, useState } from 'preact/hooks';
import type { Room } from '../meeting/Room.js';
import type { ConnectionPath as Path } from '../meeting/stats.js';

const LABELS: Record<Path, string | null> = {
  'direct-udp': 'Direct',
  'direct-tcp': 'Direct (TCP)',
  'turn-udp': 'Relayed (UDP)',
  'turn-tcp': 'Relayed (TCP)',
  'turn-tls': 'Relayed (TLS)',
  unknown: null,
};

export function ConnectionPath({ room }: { room: Room }) {
  const [path, setPath] = useState<Path>('unknown');
  useEffect(() => {
    let stopped = false;
    const poll = (): void => {
      room.connectionPath().then(
        (p) => {
          if (!stopped) setPath(p);
        },
        (err: unknown) => console.warn('reading the connection path failed', err),
      );
    };
    poll();
    const timer = setInterval(poll, 3000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [room]);
  const label = LABELS[path];
  if (!label) return null;
  return (
    <span class="path" data-path={path} title="How your audio and video reach the box">
      {label}
    </span>
  );
}
