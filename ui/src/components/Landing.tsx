import { useState } from 'preact/hooks';
import { formatFragment } from '../app/fragment.js';
import { navigate } from '../app/navigation.js';
import { newMeetingSecret } from '../e2ee/secretKeys.js';
import { meetingPathFor } from '../app/routes.js';
import { MEETING_ID_PATTERN, type CreateMeetingResponse } from '../meeting/protocolImports.js';

export function Landing() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function start(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch('/api/meetings', { method: 'POST', credentials: 'same-origin' });
      if (res.status === 401) throw new Error('only members can start meetings here; sign in at /admin first');
      if (res.status !== 201) throw new Error(`the box answered ${res.status}`);
      const body = (await res.json()) as Partial<CreateMeetingResponse>;
      if (typeof body.id !== 'string' || !new RegExp(MEETING_ID_PATTERN).test(body.id)) {
        throw new Error('the box sent an invalid meeting ID');
      }
      // The meeting secret is made here, in the browser, and travels only in the link's fragment.
      navigate(meetingPathFor(body.id) + formatFragment({ secret: newMeetingSecret() }));
    } catch (err) {
      console.error('creating a meeting failed', err);
      setError(`Could not start a meeting: ${err instanceof Error ? err.message : String(err)}. Try again.`);
      setBusy(false);
    }
  }

  return (
    <main class="landing">
      <h1 class="brand">Stube</h1>
      <p class="lead">Video meetings that stay between the people in them.</p>
      <button type="button" class="primary big" onClick={() => void start()} disabled={busy}>
        Start a meeting
      </button>
      {busy && <p aria-live="polite">Starting…</p>}
      {error && (
        <p class="problem" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}
