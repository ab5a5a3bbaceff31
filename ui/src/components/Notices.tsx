// Short messages for the user (errors from the service, "Link copied", "Reconnected"), announced to
// screen readers and dismissed after a while or by hand.
import { useEffect, useState } from 'preact/hooks';
import type { Notice, Room } from '../meeting/Room.js';

interface Shown extends Notice {
  id: number;
}

let nextId = 1;

export function useNotices(room: Room): [Shown[], (n: Notice) => void, (id: number) => void] {
  const [notices, setNotices] = useState<Shown[]>([]);
  const dismiss = (id: number): void => setNotices((list) => list.filter((n) => n.id !== id));
  const add = (n: Notice): void => {
    const id = nextId++;
    setNotices((list) => [...list.slice(-3), { ...n, id }]);
    setTimeout(() => dismiss(id), n.kind === 'error' ? 10_000 : 4_000);
  };
  useEffect(() => room.on('notice', add), [room]);
  return [notices, add, dismiss];
}

export function Notices({ notices, dismiss }: { notices: Shown[]; dismiss: (id: number) => void }) {
  return (
    <div class="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} class={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" class="plain" onClick={() => dismiss(n.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
