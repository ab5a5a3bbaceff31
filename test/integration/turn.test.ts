// TURN against real components: coturn (managed by the service, in the box's namespace), coturn's own
// client turnutils_uclient (a TURN client nobody here wrote) with credentials the service minted, the
// TLS front sharing one port between HTTPS, the WebSocket and TURN over TLS, and the logs afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintCredential, newPseudonym, type TurnCredential } from '../../appliance/turn/credentials.js';
import { PROTOCOL_VERSION, type ServerMessage } from '../../appliance/meeting/protocol.js';
import { startTurnBox, type TurnBox } from '../helpers/turn-box.js';
import { waitFor } from '../helpers/service.js';

let box: TurnBox;
let echo: ChildProcess;
const ECHO_PORT = 3480;
const usernames = new Set<string>();

beforeAll(async () => {
  box = await startTurnBox();
  // A UDP echo peer at the media server's address stands in for Janus's media port.
  echo = spawn('ip', ['netns', 'exec', box.netns.name, 'turnutils_peer', '-L', box.netns.nsIp, '-L', box.nsIp6, '-p', String(ECHO_PORT)], { stdio: 'ignore' });
}, 90_000);

afterAll(async () => {
  echo?.kill();
  await box?.stop();
});

function minted(): TurnCredential {
  const servers = box.turn?.iceServersFor(box.netns.nsIp) ?? [];
  const s = servers[0];
  if (!s?.username || !s.credential) throw new Error('the service handed out no TURN credential');
  usernames.add(s.username.split(':')[1] ?? '');
  return { username: s.username, credential: s.credential, expiresAt: Number(s.username.split(':')[0]) };
}

interface UclientResult {
  out: string;
  allocated: boolean;
  received: number;
  forbidden: boolean;
}

/** Runs turnutils_uclient from the host against `server:port` and sums up its output. */
function uclient(cred: TurnCredential, peer: string, opts: { ipv6Relay?: boolean; tls?: boolean; tcp?: boolean; port?: number; server?: string } = {}): Promise<UclientResult> {
  const args = ['-c', '-n', '5', '-m', '1', '-u', cred.username, '-w', cred.credential, '-e', peer, '-r', String(ECHO_PORT),
    '-p', String(opts.port ?? box.turnPort)];
  if (opts.ipv6Relay) args.push('-x');
  if (opts.tls) args.push('-t', '-S');
  if (opts.tcp) args.push('-t');
  args.push(opts.server ?? box.netns.nsIp);
  return new Promise((resolve) => {
    execFile('turnutils_uclient', args, { timeout: 20_000 }, (_err, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      const recv = [...out.matchAll(/tot_recv_msgs=(\d+)/g)].map((m) => Number(m[1]));
      resolve({
        out,
        allocated: !/Cannot complete Allocation|error 401|error 4\d\d \(Unauthorized/.test(out),
        received: Math.max(0, ...recv),
        forbidden: /403 \(Forbidden IP\)/.test(out),
      });
    });
  });
}

describe('coturn with credentials minted by the service', () => {
  it('allocates and relays to the media server (turnutils_uclient, UDP)', async () => {
    const r = await uclient(minted(), box.netns.nsIp);
    expect(r.allocated, r.out).toBe(true);
    expect(r.received, r.out).toBe(5);
  }, 30_000);

  it('allocates over TCP as well', async () => {
    const r = await uclient(minted(), box.netns.nsIp, { tcp: true });
    expect(r.received, r.out).toBe(5);
  }, 30_000);

  it('refuses expired credentials and credentials made with another secret', async () => {
    const secret = readFileSync(box.secretFile, 'utf8').trim();
    const expired = mintCredential(secret, newPseudonym(), 60, Date.now() - 10 * 60_000);
    const wrong = mintCredential(randomBytes(32).toString('hex'), newPseudonym(), 600, Date.now());
    for (const cred of [expired, wrong]) {
      const r = await uclient(cred, box.netns.nsIp);
      expect(r.allocated, r.out).toBe(false);
      expect(r.received).toBe(0);
    }
  }, 60_000);

  it('refuses to relay anywhere but the media server', async () => {
    const v4 = ['127.0.0.1', '10.0.0.1', '192.168.1.1', '169.254.169.254', box.lanIp];
    const v6 = ['::1', '::ffff:127.0.0.1', `::ffff:${box.lanIp}`, `::ffff:${box.netns.nsIp}`];
    const results = await Promise.all([
      // One credential each, as each participant has its own (the per-user quota would refuse more).
      ...v4.map(async (peer) => [peer, await uclient(minted(), peer)] as const),
      ...v6.map(async (peer) => [peer, await uclient(minted(), peer, { ipv6Relay: true })] as const),
    ]);
    for (const [peer, r] of results) {
      expect(r.allocated, `${peer}: ${r.out}`).toBe(true);
      expect(r.forbidden, `${peer}: ${r.out}`).toBe(true);
      expect(r.received, peer).toBe(0);
    }
    // The media server's IPv6 address is allowed (the deny list is not simply "all IPv6").
    const ok6 = await uclient(minted(), box.nsIp6, { ipv6Relay: true });
    expect(ok6.received, ok6.out).toBe(5);
  }, 60_000);
});

describe('one TLS port for HTTPS, the WebSocket and TURN over TLS', () => {
  const front = (): { host: string; port: number } => ({ host: '127.0.0.1', port: box.frontPort });

  async function https(path: string): Promise<number> {
    const res = await new Promise<number>((resolve, reject) => {
      const s = tlsConnect({ ...front(), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
        s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
      s.on('error', reject);
    });
    return res;
  }

  /** A STUN Binding request over TLS with ALPN stun.turn; resolves with the response's message type. */
  function stunOverTls(alpn: string[] | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ ...front(), rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) }, () => {
        const req = Buffer.alloc(20);
        req.writeUInt16BE(0x0001, 0);
        req.writeUInt32BE(0x2112a442, 4);
        randomBytes(12).copy(req, 8);
        s.write(req);
      });
      s.once('data', (d: Buffer) => {
        resolve(d.readUInt16BE(0));
        s.destroy();
      });
      s.on('error', reject);
      s.setTimeout(10_000, () => reject(new Error('no STUN answer')));
    });
  }

  it('serves pages, the WebSocket and TURN over TLS at the same time, and drops garbage harmlessly', async () => {
    // The WebSocket: join a meeting and get ICE servers that point only at the host we used.
    const created = await fetchJson();
    const ws = new WebSocket(`wss://127.0.0.1:${box.frontPort}/ws`, { rejectUnauthorized: false });
    const welcome = new Promise<Extract<ServerMessage, { type: 'welcome' }>>((resolve, reject) => {
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as ServerMessage;
        if (m.type === 'welcome') resolve(m);
      });
      ws.on('error', reject);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: created, name: 'Ada' }));

    // Garbage at the same time: plain bytes instead of a handshake, and TLS followed by nonsense.
    const garbage = await Promise.all([rawGarbage(), tlsGarbage()]);
    expect(garbage).toEqual(['closed', 'closed']);

    const [page, health, viaAlpn, sniffed, w, turnTls] = await Promise.all([
      https('/'),
      https('/healthz'),
      stunOverTls(['stun.turn']),
      stunOverTls(undefined),
      welcome,
      uclient(minted(), box.netns.nsIp, { tls: true, port: box.frontPort, server: '127.0.0.1' }),
    ]);
    expect([page, health]).toEqual([expect.any(Number), 200]);
    expect([200, 503]).toContain(page);
    expect(viaAlpn).toBe(0x0101); // Binding success response
    expect(sniffed).toBe(0x0101);
    // Relayed data over TURN/TLS arrives (a first packet may be lost while the permission is set up).
    expect(turnTls.received, turnTls.out).toBeGreaterThan(0);
    const urls = w.iceServers.flatMap((s) => s.urls);
    expect(urls).toEqual([
      `turn:127.0.0.1:${box.turnPort}?transport=udp`,
      `turn:127.0.0.1:${box.turnPort}?transport=tcp`,
      `turns:127.0.0.1:${box.frontPort}?transport=tcp`,
    ]);
    usernames.add(w.iceServers[0]?.username?.split(':')[1] ?? '');
    // No TLS 1.0 or 1.1 on the front.
    await expect(oldTls()).rejects.toThrow();
    // The WebSocket survived all of it.
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  }, 60_000);

  async function fetchJson(): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ ...front(), rejectUnauthorized: false }, () => {
        s.write(`POST /api/meetings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('utf8')));
      s.on('end', () => {
        const id = /"id":"([^"]+)"/.exec(text)?.[1];
        if (id) resolve(id);
        else reject(new Error(`no meeting created: ${text.slice(0, 200)}`));
      });
      s.on('error', reject);
    });
  }

  function oldTls(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ ...front(), rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
  }

  function rawGarbage(): Promise<string> {
    return new Promise((resolve) => {
      const s = netConnect(front(), () => s.write(Buffer.concat([Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), randomBytes(2000)])));
      s.on('error', () => undefined);
      s.on('close', () => resolve('closed'));
      s.setTimeout(15_000, () => resolve('still open'));
    });
  }

  function tlsGarbage(): Promise<string> {
    return new Promise((resolve) => {
      const s = tlsConnect({ ...front(), rejectUnauthorized: false }, () => s.write(Buffer.from('\xff\xfe nonsense that is neither HTTP nor STUN', 'latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve('closed'));
      s.setTimeout(15_000, () => resolve('still open'));
    });
  }
});

/** A request to the service's API through the TLS front, as the admin panel makes it (same origin). */
function apiRequest(method: string, path: string, opts: { cookie?: string; body?: unknown } = {}): Promise<{ status: number; cookie: string; body: string }> {
  const origin = `https://127.0.0.1:${box.frontPort}`;
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${origin}${path}`, {
      method,
      rejectUnauthorized: false,
      headers: { origin, ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      timeout: 30_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: (res.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '', body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end(body);
  });
}

describe('secret rotation', () => {
  it('through the admin route: credentials minted before it are refused by coturn, new ones work', async () => {
    await box.accounts.create({ name: 'turnadmin', password: 'a long admin password', role: 'admin' });
    await box.accounts.create({ name: 'turnmember', password: 'a long member password', role: 'member' });
    const member = (await apiRequest('POST', '/api/session', { body: { name: 'turnmember', password: 'a long member password' } })).cookie;
    const admin = (await apiRequest('POST', '/api/session', { body: { name: 'turnadmin', password: 'a long admin password' } })).cookie;
    expect(admin).toMatch(/^stube_session=/);
    const before = minted();
    // Not for members or strangers: the secret stays, and the old credential still relays.
    expect((await apiRequest('POST', '/api/turn/rotate', { cookie: member })).status).toBe(403);
    expect((await apiRequest('POST', '/api/turn/rotate')).status).toBe(403);
    const still = await uclient(before, box.netns.nsIp);
    expect(still.received, still.out).toBeGreaterThan(0);

    const res = await apiRequest('POST', '/api/turn/rotate', { cookie: admin });
    expect(res.status, res.body).toBe(200);
    const old = await uclient(before, box.netns.nsIp);
    expect(old.allocated, old.out).toBe(false);
    const fresh = await uclient(minted(), box.netns.nsIp);
    expect(fresh.received, fresh.out).toBeGreaterThan(0);
  }, 90_000);
});

describe('logs', () => {
  it('contain no IP address and no TURN user name, and coturn wrote no log files', async () => {
    await waitFor('the log to have lines', () => box.logLines.length > 0);
    const text = box.logLines.join('\n');
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    for (const ip of ['fd00:', '::1', '::ffff', box.nsIp6]) expect(text).not.toContain(ip);
    expect(usernames.size).toBeGreaterThan(1);
    for (const u of usernames) {
      expect(u.length).toBeGreaterThan(8);
      expect(text).not.toContain(u);
    }
    for (const dir of ['/var/log', '/tmp', '/var/tmp']) {
      expect(readdirSync(dir).filter((f) => /^turn_|turnserver.*\.log$/.test(f)), dir).toEqual([]);
    }
  });
});
