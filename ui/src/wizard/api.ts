// The wizard's calls to the box. The session token lives in memory only and travels in the
// Authorization header (never in a URL).
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

let token = '';

export function setToken(t: string): void {
  token = t;
}

/** The session header, for requests not made through call() (the LAN measurement). */
export function authHeaders(): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/setup/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    credentials: 'omit',
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new ApiError(res.status, String(json.code ?? 'http'), String(json.error ?? res.statusText), json);
  return json as T;
}
