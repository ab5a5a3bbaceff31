// The honest part of the meeting UI: a lock that says the meeting is end-to-end encrypted, the safety
// code people can read aloud, and a warning when someone in the meeting holds another secret.
import { useEvent } from '../app/hooks.js';
import type { Room } from '../meeting/Room.js';

export function E2eeStatus({ room }: { room: Room }) {
  const e2ee = room.e2ee;
  if (!e2ee) return null;
  useEvent(e2ee, 'changed');
  const names = new Map(room.participants().map((p) => [p.info.id, p.info.name] as const));
  const rejected = e2ee.rejected().filter((id) => names.has(id));
  const undecryptable = e2ee.undecryptable().filter((id) => names.has(id));
  const everyoneElse = room.participants().filter((p) => !p.isSelf).length;
  return (
    <div class="e2ee-status">
      <span class="lock" title="Only the people in this meeting can see and hear it; the box cannot.">
        🔒 End-to-end encrypted
      </span>
      <span class="safety">
        Safety code: <output aria-label="Safety code">{e2ee.safetyCode}</output>
      </span>
      {(rejected.length > 0 || (everyoneElse > 0 && undecryptable.length === everyoneElse)) && (
        <p class="problem" role="alert" data-e2ee-problem>
          {rejected.length > 0
            ? `Can't decrypt: ${rejected.map((id) => names.get(id)).join(', ')} joined with a different meeting secret. You cannot see or hear each other; check that everyone uses the same full link.`
            : "Can't decrypt the others' media: your link's secret seems to differ from theirs."}
        </p>
      )}
    </div>
  );
}
