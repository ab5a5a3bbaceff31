// The wizard's install step: "Install Stube on this disk?" Each internal disk with a plain data warning,
// a checkbox that names the disk as the explicit confirmation, refused disks with the reason; then a
// progress bar, the reboot, and — when the box is back from its own disk — "remove the USB stick".
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, setToken, ApiError } from './api.js';
import type { Key, Lang } from './i18n.js';
import { dataWarning, diskLabel, progressView, refusalText, retryChoice, startRequest, viewOf, type InstallAnswer, type Progress } from './install-flow.js';

type T = (key: Key, values?: Record<string, string | number>) => string;

/** The code typed in the first step (memory only): after the install reboot it opens a new session. */
let setupCode = '';
export function rememberCode(code: string): void {
  setupCode = code;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readAnswer(): Promise<InstallAnswer | null> {
  try {
    return await call<InstallAnswer>('/install');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export function InstallStep({ t, next, lang, setLang }: { t: T; next: () => void; lang: Lang; setLang: (l: Lang) => void }) {
  const [answer, setAnswer] = useState<InstallAnswer | null | undefined>(undefined);
  const [chosen, setChosen] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [phase, setPhase] = useState<'choose' | 'running' | 'rebooting' | 'removeStick' | 'failed'>('choose');
  const [error, setError] = useState('');
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  const apply = (a: InstallAnswer | null): void => {
    setAnswer(a);
    const v = viewOf(a);
    if (v === 'skip') next();
    else if (v === 'removeStick') {
      if (a?.language) setLang(a.language);
      setPhase('removeStick');
    } else if (v === 'running') void follow();
    else setChosen((c) => c || (a?.candidates.find((d) => d.refused === null)?.path ?? ''));
  };
  useEffect(() => {
    readAnswer().then(apply, (err: unknown) => setError(t('error.generic', { message: err instanceof Error ? err.message : String(err) })));
  }, []);

  /** Polls the progress until done or failed; then reboots and waits for the box to come back. */
  const follow = async (): Promise<void> => {
    setPhase('running');
    for (;;) {
      await sleep(1000);
      if (!alive.current) return;
      const p = (await call<{ progress: Progress | null }>('/install/progress').catch(() => ({ progress: null }))).progress;
      if (!p) continue;
      setProgress(p);
      if (p.phase === 'failed') return setPhase('failed');
      if (p.phase === 'done') break;
    }
    setPhase('rebooting');
    await call('/install/reboot', {}).catch(() => undefined);
    // The box goes away, then comes back from its own disk with the same code: open a new session.
    await sleep(10_000);
    for (;;) {
      if (!alive.current) return;
      try {
        const r = await call<{ token: string }>('/session', { code: setupCode });
        setToken(r.token);
        const a = await readAnswer();
        if (a?.installed) {
          apply(a);
          return;
        }
      } catch {
        // still restarting
      }
      await sleep(3000);
    }
  };

  const start = (e: Event): void => {
    e.preventDefault();
    const c = answer?.candidates.find((d) => d.path === chosen);
    const body = startRequest(c, confirmed, lang);
    if (!body) return;
    setError('');
    call('/install', body).then(
      () => void follow(),
      (err: unknown) => setError(t('error.generic', { message: err instanceof Error ? err.message : String(err) })),
    );
  };

  /** After a failure: back to the choice in this page and session (no reload, no code). */
  const retry = (): void => {
    const failedDisk = progress?.disk ?? '';
    readAnswer().then(
      (a) => {
        setProgress(null);
        setConfirmed(false);
        setError('');
        setChosen(retryChoice(a, failedDisk));
        setPhase('choose');
        apply(a);
      },
      (err: unknown) => setError(t('error.generic', { message: err instanceof Error ? err.message : String(err) })),
    );
  };

  const bar = progress ? progressView(t, progress) : null;
  if (phase === 'removeStick') {
    return (
      <div>
        <p role="status" class="level-green" data-install="installed">
          {t('install.removeStick')}
        </p>
        <button type="button" class="primary" onClick={next}>
          {t('next')}
        </button>
      </div>
    );
  }
  if (phase !== 'choose') {
    return (
      <div data-install={phase}>
        {bar && (
          <>
            <label for="install-bar">{bar.phase}</label>
            <progress id="install-bar" value={bar.value} max={bar.max} />
            <p aria-live="polite">
              {bar.written} {bar.left ?? ''}
            </p>
          </>
        )}
        {phase === 'rebooting' && <p role="status">{t('install.rebooting')}</p>}
        {phase === 'failed' && progress?.failure && (
          <>
            <p role="alert" class="problem" data-failure={progress.failure}>
              {t(`install.failed.${progress.failure}` as Key)} {t('install.stillStick')}
            </p>
            <button type="button" class="primary" data-action="retry" onClick={retry}>
              {t('install.again')}
            </button>
            <button type="button" onClick={next}>
              {t('install.skip')}
            </button>
            {error && (
              <p role="alert" class="problem">
                {error}
              </p>
            )}
          </>
        )}
      </div>
    );
  }
  if (!answer) return <p role="status">{error || t('busy')}</p>;
  const offered = answer.candidates.filter((c) => c.refused === null);
  const picked = answer.candidates.find((c) => c.path === chosen);
  return (
    <form onSubmit={start}>
      <p>{t('install.intro')}</p>
      {answer.candidates.length === 0 && <p>{t('install.none')}</p>}
      {answer.candidates.length > 0 && (
        <fieldset>
          <legend>{t('install.question')}</legend>
          {answer.candidates.map((c) => {
            const warn = dataWarning(t, c);
            const refused = refusalText(t, c, answer.minBytes);
            return (
              <div key={c.path} class="install-disk" data-disk={c.name} data-refused={c.refused ?? ''}>
                <label class="check">
                  <input type="radio" name="install-disk" value={c.path} disabled={c.refused !== null} checked={chosen === c.path} onChange={() => { setChosen(c.path); setConfirmed(false); }} />
                  {diskLabel(t, c)}
                </label>
                {refused && <p class="level-red">{refused}</p>}
                {warn && c.refused === null && (
                  <p class="level-amber" data-warning="data">
                    {warn}
                  </p>
                )}
              </div>
            );
          })}
        </fieldset>
      )}
      {picked && picked.refused === null && (
        <label class="check">
          <input id="install-confirm" type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} />
          {t('install.confirm', { name: picked.confirmation })}
        </label>
      )}
      {offered.length > 0 && (
        <button type="submit" class="primary" disabled={!startRequest(picked, confirmed, lang)}>
          {t('install.start')}
        </button>
      )}
      <button type="button" onClick={next}>
        {t('install.skip')}
      </button>
      {error && (
        <p role="alert" class="problem">
          {error}
        </p>
      )}
    </form>
  );
}
