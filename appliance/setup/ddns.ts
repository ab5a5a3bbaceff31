// Dynamic DNS. deSEC is the first provider: it keeps no logs of queries and its API is plain REST. The
// request is built by a pure function (unit-tested); only `send` talks to the network, to a base URL
// the settings choose (tests never contact the real service).

export interface DdnsRequest {
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The name the host registered (e.g. `meet.dedyn.io`) is the deSEC domain; its apex gets the A record. */
export function desecUpdateRequest(baseUrl: string, name: string, token: string, ipv4: string, ipv6: string | null): DdnsRequest {
  const rrsets: { subname: string; type: string; ttl: number; records: string[] }[] = [{ subname: '', type: 'A', ttl: 3600, records: [ipv4] }];
  if (ipv6) rrsets.push({ subname: '', type: 'AAAA', ttl: 3600, records: [ipv6] });
  return {
    method: 'PUT',
    url: `${baseUrl.replace(/\/+$/, '')}/domains/${encodeURIComponent(name)}/rrsets/`,
    // The token travels in a header, never in the URL.
    headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(rrsets),
  };
}

export class DdnsError extends Error {
  override readonly name = 'DdnsError';
  constructor(
    readonly reason: 'auth' | 'notFound' | 'rateLimited' | 'provider' | 'network',
    message: string,
  ) {
    super(message);
  }
}

export async function sendDdns(req: DdnsRequest): Promise<void> {
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new DdnsError('network', 'the dynamic DNS provider could not be reached');
  }
  if (res.ok) return;
  if (res.status === 401 || res.status === 403) throw new DdnsError('auth', 'the provider refused the token');
  if (res.status === 404) throw new DdnsError('notFound', 'the provider does not know this name in the account');
  if (res.status === 429) throw new DdnsError('rateLimited', 'the provider asks to wait before the next update');
  throw new DdnsError('provider', `the provider answered ${res.status}`);
}
