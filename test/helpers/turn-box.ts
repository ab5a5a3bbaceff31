// The service as the box runs it, for TURN tests: HTTPS through the TLS front (self-signed certificate),
// Janus and a managed coturn in one "box" network namespace. The namespace also gets an IPv6 address
// (for IPv6 relay tests) and a second interface standing for the box's LAN address, which Janus does not
// use and coturn must not relay to. Everything is removed by stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import puppeteer, { type Browser } from 'puppeteer-core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../appliance/config/settings.js';
import { createLogger } from '../../appliance/log.js';
import { startService, type RunningService } from '../../appliance/service.js';
import { CHROMIUM_PATH, FIREFOX_PATH, FIREFOX_PREFS } from './browsers.js';
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

/**
 * A test certificate authority made for one test, and the box's certificate issued by it for `name` (the
 * name the browser uses) and `ip`. Browsers that check the TURN server's certificate on `turns:` (Firefox) get the
 * CA in their own profile (trustCaInFirefoxProfile), never in the system's store.
 */
export function testCaAndCert(dir: string, name: string, ip: string): { caFile: string; certFile: string; keyFile: string } {
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const csr = join(dir, 'cert.csr');
  const ext = join(dir, 'cert.ext');
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Stube test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', caKey, '-out', caFile);
  run('req', '-new', ...ec, '-subj', '/CN=stube-test', '-keyout', keyFile, '-out', csr);
  writeFileSync(ext, `subjectAltName=DNS:${name},IP:${ip}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  run('x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', certFile);
  return { caFile, certFile, keyFile };
}

/**
 * Makes `profile` a Firefox profile that trusts `caFile` for servers: a fresh NSS database with an empty
 * password, then the CA added to it. certutil asks for a password on a terminal unless told otherwise,
 * so stdin is /dev/null and every call has a timeout (a prompt would otherwise hang the test).
 */
export function trustCaInFirefoxProfile(profile: string, caFile: string): void {
  const certutil = (...args: string[]): void => {
    execFileSync('certutil', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  };
  certutil('-N', '--empty-password', '-d', `sql:${profile}`);
  certutil('-A', '-n', 'Stube test CA', '-t', 'C,,', '-i', caFile, '-d', `sql:${profile}`);
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

/** open: everything; no-direct: nothing to the media server's own link and no TCP to 3478 (TURN over UDP
 *  works, and TLS on 443); no-udp: no
 *  UDP at all; tcp-443-only: only TCP to port 443. */
export type HostileNetwork = 'open' | 'no-direct' | 'no-udp' | 'tcp-443-only';

export interface HostileBox {
  service: RunningService;
  /** The service's base URL as the browser's namespace sees it (port 443), by name. */
  url: string;
  /** The same by address (Chromium only: Firefox ignores turns: servers given by address). */
  urlByAddress: string;
  box: TestNetns;
  /** The browser's namespace: reaches the service (HTTPS and TURN) through the host, Janus directly. */
  browserNs: TestNetns;
  logLines: string[];
  /** Replaces the browser namespace's firewall (see HostileNetwork). */
  setNetwork(kind: HostileNetwork): void;
  /** An executable that starts Chromium inside the browser's namespace (use with pipe: true). */
  chromiumInNs: string;
  /** The service's certificate, issued for the front's address by a CA made for this test. */
  certFile: string;
  /** That test CA (give it to Firefox with launchFirefoxInNs's caFile). */
  caFile: string;
  stop(): Promise<void>;
}

/**
 * A hostile-network setup:
 *   browser ns ──veth── host: the service's TLS front on <host>:443 and coturn on <host>:3478
 *   browser ns ──veth── box ns: Janus (the direct path, when UDP is allowed)
 *   host ──veth── box ns: coturn relays to Janus (the only allowed peer)
 * The host does not forward between namespaces, so media either goes straight to Janus over the
 * browser–box link or through coturn.
 */
/** The box's name in the hostile-network setup (resolved only inside the browser's namespace). */
export const HOSTILE_BOX_NAME = 'box.stube.test';

export async function startHostileBox(): Promise<HostileBox> {
  const box = createNetns('hb');
  const browserNs = createNetns('hw');
  const cleanup: (() => void)[] = [() => browserNs.destroy(), () => box.destroy()];
  const dirs: string[] = [];
  const undo = (): void => {
    for (const f of cleanup) {
      try {
        f();
      } catch (err) {
        console.warn(`cleanup: ${String(err)}`);
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    const sub = box.nsIp.split('.')[2] ?? '0';
    const boxIf = `vb${sub}x${process.pid % 1000}`.slice(0, 15);
    const brIf = `vw${sub}x${process.pid % 1000}`.slice(0, 15);
    const run = (...args: string[]): void => {
      execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    };
    const directNet = `10.233.${sub}.0/24`;
    run('link', 'add', boxIf, 'type', 'veth', 'peer', 'name', brIf);
    run('link', 'set', boxIf, 'netns', box.name);
    run('link', 'set', brIf, 'netns', browserNs.name);
    run('netns', 'exec', box.name, 'ip', 'addr', 'add', `10.233.${sub}.1/24`, 'dev', boxIf);
    run('netns', 'exec', box.name, 'ip', 'link', 'set', boxIf, 'up');
    run('netns', 'exec', browserNs.name, 'ip', 'addr', 'add', `10.233.${sub}.2/24`, 'dev', brIf);
    run('netns', 'exec', browserNs.name, 'ip', 'link', 'set', brIf, 'up');

    const dataDir = mkdtempSync(join(tmpdir(), 'stube-hostile-'));
    const janusDir = mkdtempSync('/tmp/stj-');
    const turnDir = mkdtempSync('/tmp/stt-');
    dirs.push(dataDir, janusDir, turnDir);
    const front = browserNs.hostIp;
    // The browsers reach the box by name, as people do once the setup wizard has given it one: Firefox
    // ignores turns: servers given by address (TURN over TLS needs a name to check the certificate
    // against). `ip netns exec` puts /etc/netns/<ns>/hosts over /etc/hosts for the browsers only.
    const hostsDir = join('/etc/netns', browserNs.name);
    mkdirSync(hostsDir, { recursive: true });
    cleanup.push(() => rmSync(hostsDir, { recursive: true, force: true }));
    writeFileSync(join(hostsDir, 'hosts'), `127.0.0.1 localhost\n${front} ${HOSTILE_BOX_NAME}\n`);
    // No name server: a lookup outside the hosts file fails at once instead of waiting for the host's.
    writeFileSync(join(hostsDir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    const { caFile, certFile, keyFile } = testCaAndCert(dataDir, HOSTILE_BOX_NAME, front);
    const base = 30000 + Math.floor(Math.random() * 300) * 100;
    const settings = loadSettings(
      ['--https', `${front}:443`, '--tls-cert', certFile, '--tls-key', keyFile, '--data', dataDir, '--janus-dir', janusDir,
        '--rtp-ports', `${base}-${base + 49}`],
      {
        STUBE_JANUS_WRAPPER: box.exec.join(' '),
        STUBE_ICE_ENFORCE: `${box.nsIf},${boxIf}`,
        STUBE_EVENT_LOOPS: '2',
        STUBE_TURN: 'managed',
        STUBE_TURN_HOST: front,
        STUBE_TURN_LISTEN: front,
        STUBE_TURN_DIR: turnDir,
        STUBE_TURN_RELAY_PORTS: `${base + 50}-${base + 99}`,
        STUBE_TURN_PEERS: box.nsIp,
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
    const service = await startService(settings, log);
    const script = join(dataDir, 'chromium-in-ns');
    writeFileSync(script, `#!/bin/sh\nexec ip netns exec ${browserNs.name} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
    const nft = (text: string): void => {
      execFileSync('ip', ['netns', 'exec', browserNs.name, 'nft', '-f', '-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
    };
    let stopped = false;
    return {
      service,
      url: `https://${HOSTILE_BOX_NAME}`,
      urlByAddress: `https://${front}`,
      box,
      browserNs,
      logLines,
      chromiumInNs: script,
      certFile,
      caFile,
      setNetwork(kind) {
        // Like a strict company firewall: the outbound rule decides, and nothing comes in that was not
        // an answer (otherwise the media server's own connectivity checks would open a UDP path).
        const out = {
          open: '',
          // TCP to 3478 too: otherwise a browser may settle on TURN over TCP, and this network is for
          // measuring TURN over UDP.
          'no-direct': `ip daddr ${directNet} drop\n  tcp dport 3478 drop`,
          'no-udp': 'oif != "lo" meta l4proto udp drop',
          'tcp-443-only': 'oif "lo" accept\n  tcp dport 443 accept\n  drop',
        }[kind];
        const input = kind === 'open' ? '' : 'iif "lo" accept\n  ct state established,related accept\n  drop';
        nft(
          'flush ruleset\ntable inet hostile {\n' +
            ` chain out {\n  type filter hook output priority filter; policy accept;\n  ${out}\n }\n` +
            ` chain in {\n  type filter hook input priority filter; policy accept;\n  ${input}\n }\n}\n`,
        );
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await service.stop();
        } finally {
          undo();
        }
      },
    };
  } catch (err) {
    undo();
    throw err;
  }
}

/**
 * Firefox ESR inside a network namespace. puppeteer speaks WebDriver BiDi to Firefox only over a
 * WebSocket on Firefox's loopback, which is the namespace's own; so Firefox is started by hand in the
 * namespace and the host reaches its BiDi port through a small forwarder (one `ip netns exec` helper per
 * connection, piping bytes). The namespace's firewall allows its loopback, so the hostile rules do not
 * touch this channel.
 */
const nsFirefoxes = new Set<() => Promise<void>>();

/** Closes every Firefox launchFirefoxInNs started and did not close yet (for afterAll after a timeout). */
export async function closeNsFirefoxes(): Promise<void> {
  await Promise.all([...nsFirefoxes].map((close) => close()));
}

export async function launchFirefoxInNs(ns: TestNetns, opts: { caFile?: string } = {}): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'stube-firefox-ns-'));
  try {
    if (opts.caFile) trustCaInFirefoxProfile(profile, opts.caFile);
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  // trr.mode 5: names only from the system resolver (here the namespace's hosts file), never over HTTPS.
  const prefs = { ...FIREFOX_PREFS, 'remote.allowHosts': 'localhost,127.0.0.1', 'network.proxy.type': 0, 'network.trr.mode': 5 };
  writeFileSync(join(profile, 'user.js'), Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  // The same port number on both sides: Firefox checks the Host header, port included.
  let bidiPort = 0;
  let child: ChildProcess | null = null;
  let stderr = '';
  const helpers = new Set<ChildProcess>();
  const forwarder = createNetServer((sock) => {
    const h = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e',
      `const s=require('net').connect(${bidiPort},'127.0.0.1');process.stdin.pipe(s);s.pipe(process.stdout);s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));`],
    { stdio: ['pipe', 'pipe', 'ignore'] });
    helpers.add(h);
    h.once('exit', () => {
      helpers.delete(h);
      sock.destroy();
    });
    sock.pipe(h.stdin!);
    h.stdout!.pipe(sock);
    sock.on('error', () => h.kill());
    sock.on('close', () => h.kill());
  });
  const close = async (): Promise<void> => {
    nsFirefoxes.delete(close);
    forwarder.close();
    for (const h of helpers) h.kill();
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
    rmSync(profile, { recursive: true, force: true });
  };
  nsFirefoxes.add(close);
  try {
    await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', () => resolve()));
    const port = (forwarder.address() as { port: number }).port;
    bidiPort = port;
    const ff = spawn('ip', ['netns', 'exec', ns.name, FIREFOX_PATH, '--headless', '--no-remote', '--profile', profile,
      `--remote-debugging-port=${bidiPort}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = ff;
    ff.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const until = Date.now() + 60_000;
    while (!/WebDriver BiDi listening/.test(stderr)) {
      if (ff.exitCode !== null) throw new Error(`Firefox exited: ${stderr.slice(-500)}`);
      if (Date.now() > until) throw new Error(`Firefox did not open its BiDi port: ${stderr.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const browser = await puppeteer.connect({
      browserWSEndpoint: `ws://127.0.0.1:${port}/session`,
      protocol: 'webDriverBiDi',
      // With the test CA in the profile the box's certificate must be trusted for real (the page and,
      // what matters, TURN over TLS); without it the page's certificate is accepted as before.
      acceptInsecureCerts: !opts.caFile,
      protocolTimeout: 60_000,
    });
    return {
      browser,
      async close() {
        await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
