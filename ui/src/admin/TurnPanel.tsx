// The admin panel's TURN section: a new TURN secret on request (after a suspected leak, or as routine),
// with a plain word on what it does to people. Talks only to /api/turn on this box.
import { useEffect, useState } from 'preact/hooks';
import { call } from './api.js';

interface TurnView {
  enabled: boolean;
  credentialSeconds: number | null;
}

function hours(seconds: number): string {
  const h = seconds / 3600;
  return h === 1 ? '1 hour' : `${Number.isInteger(h) ? h : h.toFixed(1)} hours`;
}

export function TurnPanel() {
  const [view, setView] = useState<TurnView | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    call<TurnView>('GET', '/turn').then(setView, () => setView({ enabled: false, credentialSeconds: null }));
  }, []);
  if (!view) return null;
  const rotate = async (): Promise<void> => {
    setBusy(true);
    setMessage(null);
    try {
      await call('POST', '/turn/rotate');
      setMessage({ ok: true, text: 'Done: the relay now has a new secret.' });
    } catch (err) {
      setMessage({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="turn-title">
      <h2 id="turn-title">Relay (TURN)</h2>
      {view.enabled ? (
        <>
          <p>
            People on strict networks (hotel or company Wi-Fi) reach the box through its relay. Each person gets
            their own relay login when they join, valid for {hours(view.credentialSeconds ?? 0)}. The logins are
            made from one secret that never leaves the box.
          </p>
          <p>
            Making a new secret ends every relay login handed out so far. People who are not using the relay notice
            nothing. People in a meeting who are using it lose their connection for a moment while the relay
            restarts and reconnect with a new login. Do this if you think the secret got out.
          </p>
          <button type="button" disabled={busy} onClick={() => void rotate()}>
            {busy ? 'Making a new secret…' : 'Make a new relay secret'}
          </button>
          {message && (
            <p class={message.ok ? 'done' : 'problem'} role={message.ok ? 'status' : 'alert'}>
              {message.text}
            </p>
          )}
        </>
      ) : (
        <p>This box runs no relay.</p>
      )}
    </section>
  );
}
