// The one TLS listener of the box (port 443): HTTPS pages, the signalling WebSocket and TURN over TLS
// share it, so the strictest networks (only TCP 443 allowed) still reach the TURN server. After the
// handshake a connection goes
//   - to coturn's TCP listener when the client asked for ALPN "stun.turn" (RFC 7443), or sent no ALPN
//     and its first bytes are a STUN message (magic cookie at bytes 4–7);
//   - to the HTTP server (hono, WebSocket upgrades included) when it negotiated http/1.1, or sent no
//     ALPN and its first bytes are an HTTP method;
//   - nowhere otherwise: it is closed. Every connection has its own limits and error handlers, so a
//     bad one only ever ends itself.
import { connect, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';

export const ALPN_TURN = 'stun.turn';
export const ALPN_HTTP = 'http/1.1';

export const FRONT_LIMITS = {
  /** TLS handshake plus first bytes must arrive within this time. */
  firstBytesTimeoutMs: 10_000,
  /** Concurrent connections on the front (HTTP and TURN together). */
  maxConnections: 4000,
} as const;

export type FirstBytes = 'http' | 'stun' | 'more' | 'garbage';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'].map((m) => Buffer.from(`${m} `, 'latin1'));
const STUN_COOKIE = 0x2112a442;

/** Classifies the first bytes a client sent after a handshake without ALPN. Pure, unit-tested. */
export function classifyFirstBytes(buf: Buffer): FirstBytes {
  if (buf.length === 0) return 'more';
  let httpPossible = false;
  for (const m of METHODS) {
    const n = Math.min(m.length, buf.length);
    if (buf.subarray(0, n).equals(m.subarray(0, n))) {
      if (buf.length >= m.length) return 'http';
      httpPossible = true;
    }
  }
  // A STUN message starts with two zero bits, a 14-bit type, a length that is a multiple of 4, then the
  // magic cookie. (TURN ChannelData, which starts with 01, never comes first on a new connection.)
  const stunPossible = (buf[0] ?? 0xff) < 0x40;
  if (stunPossible && buf.length >= 8) {
    return buf.readUInt32BE(4) === STUN_COOKIE && buf.readUInt16BE(2) % 4 === 0 ? 'stun' : 'garbage';
  }
  return httpPossible || stunPossible ? 'more' : 'garbage';
}

export type Route = 'http' | 'turn' | 'drop' | 'sniff';

/** Where a connection goes by its negotiated ALPN protocol (false: none negotiated). */
export function routeByAlpn(alpn: string | false | null | undefined): Route {
  if (alpn === ALPN_TURN) return 'turn';
  if (alpn === ALPN_HTTP) return 'http';
  if (!alpn) return 'sniff';
  return 'drop';
}

export interface TlsFrontOptions {
  cert: Buffer;
  key: Buffer;
  /** An HTTP server that does not listen itself; the front hands it connections. */
  http: HttpServer;
  /** coturn's TCP listener; null: TURN is not offered and such connections are closed. */
  turn: { host: string; port: number } | null;
  log: Logger;
}

export interface TlsFront {
  server: TlsServer;
  listen(host: string, port: number): Promise<{ port: number }>;
  close(): Promise<void>;
  /** Connections handed to coturn so far (for tests and the bench). */
  readonly turnConnections: number;
}

export function createTlsFront(opts: TlsFrontOptions): TlsFront {
  const { log } = opts;
  let turnConnections = 0;
  const open = new Set<Socket>();
  const server = createServer({
    cert: opts.cert,
    key: opts.key,
    minVersion: 'TLSv1.2',
    // Server preference: a client that offers both (coturn's own client offers http/1.1 too) speaks
    // TURN to a TURN port; browsers never offer stun.turn for pages.
    ALPNProtocols: opts.turn ? [ALPN_TURN, ALPN_HTTP] : [ALPN_HTTP],
    handshakeTimeout: FRONT_LIMITS.firstBytesTimeoutMs,
  });
  server.maxConnections = FRONT_LIMITS.maxConnections;
  server.on('connection', (raw: Socket) => {
    open.add(raw);
    raw.once('close', () => open.delete(raw));
  });
  // Failed handshakes (garbage, plain HTTP, scanners): Node closes the socket; we only count them.
  server.on('tlsClientError', (err) => log.debug('TLS handshake failed', { code: (err as NodeJS.ErrnoException).code ?? 'unknown' }));

  const toHttp = (socket: TLSSocket): void => {
    opts.http.emit('connection', socket);
  };
  const toTurn = (socket: TLSSocket): void => {
    const turn = opts.turn;
    if (!turn) {
      socket.destroy();
      return;
    }
    turnConnections++;
    const upstream = connect({ host: turn.host, port: turn.port });
    upstream.setNoDelay(true);
    socket.setNoDelay(true);
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.once('error', (err) => {
      log.warn('TURN upstream failed', { code: (err as NodeJS.ErrnoException).code ?? 'unknown' });
      end();
    });
    socket.once('error', end);
    upstream.once('close', end);
    socket.once('close', end);
    socket.pipe(upstream);
    upstream.pipe(socket);
  };

  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', (err) => log.debug('TLS connection error', { code: (err as NodeJS.ErrnoException).code ?? 'unknown' }));
    const route = routeByAlpn(socket.alpnProtocol);
    switch (route) {
      case 'http':
        toHttp(socket);
        return;
      case 'turn':
        toTurn(socket);
        return;
      case 'drop':
        socket.destroy();
        return;
      case 'sniff':
        sniff(socket, (kind) => {
          if (kind === 'http') toHttp(socket);
          else toTurn(socket);
          // sniff() paused the socket so that no byte was lost in between; the new owner listens now.
          socket.resume();
        });
        return;
      default:
        assertUnreachable(route);
    }
  });

  return {
    server,
    get turnConnections() {
      return turnConnections;
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve({ port: typeof addr === 'object' && addr ? addr.port : port });
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of open) s.destroy();
      await closed;
    },
  };
}

/** Reads until the first bytes say what the client speaks, puts them back, and hands the socket on. */
function sniff(socket: TLSSocket, then: (kind: 'http' | 'stun') => void): void {
  let buffered = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), FRONT_LIMITS.firstBytesTimeoutMs);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const kind = classifyFirstBytes(buffered);
    if (kind === 'more') return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    if (kind === 'garbage') {
      socket.destroy();
      return;
    }
    socket.unshift(buffered);
    then(kind);
  };
  socket.on('data', onData);
  socket.once('close', () => clearTimeout(timer));
}

function assertUnreachable(x: never): never {
  throw new Error(`unexpected route ${String(x)}`);
}
