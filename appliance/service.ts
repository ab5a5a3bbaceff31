// Builds the running service from Settings: Janus (managed or external), media backend, meetings, HTTP
// and WebSocket servers. main.ts calls this; integration tests call it too, with their own settings.
import './server/node-compat.js';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
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
import { UpdateAgent } from './update/agent.js';
import { denyAll, updateApi } from './update/api.js';
import { signallingHandler } from './server/signalling.js';

export interface RunningService {
  /** Base URL the service answers on, e.g. http://127.0.0.1:8080. */
  url: string;
  meetings: MeetingService;
  media: JanusMedia;
  janus: JanusProcess | null;
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
  const meetings = new MeetingService({ media, store, log: log.child('meeting') });

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
  // TODO(integrator): replace denyAll by the admin session check once the admin login exists; the
  // agent and its API are complete, only who may call them is missing.
  holder.route('/api/update', updateApi(updates, denyAll));
  holder.route('/', app);

  const listen = settings.https ?? settings.http;
  if (!listen) throw new Error('nothing to listen on');
  const server: ServerType = await new Promise((resolve) => {
    const s = serve(
      {
        fetch: holder.fetch,
        hostname: listen.host,
        port: listen.port,
        ...(settings.https
          ? {
              createServer: createHttpsServer,
              serverOptions: { cert: readFileSync(settings.https.certFile), key: readFileSync(settings.https.keyFile) },
            }
          : {}),
      },
      () => resolve(s),
    );
  });
  injectWebSocket(server);
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${settings.https ? 'https' : 'http'}://${host}:${addr.port}`;
  log.info('service listening', { scheme: settings.https ? 'https' : 'http', port: addr.port });

  let stopped = false;
  return {
    url,
    meetings,
    media,
    janus,
    async stop() {
      if (stopped) return;
      stopped = true;
      updates?.close();
      meetings.closeAll();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await media.close();
      await janus?.stop();
    },
  };
}
