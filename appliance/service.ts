// Builds the running service from Settings: Janus (managed or external), media backend, meetings, HTTP
// and WebSocket servers. main.ts calls this; integration tests call it too, with their own settings.
import './server/node-compat.js';
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer, serve, type ServerType } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import type { Settings } from './config/settings.js';
import type { Logger } from './log.js';
import { janusConfigFor, janusSocketPath, loadOrCreateSecrets } from './media/janus-config.js';
import { JanusMedia } from './media/janus-media.js';
import { JanusProcess } from './media/janus-process.js';
import { MeetingService } from './meeting/service.js';
import { MeetingStore } from './meeting/store.js';
import { LIMITS } from './meeting/protocol.js';
import { createApp } from './server/app.js';
import { signallingHandler } from './server/signalling.js';
import { createTlsFront, type TlsFront } from './server/tls-front.js';
import { ownAddresses, startTurn, type TurnService } from './turn/turn-service.js';

export interface RunningService {
  /** Base URL the service answers on, e.g. http://127.0.0.1:8080. */
  url: string;
  meetings: MeetingService;
  media: JanusMedia;
  janus: JanusProcess | null;
  turn: TurnService | null;
  stop(): Promise<void>;
}

export async function startService(settings: Settings, log: Logger): Promise<RunningService> {
  const secrets = await loadOrCreateSecrets(settings.dataDir);
  const socketPath = janusSocketPath(settings.janus.dir);
  let janus: JanusProcess | null = null;
  if (settings.janus.mode === 'managed') {
    const { eventLoops, debugLevel, iceIgnoreList, iceEnforceList, natMapping } = settings.janus;
    janus = new JanusProcess({
      config: janusConfigFor(secrets, settings.janus.dir, {
        rtpPortMin: settings.rtpPorts.min,
        rtpPortMax: settings.rtpPorts.max,
        eventLoops,
        debugLevel,
        iceIgnoreList,
        iceEnforceList,
        natMapping,
      }),
      wrapper: settings.janus.wrapper,
      log: log.child('janus'),
    });
    await janus.start();
  }
  const media = await JanusMedia.create({ socketPath, apiSecret: secrets.apiSecret, adminKey: secrets.adminKey, log: log.child('media') }, 60_000);
  const store = await MeetingStore.open(settings.dataDir);
  let turn: TurnService | null = null;
  let tlsPort: number | null = null;
  if (settings.turn.mode !== 'off') {
    const starting = startTurn({
      settings: settings.turn,
      tlsPort: () => tlsPort,
      allowedPeers: settings.turn.peers.length > 0 ? settings.turn.peers : ownAddresses(),
      realm: 'stube.local',
      log: log.child('turn'),
    });
    if (settings.turn.mode === 'managed') turn = await starting;
    else {
      // On the box a TURN unit that failed (no secret file yet) must not keep meetings from working:
      // participants then get no ICE servers and connect directly where they can.
      turn = await starting.catch((err: unknown) => {
        log.error('TURN unavailable; meetings run without it', { err: err instanceof Error ? err.name : 'unknown' });
        return null;
      });
    }
  }
  const iceServersFor = turn ? turn.iceServersFor.bind(turn) : undefined;
  const meetings = new MeetingService({ media, store, log: log.child('meeting'), ...(iceServersFor ? { iceServersFor } : {}) });

  const holder = new Hono();
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app: holder });
  // Frames over the limit are refused by the WebSocket layer itself (close 1009) before we buffer them.
  (wss.options as { maxPayload?: number }).maxPayload = LIMITS.maxMessageBytes;
  const app = createApp({
    meetings,
    ready: () => media.ready,
    uiDir: settings.uiDir,
    log: log.child('http'),
    upgradeWebSocket,
    signalling: signallingHandler(meetings, log.child('ws')),
  });
  holder.route('/', app);

  const listen = settings.https ?? settings.http;
  if (!listen) throw new Error('nothing to listen on');
  // HTTPS goes through the TLS front, which shares the port with TURN over TLS (server/tls-front.ts):
  // the HTTP server itself then never listens, it gets the front's connections.
  let front: TlsFront | null = null;
  let server: ServerType;
  let port: number;
  if (settings.https) {
    server = createAdaptorServer({ fetch: holder.fetch });
    front = createTlsFront({
      cert: readFileSync(settings.https.certFile),
      key: readFileSync(settings.https.keyFile),
      http: server as HttpServer,
      turn: turn?.upstream ?? null,
      log: log.child('tls'),
    });
    port = (await front.listen(listen.host, listen.port)).port;
    tlsPort = port;
  } else {
    server = await new Promise((resolve) => {
      const s = serve({ fetch: holder.fetch, hostname: listen.host, port: listen.port }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  }
  injectWebSocket(server);
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const url = `${settings.https ? 'https' : 'http'}://${host}:${port}`;
  log.info('service listening', { scheme: settings.https ? 'https' : 'http', port, turn: settings.turn.mode });

  let stopped = false;
  return {
    url,
    meetings,
    media,
    janus,
    turn,
    async stop() {
      if (stopped) return;
      stopped = true;
      meetings.closeAll();
      for (const client of wss.clients) client.terminate();
      await front?.close();
      if (!front) await new Promise<void>((resolve) => server.close(() => resolve()));
      await media.close();
      await janus?.stop();
      await turn?.stop();
    },
  };
}
