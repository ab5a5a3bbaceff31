// Address classification for the wizard: who may talk to it (private and link-local senders only) and
// what the router's WAN address says about the line (public, carrier-grade NAT, or another NAT).
import { isIP } from 'node:net';

/** Parses dotted IPv4 to a 32-bit number, or null. */
function v4(addr: string): number | null {
  if (isIP(addr) !== 4) return null;
  return addr.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(addr: number, base: string, bits: number): boolean {
  const b = v4(base) ?? 0;
  const size = 2 ** (32 - bits);
  return Math.floor(addr / size) === Math.floor(b / size);
}

/** `::ffff:a.b.c.d` (how Node reports IPv4 clients on a dual-stack socket) → `a.b.c.d`. */
export function unmapV4(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m?.[1] ?? addr;
}

/** Expands an IPv6 address to its eight 16-bit groups, or null. */
function v6Groups(addr: string): number[] | null {
  if (isIP(addr) !== 6) return null;
  const zoneless = addr.split('%')[0] ?? '';
  let text = zoneless;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const n = v4(tail[1]) ?? 0;
    text = text.slice(0, -tail[1].length) + `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...r].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}

export type AddressKind = 'loopback' | 'private' | 'link-local' | 'cgnat' | 'public' | 'invalid';

/** What kind of address this is, from the point of view of "is this sender in the home network". */
export function classifyAddress(raw: string): AddressKind {
  const addr = unmapV4(raw.trim());
  const n = v4(addr);
  if (n !== null) {
    if (inV4(n, '127.0.0.0', 8)) return 'loopback';
    if (inV4(n, '10.0.0.0', 8) || inV4(n, '172.16.0.0', 12) || inV4(n, '192.168.0.0', 16)) return 'private';
    if (inV4(n, '169.254.0.0', 16)) return 'link-local';
    if (inV4(n, '100.64.0.0', 10)) return 'cgnat';
    return 'public';
  }
  const g = v6Groups(addr);
  if (!g) return 'invalid';
  const [g0 = 0] = g;
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  return 'public';
}

/**
 * May this sender use the setup wizard? Only from the home network: private, link-local or loopback
 * (loopback: a browser on the box itself, and the tests). A carrier-grade NAT address (100.64/10) is not
 * a home network: it is shared with the provider's other customers.
 */
export function isLocalSender(addr: string): boolean {
  const kind = classifyAddress(addr);
  return kind === 'private' || kind === 'link-local' || kind === 'loopback';
}

export type WanSituation =
  /** The router has a public IPv4 address: port forwards make the box reachable. */
  | 'public'
  /** 100.64.0.0/10: the provider shares one public address among customers; forwards cannot help. */
  | 'cgnat'
  /** The router's WAN side is itself in a private network (a second router, or the provider's NAT). */
  | 'private'
  /** The router answered but reports no usable WAN address: routers do this when their own WAN address
   *  is shared or private (miniupnpd, for one, hides it) — carrier-grade NAT or a second router. */
  | 'noPublic'
  /** No router answered. */
  | 'unknown';

/** Classifies the WAN address the router reports (UPnP GetExternalIPAddress / NAT-PMP). */
export function wanSituation(externalIp: string | null, routerAnswered = externalIp !== null): WanSituation {
  if (!externalIp || externalIp === '0.0.0.0') return routerAnswered ? 'noPublic' : 'unknown';
  switch (classifyAddress(externalIp)) {
    case 'public':
      return 'public';
    case 'cgnat':
      return 'cgnat';
    case 'private':
    case 'link-local':
    case 'loopback':
      return 'private';
    case 'invalid':
      return routerAnswered ? 'noPublic' : 'unknown';
  }
}
