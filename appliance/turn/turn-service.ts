// TURN for the service: the secret, coturn when the service manages it, and the ICE servers each
// participant gets. The appliance runs coturn under systemd (mode `external`): then the service only reads
// the secret file that the TURN unit's start script created.
import { networkInterfaces } from 'node:os';
import type { TurnSettings } from '../config/settings.js';
import type { Logger } from '../log.js';
import { ALL_PEER_RANGES, coturnLimits } from './coturn-config.js';
import { CoturnProcess } from './coturn-process.js';
import { TurnSecret } from './credentials.js';
import { hostFromHeader, turnIceServers, type IceServer } from './ice-servers.js';

export interface TurnService {
  /** ICE servers for one participant: a fresh credential with a fresh pseudonym every time. */
  iceServersFor(hostHeader: string | undefined): IceServer[];
  /** Where the TLS front forwards TURN over TLS. */
  upstream: { host: string; port: number };
  /** New secret; a managed coturn is restarted with it, an external one through `restartExternal`. */
  rotateSecret(): Promise<void>;
  /** Lifetime of the credentials iceServersFor() hands out. */
  readonly ttlSeconds: number;
  coturn: CoturnProcess | null;
  stop(): Promise<void>;
}

export interface TurnStartOptions {
  settings: TurnSettings;
  /** The HTTPS port the TLS front listens on (the `turns:` URLs), or null without one. A function: the
   *  front starts listening after TURN is up, and may be given port 0 in tests. */
  tlsPort: () => number | null;
  /** The only peers coturn may relay to: the media server's addresses (managed mode). */
  allowedPeers: string[];
  realm: string;
  log: Logger;
  /** External mode: restarts the TURN server's unit so that it reads the new secret (the appliance asks
   *  its privileged helper). Without it an external TURN server cannot be rotated. */
  restartExternal?: () => Promise<void>;
}

/** Non-loopback addresses of this host (the box): Janus's candidates are among them. */
export function ownAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80:')) out.push(a.address);
  }
  return out;
}

export async function startTurn(opts: TurnStartOptions): Promise<TurnService> {
  const { settings, log } = opts;
  const managed = settings.mode === 'managed';
  const secret = await TurnSecret.open(settings.secretFile, { create: managed });
  let coturn: CoturnProcess | null = null;
  if (managed) {
    coturn = new CoturnProcess({
      config: {
        ...coturnLimits(),
        listeningIps: settings.listen,
        turnPort: settings.port,
        realm: opts.realm,
        hostname: 'stube',
        relayFirst: settings.relayPorts.min,
        relayLast: settings.relayPorts.max,
        runtimeDir: settings.dir,
        deniedPeerRanges: [...ALL_PEER_RANGES],
        allowedPeerIps: opts.allowedPeers,
      },
      secret: () => secret.value,
      wrapper: settings.wrapper,
      probeHost: settings.host,
      log: log.child('coturn'),
    });
    await coturn.start();
  }
  return {
    coturn,
    upstream: { host: settings.host, port: settings.port },
    ttlSeconds: settings.ttlSeconds,
    iceServersFor(hostHeader) {
      const host = hostFromHeader(hostHeader);
      if (!host) return [];
      return turnIceServers(host, secret.mint(settings.ttlSeconds), { turn: settings.port, tls: opts.tlsPort() });
    },
    async rotateSecret() {
      // Refuse before touching the file: a new secret the TURN server never reads would lock everyone out.
      if (!managed && !opts.restartExternal) throw new Error('the external TURN server cannot be restarted from here');
      const previous = await secret.rotate();
      if (coturn) await coturn.restart();
      else {
        try {
          await opts.restartExternal?.();
        } catch (err) {
          // The TURN server still has the old secret: keep minting with it, or nobody could relay.
          await secret.restore(previous);
          throw err;
        }
      }
      log.info('TURN secret rotated');
    },
    async stop() {
      await coturn?.stop();
    },
  };
}
