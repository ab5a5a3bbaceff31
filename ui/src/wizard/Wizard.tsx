// The setup wizard: one step at a time, each a form. Keyboard: every control is a native form element,
// Enter submits, focus moves to the new step's heading. Screen readers: labelled controls, the step's
// heading announces where one is, errors and results are in live regions.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { call, setToken, ApiError, authHeaders } from './api.js';
import { measure, type Measurement } from './measure.js';
import { isKey, pickLang, translate, type Key, type Lang } from './i18n.js';
import { InstallStep, rememberCode } from './InstallStep.js';

const STEPS = ['code', 'install', 'hardware', 'line', 'network', 'domain', 'certificate', 'admin', 'done'] as const;
type Step = (typeof STEPS)[number];

interface Forward { protocol: string; externalFrom: number; externalTo: number; internalFrom: number; purpose: 'https' | 'acme' | 'media' | 'turn' }
interface RouterReport { protocol: string | null; externalIp: string | null; wan: 'public' | 'cgnat' | 'private' | 'noPublic' | 'unknown'; mapped: boolean; missing: Forward[] }
interface Finding { item: string; level: 'green' | 'amber' | 'red'; reason: string; values: Record<string, string | number> }
interface Capacity { video: { participants: number; limitedBy: string }; audioOnly: { participants: number; limitedBy: string }; meetingSize: number; lineUnknown: boolean }

type T = (key: Key, values?: Record<string, string | number>) => string;

export function Wizard() {
  const [lang, setLang] = useState<Lang>(() => pickLang(navigator.languages ?? [navigator.language]));
  const [step, setStep] = useState<Step>('code');
  const t: T = (k, v) => translate(lang, k, v);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t('title');
  }, [lang]);
  useEffect(() => heading.current?.focus(), [step]);
  const next = (): void => setStep(STEPS[Math.min(STEPS.indexOf(step) + 1, STEPS.length - 1)] ?? 'done');
  const n = STEPS.indexOf(step) + 1;

  return (
    <main class="wizard">
      <header class="wizard-head">
        <p class="brand">Stube</p>
        <label>
          {t('lang.label')}{' '}
          <select value={lang} onChange={(e) => setLang((e.currentTarget.value as Lang) ?? 'en')}>
            <option value="en">English</option>
            <option value="de">Deutsch</option>
          </select>
        </label>
      </header>
      <h1>{t('title')}</h1>
      <p class="wizard-progress">{t('progress', { n, total: STEPS.length })}</p>
      <section aria-labelledby="step-title" data-step={step}>
        <h2 id="step-title" ref={heading} tabIndex={-1}>
          {t(`step.${step}` as Key)}
        </h2>
        {step === 'install' ? <InstallStep t={t} next={next} lang={lang} setLang={setLang} /> : <StepView step={step} t={t} next={next} />}
      </section>
    </main>
  );
}

function useAction(t: T): [boolean, string, (fn: () => Promise<void>, errors?: Record<string, (e: ApiError) => string>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = async (fn: () => Promise<void>, errors: Record<string, (e: ApiError) => string> = {}): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      await fn();
    } catch (err) {
      if (err instanceof ApiError) setError(errors[err.code]?.(err) ?? t('error.generic', { message: err.message }));
      else setError(t('error.generic', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, run];
}

function Status(props: { busy: boolean; error: string; t: T }) {
  return (
    <>
      <p role="status" aria-live="polite" class="wizard-busy">
        {props.busy ? props.t('busy') : ''}
      </p>
      {props.error && (
        <p role="alert" class="problem">
          {props.error}
        </p>
      )}
    </>
  );
}

function StepView(props: { step: Exclude<Step, 'install'>; t: T; next: () => void }): JSX.Element {
  switch (props.step) {
    case 'code':
      return <CodeStep {...props} />;
    case 'hardware':
      return <HardwareStep {...props} />;
    case 'line':
      return <LineStep {...props} />;
    case 'network':
      return <NetworkStep {...props} />;
    case 'domain':
      return <DomainStep {...props} />;
    case 'certificate':
      return <CertificateStep {...props} />;
    case 'admin':
      return <AdminStep {...props} />;
    case 'done':
      return <DoneStep {...props} />;
  }
}

type StepProps = { t: T; next: () => void };

/** The name chosen in the domain step, for the certificate step's text. */
let chosenName = '';

function CodeStep({ t, next }: StepProps) {
  const [code, setCode] = useState('');
  const [busy, error, run] = useAction(t);
  const submit = (e: Event): void => {
    e.preventDefault();
    void run(
      async () => {
        const r = await call<{ token: string }>('/session', { code });
        setToken(r.token);
        rememberCode(code);
        next();
      },
      { wrongCode: () => t('code.wrong'), rateLimited: (e) => t('code.limited', { s: Number(e.body.retryAfterS ?? 60) }), notLocal: () => t('code.notLocal') },
    );
  };
  return (
    <form onSubmit={submit}>
      <p>{t('code.intro')}</p>
      <label for="setup-code">{t('code.label')}</label>
      <input id="setup-code" type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} maxLength={32} required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      <button type="submit" class="primary" disabled={busy}>
        {t('next')}
      </button>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}

function HardwareStep({ t, next }: StepProps) {
  const [hw, setHw] = useState<{ overall: 'green' | 'amber' | 'red'; findings: Finding[] } | null>(null);
  const [busy, error, run] = useAction(t);
  useEffect(() => void run(async () => setHw(await call('/hardware'))), []);
  return (
    <div>
      <p>{t('hw.intro')}</p>
      {hw && (
        <>
          <p class={`level-${hw.overall}`} data-overall={hw.overall}>
            {t(`hw.overall.${hw.overall}` as Key)}
          </p>
          <ul class="findings">
            {hw.findings.map((f) => (
              <li key={f.item} class={`level-${f.level}`}>
                <span class="sr-only">{t(`hw.level.${f.level}` as Key)}: </span>
                {isKey(`hw.${f.reason}`) ? t(`hw.${f.reason}` as Key, f.values) : f.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      <button type="button" class="primary" disabled={!hw} onClick={next}>
        {t('next')}
      </button>
      <Status busy={busy} error={error} t={t} />
    </div>
  );
}

function LineStep({ t, next }: StepProps) {
  const [up, setUp] = useState('');
  const [down, setDown] = useState('');
  const [size, setSize] = useState('10');
  const [result, setResult] = useState<{ capacity: Capacity; inputs: { cores: number; aes: boolean; memoryMiB: number } } | null>(null);
  const [lan, setLan] = useState<Measurement | null>(null);
  const [busy, error, run] = useAction(t);
  const num = (s: string): number | null => (s.trim() === '' ? null : Number(s.replace(',', '.')));
  const submit = (e: Event): void => {
    e.preventDefault();
    void run(async () => setResult(await call('/line', { uploadMbps: num(up), downloadMbps: num(down), meetingSize: Number(size) })));
  };
  return (
    <form onSubmit={submit}>
      <p>{t('line.intro')}</p>
      <button type="button" disabled={busy} onClick={() => void run(async () => setLan(await measure('/setup/api/bandwidth', authHeaders())))}>
        {t('lan.measure')}
      </button>
      <p aria-live="polite" class="lan-result">
        {lan ? t('lan.result', { down: lan.downMbps, up: lan.upMbps, ms: lan.latencyMs }) : ''}
      </p>
      <label for="line-up">{t('line.upload')}</label>
      <input id="line-up" type="number" min="0.1" step="any" inputMode="decimal" value={up} onInput={(e) => setUp(e.currentTarget.value)} />
      <label for="line-down">{t('line.download')}</label>
      <input id="line-down" type="number" min="0.1" step="any" inputMode="decimal" value={down} onInput={(e) => setDown(e.currentTarget.value)} />
      <label for="line-size">{t('line.meetingSize')}</label>
      <input id="line-size" type="number" min="2" max="100" step="1" required value={size} onInput={(e) => setSize(e.currentTarget.value)} />
      <button type="submit" disabled={busy}>
        {t('next')}
      </button>
      <div aria-live="polite">
        {result && (
          <div class="estimate" data-video={result.capacity.video.participants}>
            <p>{t('line.estimate', { video: result.capacity.video.participants, size: result.capacity.meetingSize, audio: result.capacity.audioOnly.participants })}</p>
            <p>{t(`line.limit.${result.capacity.video.limitedBy}` as Key)}</p>
            {result.capacity.lineUnknown && <p>{t('line.lineUnknown')}</p>}
            <p class="muted">{t('line.inputs', { cores: result.inputs.cores, aes: t(result.inputs.aes ? 'yes' : 'no'), mem: result.inputs.memoryMiB })}</p>
            <button type="button" class="primary" onClick={next}>
              {t('next')}
            </button>
          </div>
        )}
      </div>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}

export function forwardLines(t: T, forwards: Forward[], box: string): string[] {
  return forwards.map((f) =>
    t('net.forward', {
      protocol: f.protocol,
      ports: f.externalFrom === f.externalTo ? String(f.externalFrom) : `${f.externalFrom}–${f.externalTo}`,
      box,
      internal: f.externalFrom === f.externalTo ? String(f.internalFrom) : `${f.internalFrom}–${f.internalFrom + f.externalTo - f.externalFrom}`,
      purpose: t(`purpose.${f.purpose}` as Key),
    }),
  );
}

function NetworkStep({ t, next }: StepProps) {
  const [auto, setAuto] = useState(true);
  const [r, setR] = useState<{ router: RouterReport; forwards: Forward[] } | null>(null);
  const [busy, error, run] = useAction(t);
  const submit = (e: Event): void => {
    e.preventDefault();
    void run(async () => setR(await call('/network', { mapPorts: auto })));
  };
  const box = location.hostname;
  const wanText = (rep: RouterReport): string => {
    switch (rep.wan) {
      case 'public':
        return t('net.public', { ip: rep.externalIp ?? '' });
      case 'cgnat':
        return t('net.cgnat', { ip: rep.externalIp ?? '' });
      case 'private':
        return t('net.private', { ip: rep.externalIp ?? '' });
      case 'noPublic':
        return t('net.noPublic');
      case 'unknown':
        return t('net.unknown');
    }
  };
  return (
    <form onSubmit={submit}>
      <p>{t('net.intro')}</p>
      <label class="check">
        <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} /> {t('net.auto')}
      </label>
      <button type="submit" disabled={busy}>
        {t('net.check')}
      </button>
      <div aria-live="polite">
        {r && (
          <div class="router" data-wan={r.router.wan} data-mapped={String(r.router.mapped)}>
            <p>{wanText(r.router)}</p>
            {r.router.mapped ? (
              <p>{t('net.mapped')}</p>
            ) : (
              <>
                {r.router.wan !== 'unknown' && <p>{t('net.manual', { box })}</p>}
                <ul class="forwards">
                  {forwardLines(t, r.router.missing, box).map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              </>
            )}
            <button type="button" class="primary" onClick={next}>
              {t('next')}
            </button>
          </div>
        )}
      </div>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}

function DomainStep({ t, next }: StepProps) {
  const [kind, setKind] = useState<'own' | 'desec'>('own');
  const [name, setName] = useState('');
  const [token, setTokenValue] = useState('');
  const [state, setState] = useState<{ record: { name: string; value: string }; resolves: boolean } | null>(null);
  const [busy, error, run] = useAction(t);
  useEffect(() => {
    if (!state || state.resolves) return;
    // Poll while the host creates the record; DNS changes take a while to spread.
    const id = setInterval(() => {
      call<{ resolves: boolean }>('/domain/check').then((c) => c.resolves && setState({ ...state, resolves: true }), () => undefined);
    }, 3000);
    return () => clearInterval(id);
  }, [state]);
  const submit = (e: Event): void => {
    e.preventDefault();
    chosenName = name.trim().toLowerCase();
    void run(async () => setState(await call('/domain', kind === 'own' ? { kind, name: name.trim().toLowerCase() } : { kind, name: name.trim().toLowerCase(), token: token.trim() })));
  };
  return (
    <form onSubmit={submit}>
      <p>{t('domain.intro')}</p>
      <fieldset>
        <legend>{t('domain.kind')}</legend>
        <label class="check">
          <input type="radio" name="kind" value="own" checked={kind === 'own'} onChange={() => setKind('own')} /> {t('domain.own')}
        </label>
        <label class="check">
          <input type="radio" name="kind" value="desec" checked={kind === 'desec'} onChange={() => setKind('desec')} /> {t('domain.desec')}
        </label>
      </fieldset>
      <label for="domain-name">{t('domain.name')}</label>
      <input id="domain-name" type="text" autocomplete="off" spellcheck={false} maxLength={253} required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      {kind === 'desec' && (
        <>
          <label for="domain-token">{t('domain.token')}</label>
          <input id="domain-token" type="password" autocomplete="off" maxLength={128} required value={token} onInput={(e) => setTokenValue(e.currentTarget.value)} />
        </>
      )}
      <button type="submit" disabled={busy}>
        {t('next')}
      </button>
      <div aria-live="polite">
        {state && (
          <div class="dns" data-resolves={String(state.resolves)}>
            {kind === 'own' && <p>{t('domain.record', { name: state.record.name, value: state.record.value })}</p>}
            <p>{state.resolves ? t('domain.ok') : t('domain.waiting')}</p>
            <button type="button" class="primary" disabled={!state.resolves} onClick={next}>
              {t('next')}
            </button>
          </div>
        )}
      </div>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}

function CertificateStep({ t, next }: StepProps) {
  const [email, setEmail] = useState('');
  const [result, setResult] = useState<{ notAfter: string; name: string } | null>(null);
  const [busy, error, run] = useAction(t);
  const submit = (e: Event): void => {
    e.preventDefault();
    void run(async () => setResult(await call('/certificate', { email: email.trim() === '' ? null : email.trim() })), {
      dnsNotReady: () => t('cert.dnsNotReady'),
      'acme.challenge': (e) => t('cert.failed', { message: e.message }),
    });
  };
  return (
    <form onSubmit={submit}>
      <p>{t('cert.intro', { name: chosenName })}</p>
      <label for="cert-email">{t('cert.email')}</label>
      <input id="cert-email" type="email" autocomplete="email" maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      <button type="submit" disabled={busy || result !== null}>
        {t('cert.get')}
      </button>
      <div aria-live="polite">
        {result && (
          <div class="cert-ok">
            <p>{t('cert.ok', { date: new Date(result.notAfter).toLocaleDateString() })}</p>
            <button type="button" class="primary" onClick={next}>
              {t('next')}
            </button>
          </div>
        )}
      </div>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}

function AdminStep({ t, next }: StepProps) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [boxName, setBoxName] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, error, run] = useAction(t);
  const submit = (e: Event): void => {
    e.preventDefault();
    setProblems([]);
    void run(
      async () => {
        await call('/admin', { name: name.trim(), password, boxName: boxName.trim() });
        next();
      },
      {
        weakPassword: (err) => {
          setProblems((err.body.problems as string[]) ?? []);
          return t('admin.weak');
        },
      },
    );
  };
  return (
    <form onSubmit={submit}>
      <p>{t('admin.intro')}</p>
      <label for="admin-box">{t('admin.boxName')}</label>
      <input id="admin-box" type="text" maxLength={64} required value={boxName} onInput={(e) => setBoxName(e.currentTarget.value)} />
      <label for="admin-name">{t('admin.name')}</label>
      <input id="admin-name" type="text" autocomplete="username" maxLength={64} required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <label for="admin-password">{t('admin.password')}</label>
      <input id="admin-password" type="password" autocomplete="new-password" maxLength={256} required aria-describedby="pw-problems" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <ul id="pw-problems">
        {problems.map((p) => (
          <li key={p}>{isKey(`pw.${p}`) ? t(`pw.${p}` as Key) : p}</li>
        ))}
      </ul>
      <fieldset class="privacy">
        <legend>{t('privacy.title')}</legend>
        <p>{t('privacy.noLog')}</p>
        <p>{t('privacy.noRecording')}</p>
      </fieldset>
      <button type="submit" class="primary" disabled={busy}>
        {t('next')}
      </button>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}

function DoneStep({ t }: StepProps) {
  const [url, setUrl] = useState('');
  const [busy, error, run] = useAction(t);
  const submit = (e: Event): void => {
    e.preventDefault();
    void run(async () => setUrl((await call<{ url: string }>('/done', { confirm: true })).url), { incomplete: () => t('done.incomplete') });
  };
  return (
    <form onSubmit={submit}>
      <p>{t('done.intro')}</p>
      <button type="submit" class="primary" disabled={busy || url !== ''}>
        {t('done.finish')}
      </button>
      <div aria-live="polite">
        {url && (
          <p class="done-ok">
            {t('done.ok')} <a href={url}>{url}</a>
          </p>
        )}
      </div>
      <Status busy={busy} error={error} t={t} />
    </form>
  );
}
