// The admin panel's updates section: running version, last check, what is offered, downloaded or waiting
// for a restart, what happened at the last update (including a fall-back to the old version), and the
// host's choices: check now, update now, channel and schedule. Talks only to /api/update on this box.
import { useEffect, useState } from 'preact/hooks';
import type { UpdateView } from '../../../appliance/update/agent.js';
import type { UpdateSettings } from '../../../appliance/update/settings.js';

const POLL_MS = 5000;

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

async function call(method: string, path: string, body?: unknown): Promise<UpdateView> {
  const res = await fetch(`/api/update${path}`, {
    method,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  if (!res.ok) {
    const problem = (await res.json().catch(() => null)) as { error?: unknown } | null;
    throw new Error(typeof problem?.error === 'string' ? problem.error : `the box answered ${res.status}`);
  }
  return (await res.json()) as UpdateView;
}

function ScheduleForm({ settings, onSave }: { settings: UpdateSettings; onSave: (s: UpdateSettings) => Promise<void> }) {
  const [kind, setKind] = useState(settings.channel.kind);
  const [url, setUrl] = useState(settings.channel.kind === 'https' ? settings.channel.url : '');
  const [path, setPath] = useState(settings.channel.kind === 'file' ? settings.channel.path : '/var/lib/stube/channel');
  const [every, setEvery] = useState(settings.checkEveryHours);
  const [start, setStart] = useState(settings.window.start);
  const [hours, setHours] = useState(settings.window.hours);
  const [automatic, setAutomatic] = useState(settings.automatic);
  const channel: UpdateSettings['channel'] = kind === 'https' ? { kind, url } : kind === 'file' ? { kind, path } : kind === 'usb' ? { kind } : { kind: 'none' };
  return (
    <form
      class="update-schedule"
      onSubmit={(e) => {
        e.preventDefault();
        void onSave({ channel, checkEveryHours: every, window: { start, hours }, automatic });
      }}
    >
      <label>
        Updates come from{' '}
        <select value={kind} onChange={(e) => setKind((e.currentTarget.value as UpdateSettings['channel']['kind']))}>
          <option value="https">an update server (HTTPS)</option>
          <option value="usb">a USB stick (folder “stube-updates”)</option>
          <option value="file">a folder on the box</option>
          <option value="none">nowhere (no updates)</option>
        </select>
      </label>
      {kind === 'https' && (
        <label>
          Server address <input type="url" required value={url} maxLength={512} onInput={(e) => setUrl(e.currentTarget.value)} />
        </label>
      )}
      {kind === 'usb' && (
        <p class="note">
          Copy the update folder (latest.json and the bundle it names) onto any USB stick as “stube-updates” and plug it in.
          The box reads it only while it looks for and copies an update, and never changes it.
        </p>
      )}
      {kind === 'file' && (
        <label>
          Folder <input type="text" required value={path} maxLength={256} onInput={(e) => setPath(e.currentTarget.value)} />
        </label>
      )}
      <label>
        Look for updates every <input type="number" min={1} max={720} value={every} onInput={(e) => setEvery(Number(e.currentTarget.value))} /> hours
      </label>
      <label>
        Restart for updates between <input type="time" value={start} onInput={(e) => setStart(e.currentTarget.value)} /> and the next{' '}
        <input type="number" min={1} max={24} value={hours} onInput={(e) => setHours(Number(e.currentTarget.value))} /> hours (UTC)
      </label>
      <label>
        <input type="checkbox" checked={automatic} onChange={(e) => setAutomatic(e.currentTarget.checked)} /> Install updates by themselves
      </label>
      <button type="submit">Save</button>
    </form>
  );
}

/** Mount in the admin panel; it polls the box while shown. */
export function UpdatePanel() {
  const [view, setView] = useState<UpdateView | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (p: Promise<UpdateView>): Promise<void> => {
    try {
      setView(await p);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  useEffect(() => {
    void run(call('GET', ''));
    const timer = setInterval(() => void run(call('GET', '')), POLL_MS);
    return () => clearInterval(timer);
  }, []);

  if (!view) return <section class="update-panel">{error ? <p class="problem" role="alert">{error}</p> : <p>Loading…</p>}</section>;
  const busy = view.phase === 'checking' || view.phase === 'downloading' || view.phase === 'installing' || view.phase === 'rebooting';
  return (
    <section class="update-panel" aria-labelledby="update-title">
      <h2 id="update-title">Updates</h2>
      <p>
        Running version <strong>{view.currentVersion}</strong>. Last check: {when(view.lastCheck)}.
      </p>
      {view.lastResult && (
        <p class={view.lastResult.kind === 'rolled-back' ? 'problem' : 'note'} role={view.lastResult.kind === 'rolled-back' ? 'alert' : undefined}>
          {view.lastResult.message}
        </p>
      )}
      {view.offered && !view.pending && <p>Version {view.offered.version} is available ({mib(view.offered.size)}).</p>}
      {view.download && view.phase === 'downloading' && <p aria-live="polite">Downloading: {mib(view.download.bytes)} of {mib(view.download.total)}</p>}
      {view.phase === 'installing' && <p aria-live="polite">Checking the signature and installing…</p>}
      {view.pending && (
        <p>
          Version {view.pending.version} is installed and starts with the next restart
          {view.pending.waitingFor === 'window' ? ', in the maintenance window' : view.pending.waitingFor === 'meetings' ? ', as soon as no meeting is running' : ' now'}.
        </p>
      )}
      {view.error && <p class="problem" role="alert">The last update step failed: {view.error.message}</p>}
      {error && <p class="problem" role="alert">{error}</p>}
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void run(call('POST', '/check'))}>Check now</button>
        <button type="button" class="primary" disabled={busy} onClick={() => void run(call('POST', '/install'))}>Update now</button>
      </div>
      <ScheduleForm settings={view.settings} onSave={(s) => run(call('PUT', '/settings', s))} />
    </section>
  );
}
