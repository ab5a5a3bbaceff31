// Does the name point at the box's public address yet? Asked of a resolver the settings choose (the
// system's by default; the test network's own DNS server in tests).
import { Resolver } from 'node:dns/promises';

export interface DnsCheck {
  resolves: boolean;
  /** What the name resolves to now (shown to the host; never logged). */
  addresses: string[];
}

export async function checkARecord(name: string, expected: string, servers: string[] | null): Promise<DnsCheck> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (servers && servers.length > 0) resolver.setServers(servers);
  try {
    const addresses = await resolver.resolve4(name);
    return { resolves: addresses.includes(expected), addresses };
  } catch {
    return { resolves: false, addresses: [] };
  }
}

/** Polls until the record resolves or `timeoutMs` passes (DNS changes take a while to spread). */
export async function waitForARecord(name: string, expected: string, servers: string[] | null, timeoutMs: number, everyMs = 2000): Promise<DnsCheck> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await checkARecord(name, expected, servers);
    if (r.resolves || Date.now() + everyMs > until) return r;
    await new Promise((res) => setTimeout(res, everyMs));
  }
}
