// Builds the running service from Settings: Janus (managed or external), media backend, meetings, HTTP
// and WebSocket servers. main.ts calls this; integration tests call it too, with their own settings.
import './server/node-compat.js';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
import { createApp, sameOrigin } from './server/app.js';
import { openStore, type Store } from './store/db.js';
import { Accounts } from './accounts/accounts.js';
import { accountOf, adminOnly as adminOnlyFor, createAccountsApi, peerAddress } from './accounts/api.js';
import { InviteSigner } from './accounts/invites.js';
import { PasswordHasher } from './accounts/passwords.js';
import { Rooms } from './accounts/rooms.js';
import { RoomAccess } from './accounts/access.js';
import { UpdateAgent } from './update/agent.js';
import { updateApi } from './update/api.js';
import { selfTestGate, selfTestJoin } from './update/selftest.js';
import { signallingHandler } from './server/signalling.js';
import { createTlsFront, type TlsFront } from './server/tls-front.js';
import { ownAddresses, startTurn, type TurnService } from './turn/turn-service.js';
import { turnApi } from './turn/api.js';
import { helperClient } from './system/client.js';

export interface RunningService {
  /** Base URL the service answers on, e.g. http://127.0.0.1:8080. */
  url: string;
  meetings: MeetingService;
  media: JanusMedia;
  janus: JanusProcess | null;
  turn: TurnService | null;
  /** Loads a new certificate into the running HTTPS server (after setup or a renewal); no restart. */
  reloadTls(certFile: string, keyFile: string): Promise<void>;
  /** The database (<data>/stube.db) and what lives in it. */
  db: Store;
  accounts: Accounts;
  rooms: Rooms;
  stop(): Promise<void>;
}

export interface ServiceExtras {
  /** Routes of other areas mounted into the app (the setup wizard). */
  routes?: Hono;
}

export async function startService(settings: Settings, log: Logger, extras: ServiceExtras = {}): Promise<RunningService> {
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
      // On the box systemd runs coturn; after a secret rotation the privileged helper restarts its unit.
      restartExternal: async () => {
        await helperClient(settings.turn.helperSocket).call('restartUnit', { unit: 'stube-turn.service' });
      },
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
  const db = openStore(settings.dataDir, { log: log.child('store') });
  const hasher = new PasswordHasher();
  const accounts = new Accounts(db, { hasher });
  const rooms = new Rooms(db, hasher, await InviteSigner.open(settings.dataDir));
  const meetings = new MeetingService({
    media,
    store,
    log: log.child('meeting'),
    admitter: new RoomAccess(rooms),
    ...(iceServersFor ? { iceServersFor } : {}),
  });
  const api = createAccountsApi({
    accounts,
    rooms,
    live: { list: () => meetings.live(), end: (id) => meetings.endMeeting(id) },
    openMeetings: settings.openMeetings,
    secureCookies: settings.https !== null,
    log: log.child('api'),
    sameOrigin,
  });

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
    signalling: signallingHandler(meetings, log.child('ws'), (c) => ({ address: peerAddress(c), account: accountOf(c, accounts) })),
    api,
    mayStartMeeting: (c) => settings.openMeetings || accountOf(c, accounts) !== null,
    ...(extras.routes ? { extraRoutes: extras.routes } : {}),
  });
  // Updates (appliance only): the agent asks the root update helper through /run/stube/update.
  const updates = settings.update
    ? await UpdateAgent.create({
      runDir: settings.update.runDir,
      dataDir: settings.dataDir,
      currentVersion: (await readFile(settings.update.versionFile, 'utf8')).trim(),
      participants: () => meetings.participantCount,
      notifyModerators: (message) => meetings.notifyModerators(message),
      log: log.child('update'),
    })
    : null;
  // Only a signed-in admin may look at or start updates; changes must come from our own pages.
  const adminOnly = adminOnlyFor(accounts, sameOrigin);
  holder.route('/api/update', updateApi(updates, adminOnly));
  holder.route('/api/turn', turnApi(turn, adminOnly, log.child('turn')));
  // A boot is marked good only after a self-test meeting join works (update/selftest.ts); no details out.
  const selfTest = selfTestGate(() => selfTestJoin(meetings, settings.dataDir));
  holder.get('/healthz/join', async (c) => {
    if (!media.ready) return c.json({ status: 'starting' }, 503);
    const r = await selfTest();
    return r?.ok ? c.json({ status: 'ok' }) : c.json({ status: 'failing', step: r?.failed ?? 'welcome' }, 503);
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
    db,
    accounts,
    rooms,
    async reloadTls(certFile, keyFile) {
      if (!front) throw new Error('the service does not serve HTTPS');
      const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
      front.server.setSecureContext({ cert, key, minVersion: 'TLSv1.2' });
      log.info('certificate loaded');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      updates?.close();
      meetings.closeAll();
      for (const client of wss.clients) client.terminate();
      await front?.close();
      if (!front) await new Promise<void>((resolve) => server.close(() => resolve()));
      await media.close();
      await janus?.stop();
      await turn?.stop();
      db.close();
    },
  };
}
