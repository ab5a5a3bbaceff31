// Talks to the home router: finds it (UPnP IGD by SSDP, then NAT-PMP at the default gateway), asks for
// its WAN address and maps the forwards. @achingbrain/nat-port-mapper does the protocols; this file only
// decides what to ask and turns the outcome into something the wizard can explain.
import { readFile } from 'node:fs/promises';
import { upnpNat, pmpNat, type Gateway } from '@achingbrain/nat-port-mapper';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import { wanSituation, type WanSituation } from './addresses.js';
import { singleMappings, type Forward } from './forwards.js';

export interface RouterReport {
  /** How the router was reached: 'upnp', 'natpmp', or null when none answered. */
  protocol: 'upnp' | 'natpmp' | null;
  externalIp: string | null;
  wan: WanSituation;
  /** True when every forward was mapped. */
  mapped: boolean;
  /** Forwards the router refused or that were not tried (the host must create these by hand). */
  missing: Forward[];
}

/** The IPv4 default gateway from /proc/net/route (little-endian hex), or null. */
export function parseDefaultGateway(routeTable: string): string | null {
  for (const line of routeTable.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === '00000000' && cols[2] && cols[2] !== '00000000') {
      const n = parseInt(cols[2], 16);
      return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
    }
  }
  return null;
}

export interface RouterOptions {
  /** The box's LAN address the router should forward to. */
  internalHost: string;
  /** How long to look for a UPnP router, ms. */
  searchMs: number;
  log: Logger;
}

/** Finds a gateway: UPnP first (it also reports more), NAT-PMP at the default gateway second. */
export async function findGateway(opts: RouterOptions): Promise<{ gateway: Gateway; protocol: 'upnp' | 'natpmp' } | null> {
  const nat = upnpNat({ description: 'Stube', autoRefresh: true });
  try {
    for await (const gateway of nat.findGateways({ signal: AbortSignal.timeout(opts.searchMs), searchInterval: 1000 })) {
      if (gateway.family === 'IPv4') return { gateway, protocol: 'upnp' };
    }
  } catch (err) {
    opts.log.info('no UPnP router answered', { err: describeError(err) });
  }
  const gw = parseDefaultGateway(await readFile('/proc/net/route', 'utf8').catch(() => '' /* no procfs: no default gateway known */));
  if (!gw) return null;
  const gateway = pmpNat(gw, { description: 'Stube', autoRefresh: true });
  try {
    await gateway.externalIp({ signal: AbortSignal.timeout(opts.searchMs) });
    return { gateway, protocol: 'natpmp' };
  } catch (err) {
    opts.log.info('no NAT-PMP router answered', { err: describeError(err) });
    await gateway.stop().catch((e: unknown) => opts.log.debug('stopping the NAT-PMP client failed', { err: describeError(e) }));
    return null;
  }
}

/**
 * Asks the router for its WAN address and, when `map` is set and the line is not behind carrier-grade
 * NAT, maps every forward. Keeps the gateway open so the library renews the leases; `close()` stops it.
 */
export class RouterSession {
  private constructor(
    readonly report: RouterReport,
    private readonly gateway: Gateway | null,
    private readonly log: Logger,
  ) {}

  static async open(opts: RouterOptions, forwards: Forward[], map: boolean): Promise<RouterSession> {
    const found = await findGateway(opts);
    if (!found) return new RouterSession({ protocol: null, externalIp: null, wan: 'unknown', mapped: false, missing: forwards }, null, opts.log);
    const { gateway, protocol } = found;
    let externalIp: string | null = null;
    try {
      externalIp = await gateway.externalIp({ signal: AbortSignal.timeout(5000) });
    } catch (err) {
      opts.log.warn('router did not tell its WAN address', { err: describeError(err) });
    }
    // Routers without a public address answer with an empty one (or 0.0.0.0).
    if (!externalIp || externalIp === '0.0.0.0') externalIp = null;
    const wan = wanSituation(externalIp, true);
    // Behind carrier-grade NAT (or a router without a public address) a forward cannot make the box reachable.
    if (!map || wan === 'cgnat' || wan === 'noPublic') return new RouterSession({ protocol, externalIp, wan, mapped: false, missing: forwards }, gateway, opts.log);
    const missing: Forward[] = [];
    for (const f of forwards) {
      let ok = true;
      for (const m of singleMappings([f])) {
        try {
          const got = await gateway.map(m.internalPort, opts.internalHost, { externalPort: m.externalPort, protocol: m.protocol, description: `Stube ${f.purpose}`, signal: AbortSignal.timeout(5000) });
          if (got.externalPort !== m.externalPort) ok = false;
        } catch (err) {
          opts.log.warn('router refused a port mapping', { protocol: m.protocol, port: m.externalPort, err: describeError(err) });
          ok = false;
          break;
        }
      }
      if (!ok) missing.push(f);
    }
    opts.log.info('router ports mapped', { protocol, mapped: forwards.length - missing.length, missing: missing.length });
    return new RouterSession({ protocol, externalIp, wan, mapped: missing.length === 0, missing }, gateway, opts.log);
  }

  /** Stops renewing. The mappings stay until their lease runs out (the library removes its own). */
  async close(): Promise<void> {
    await this.gateway?.stop().catch((e: unknown) => this.log.warn('stopping the router client failed', { err: describeError(e) }));
  }
}
