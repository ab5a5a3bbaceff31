// The outside check, opened on another network: is the box reachable from the internet over HTTPS, the
// signalling WebSocket and UDP, and how fast is the real path? Each result names the cause and the fix.
import { useEffect, useState } from 'preact/hooks';
import { pickLang, translate, type Key, type Lang } from './i18n.js';
import { measure } from './measure.js';

type Result = 'running' | 'pass' | 'fail' | 'warn';
interface Check { id: string; title: Key; result: Result; detail: string }

function webSocketOpens(timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://${location.host}/ws`);
    const done = (v: boolean): void => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = null;
      ws.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    ws.onopen = () => done(true);
    ws.onerror = () => done(false);
  });
}

/** A STUN binding request to the box's port 3478 (coturn): a reflexive candidate means UDP got through. */
async function udpReflexive(timeoutMs: number): Promise<string | null> {
  const pc = new RTCPeerConnection({ iceServers: [{ urls: `stun:${location.hostname}:3478` }] });
  try {
    pc.createDataChannel('check');
    const found = new Promise<string | null>((resolve) => {
      setTimeout(() => resolve(null), timeoutMs);
      pc.onicecandidate = (e) => {
        if (e.candidate?.type === 'srflx') resolve(e.candidate.address ?? '');
        if (!e.candidate) resolve(null);
      };
    });
    await pc.setLocalDescription(await pc.createOffer());
    return await found;
  } finally {
    pc.close();
  }
}

export function OutsideCheck() {
  const [lang, setLang] = useState<Lang>(() => pickLang(navigator.languages ?? [navigator.language]));
  const t = (k: Key, v?: Record<string, string | number>): string => translate(lang, k, v);
  const [checks, setChecks] = useState<Check[]>([]);
  const [running, setRunning] = useState(false);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t('outside.title');
  }, [lang]);

  const run = async (): Promise<void> => {
    setRunning(true);
    const list: Check[] = [];
    const put = (c: Check): void => {
      const i = list.findIndex((x) => x.id === c.id);
      if (i >= 0) list[i] = c;
      else list.push(c);
      setChecks([...list]);
    };
    const https = location.protocol === 'https:';
    put({ id: 'https', title: 'outside.https', result: https ? 'pass' : 'fail', detail: https ? '' : t('outside.httpsFail') });
    put({ id: 'ws', title: 'outside.ws', result: 'running', detail: '' });
    const ws = await webSocketOpens(8000);
    put({ id: 'ws', title: 'outside.ws', result: ws ? 'pass' : 'fail', detail: ws ? '' : t('outside.wsFail') });
    put({ id: 'speed', title: 'outside.title', result: 'running', detail: '' });
    try {
      const m = await measure('/check/api');
      put({ id: 'speed', title: 'outside.title', result: 'pass', detail: [t('outside.latency', { ms: m.latencyMs }), t('outside.down', { mbps: m.downMbps }), t('outside.up', { mbps: m.upMbps })].join(' · ') });
    } catch (err) {
      put({ id: 'speed', title: 'outside.title', result: 'fail', detail: t('outside.transferFail', { message: err instanceof Error ? err.message : String(err) }) });
    }
    put({ id: 'udp', title: 'outside.udp', result: 'running', detail: '' });
    const ip = await udpReflexive(5000).catch(() => null);
    put({ id: 'udp', title: 'outside.udp', result: ip !== null ? 'pass' : 'warn', detail: ip !== null ? t('outside.udpOk', { ip }) : t('outside.udpFail') });
    setRunning(false);
  };

  return (
    <main class="wizard">
      <header class="wizard-head">
        <p class="brand">Stube</p>
        <label>
          {t('lang.label')}{' '}
          <select value={lang} onChange={(e) => setLang(e.currentTarget.value as Lang)}>
            <option value="en">English</option>
            <option value="de">Deutsch</option>
          </select>
        </label>
      </header>
      <h1>{t('outside.title')}</h1>
      <p>{t('outside.intro')}</p>
      <button type="button" class="primary" disabled={running} onClick={() => void run()}>
        {t('outside.start')}
      </button>
      <ul class="checks" aria-live="polite">
        {checks.map((c) => (
          <li key={c.id} data-check={c.id} data-result={c.result} class={`level-${c.result === 'pass' ? 'green' : c.result === 'fail' ? 'red' : 'amber'}`}>
            <strong>{t(c.title)}</strong>: {t(`outside.result.${c.result}` as Key)}
            {c.detail && <p>{c.detail}</p>}
          </li>
        ))}
      </ul>
      {checks.length > 0 && !running && <p>{t('outside.hint')}</p>}
    </main>
  );
}
