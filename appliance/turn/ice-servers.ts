// The ICE servers one participant gets in its welcome: only this box, never anyone else's STUN or TURN.
// `turn:` on the TURN port over UDP and TCP, `turns:` on the HTTPS port (the TLS front hands it to
// coturn). The host is the one the browser used to reach the page, so the URLs work however the box was
// reached (its .local name, its address, a public name); a Host header that is not a plain name or
// address gets no ICE servers rather than a URL we would have to escape.
import { isIP } from 'node:net';
import type { TurnCredential } from './credentials.js';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnPorts {
  /** coturn's UDP/TCP port. */
  turn: number;
  /** The HTTPS port that also carries TURN over TLS; null when the service has no TLS front. */
  tls: number | null;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The host part of a Host header ("name", "name:port", "[v6]:port"), lower-cased, or null if it is not plain. */
export function hostFromHeader(header: string | undefined): string | null {
  if (!header || header.length > 300) return null;
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return isIP(v6[1] ?? '') === 6 ? `[${v6[1]}]` : null;
  const m = /^([^:]+)(?::\d{1,5})?$/.exec(h);
  const host = m?.[1];
  if (!host) return null;
  if (isIP(host) === 4) return host;
  return HOSTNAME.test(host) ? host : null;
}

export function turnIceServers(host: string, cred: TurnCredential, ports: TurnPorts): IceServer[] {
  const urls = [`turn:${host}:${ports.turn}?transport=udp`, `turn:${host}:${ports.turn}?transport=tcp`];
  if (ports.tls !== null) urls.push(`turns:${host}:${ports.tls}?transport=tcp`);
  return [{ urls, username: cred.username, credential: cred.credential }];
}
