// The service as the box runs it, for TURN tests: HTTPS through the TLS front (self-signed certificate),
// Janus and a managed coturn in one "box" network namespace. The namespace also gets an IPv6 address
// (for IPv6 relay tests) and a second interface standing for the box's LAN address, which Janus does not
// use and coturn must not relay to. Everything is removed by stop().
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../appliance/config/settings.js';
import { createLogger } from '../../appliance/log.js';
import { startService, type RunningService } from '../../appliance/service.js';
import { createNetns, type TestNetns } from './netns.js';

export interface TurnBox extends RunningService {
  netns: TestNetns;
  /** The box's IPv6 address (on the same veth as nsIp). */
  nsIp6: string;
  /** An address of the box that is not the media server's. */
  lanIp: string;
  frontPort: number;
  turnPort: number;
  logLines: string[];
  dataDir: string;
  secretFile: string;
  stop(): Promise<void>;
}

/** A self-signed certificate and key in `dir`. */
export function selfSignedCert(dir: string, ip: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=stube-test', '-addext', `subjectAltName=IP:${ip}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { certFile, keyFile };
}

export async function startTurnBox(opts: { frontHost?: string; frontPort?: number; extraEnv?: Record<string, string> } = {}): Promise<TurnBox> {
  const netns = createNetns('tu');
  const dataDir = mkdtempSync(join(tmpdir(), 'stube-turn-data-'));
  const janusDir = mkdtempSync('/tmp/stj-');
  const turnDir = mkdtempSync('/tmp/stt-');
  const sub = netns.nsIp.split('.')[2] ?? '0';
  const nsIp6 = `fd00:231:${sub}::2`;
  const lanIp = `10.232.${sub}.2`;
  const inNs = (...args: string[]): void => {
    execFileSync('ip', ['netns', 'exec', netns.name, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    inNs('ip', '-6', 'addr', 'add', `${nsIp6}/64`, 'dev', netns.nsIf, 'nodad');
    execFileSync('ip', ['-6', 'addr', 'add', `fd00:231:${sub}::1/64`, 'dev', netns.hostIf, 'nodad'], { stdio: 'ignore' });
    // A veth pair with both ends in the box (no dummy interfaces on every kernel).
    inNs('ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1');
    inNs('ip', 'addr', 'add', `${lanIp}/24`, 'dev', 'lan0');
    inNs('ip', 'link', 'set', 'lan0', 'up');
  } catch (err) {
    netns.destroy();
    throw err;
  }
  const { certFile, keyFile } = selfSignedCert(dataDir, opts.frontHost ?? '127.0.0.1');
  const base = 30000 + Math.floor(Math.random() * 300) * 100;
  const turnPort = 3478;
  const settings = loadSettings(
    ['--https', `${opts.frontHost ?? '127.0.0.1'}:${opts.frontPort ?? 0}`, '--tls-cert', certFile, '--tls-key', keyFile, '--data', dataDir,
      '--janus-dir', janusDir, '--rtp-ports', `${base}-${base + 49}`],
    {
      STUBE_JANUS_WRAPPER: netns.exec.join(' '),
      STUBE_ICE_ENFORCE: netns.nsIf,
      STUBE_EVENT_LOOPS: '2',
      STUBE_TURN: 'managed',
      STUBE_TURN_WRAPPER: netns.exec.join(' '),
      STUBE_TURN_HOST: netns.nsIp,
      STUBE_TURN_PORT: String(turnPort),
      STUBE_TURN_DIR: turnDir,
      STUBE_TURN_RELAY_PORTS: `${base + 50}-${base + 99}`,
      // Janus's addresses: only the veth (ICE is enforced there), not the LAN interface.
      STUBE_TURN_PEERS: `${netns.nsIp},${nsIp6}`,
      ...opts.extraEnv,
    },
  );
  const logLines: string[] = [];
  const log = createLogger({
    level: 'info',
    write: (line) => {
      logLines.push(line);
      if (process.env.STUBE_TEST_ECHO) process.stderr.write(`${line}\n`);
    },
  });
  let service: RunningService;
  try {
    service = await startService(settings, log);
  } catch (err) {
    netns.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...service,
    netns,
    nsIp6,
    lanIp,
    frontPort: Number(new URL(service.url).port),
    turnPort,
    logLines,
    dataDir,
    secretFile: settings.turn.secretFile,
    async stop() {
      try {
        await service.stop();
      } finally {
        netns.destroy();
        for (const d of [dataDir, janusDir, turnDir]) rmSync(d, { recursive: true, force: true });
      }
    },
  };
}
