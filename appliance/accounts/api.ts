// The JSON API under /api for the admin panel (and scripts): sign-in, accounts, rooms, invite links,
// live meetings. Every route checks the caller's role against policy.ts; every body has a schema and
// a size limit; state-changing requests must come from the box's own origin (and the session cookie
// is SameSite=Strict). Responses never contain an address, and live meetings only counts.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ValidateFunction } from 'ajv';
import type { Logger } from '../log.js';
import type { LiveMeetingSummary } from '../meeting/service.js';
import { MEETING_ID_PATTERN } from '../meeting/protocol.js';
import { AccountError, SESSION_SECONDS, type Account, type Accounts } from './accounts.js';
import { validators } from './api-schemas.js';
import { OPENAPI } from './openapi.js';
import { apiAllowed, type ApiAction, type ApiRole } from './policy.js';
import { RoomError, type Rooms } from './rooms.js';

export const SESSION_COOKIE = 'stube_session';

export interface AccountsApiDeps {
  accounts: Accounts;
  rooms: Rooms;
  live: {
    list(): LiveMeetingSummary[];
    end(id: string): Promise<boolean>;
  };
  /** Anyone may start an ad-hoc meeting (development); on the box only signed-in members. */
  openMeetings: boolean;
  /** Cookies get `Secure` when the service runs over HTTPS. */
  secureCookies: boolean;
  log: Logger;
  sameOrigin(origin: string | undefined, host: string | undefined): boolean;
}

type Env = { Variables: { account: Account | null } };

const ID = new RegExp(MEETING_ID_PATTERN);

/** The peer address of a request, for rate limits only. */
export function peerAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** The account a request's session cookie belongs to. */
export function accountOf(c: Context, accounts: Accounts): Account | null {
  return accounts.session(getCookie(c, SESSION_COOKIE));
}

/** Routes of other areas that only a signed-in admin may use (updates, TURN): the session decides,
 *  and changes must come from the box's own pages. */
export function adminOnly(accounts: Accounts, sameOrigin: AccountsApiDeps['sameOrigin']): MiddlewareHandler {
  return async (c, next) => {
    if (accountOf(c, accounts)?.role !== 'admin') return c.json({ error: 'the administrator login is required' }, 403);
    if (c.req.method !== 'GET' && !sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.json({ error: 'cross-origin request refused' }, 403);
    await next();
  };
}

function statusOf(err: AccountError | RoomError): 400 | 404 | 409 | 429 | 503 | 401 {
  switch (err.code) {
    case 'invalid':
    case 'last-admin':
      return err.code === 'last-admin' ? 409 : 400;
    case 'exists':
    case 'too-many':
      return 409;
    case 'not-found':
      return 404;
    case 'rate-limited':
      return 429;
    case 'busy':
      return 503;
    case 'bad-credentials':
      return 401;
    default:
      return 400;
  }
}

export function createAccountsApi(deps: AccountsApiDeps): Hono<Env> {
  const api = new Hono<Env>();
  const limit = bodyLimit({ maxSize: 4096, onError: (c) => c.json({ error: 'request body too large' }, 413) });

  api.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && !deps.sameOrigin(c.req.header('origin'), c.req.header('host'))) {
      return c.json({ error: 'cross-origin request refused' }, 403);
    }
    c.set('account', accountOf(c, deps.accounts));
    c.header('Cache-Control', 'no-store');
    await next();
  });

  api.onError((err, c) => {
    if (err instanceof AccountError || err instanceof RoomError) {
      if (err instanceof AccountError && err.retryAfterMs > 0) c.header('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
      return c.json({ error: err.message }, statusOf(err));
    }
    deps.log.error('API request failed', { err: err.name });
    return c.json({ error: 'internal error' }, 500);
  });

  const need = (action: ApiAction): MiddlewareHandler<Env> => async (c, next) => {
    const account = c.get('account');
    const role: ApiRole = account?.role ?? 'anonymous';
    if (!apiAllowed(role, action, { openMeetings: deps.openMeetings })) {
      if (!account) return c.json({ error: 'sign in first' }, 401);
      deps.log.info('refused an API action', { action, role });
      return c.json({ error: 'your account may not do this' }, 403);
    }
    await next();
  };

  async function body<T>(c: Context, validate: ValidateFunction<T>): Promise<T | Response> {
    let data: unknown;
    try {
      data = await c.req.json();
    } catch {
      return c.json({ error: 'expected a JSON body' }, 400);
    }
    if (!validate(data)) {
      const e = validate.errors?.[0];
      return c.json({ error: `${e?.instancePath || 'body'} ${e?.message ?? 'is invalid'}` }, 400);
    }
    return data;
  }
  const idParam = (c: Context): string | null => {
    const id = c.req.param('id') ?? '';
    return ID.test(id) ? id : null;
  };

  api.get('/openapi.json', (c) => c.json(OPENAPI));

  // ---- session ----
  api.get('/session', (c) => {
    const account = c.get('account');
    return account ? c.json({ account }) : c.json({ error: 'not signed in' }, 401);
  });
  api.post('/session', limit, async (c) => {
    const b = await body(c, validators.signIn);
    if (b instanceof Response) return b;
    const signedIn = await deps.accounts.signIn(b.name, b.password, peerAddress(c));
    setCookie(c, SESSION_COOKIE, signedIn.token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: deps.secureCookies,
      path: '/',
      maxAge: SESSION_SECONDS,
    });
    return c.json({ account: signedIn.account });
  });
  api.delete('/session', (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) deps.accounts.signOut(token);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: deps.secureCookies, httpOnly: true, sameSite: 'Strict' });
    return c.body(null, 204);
  });

  // ---- accounts ----
  api.get('/accounts', need('accounts.list'), (c) => c.json({ accounts: deps.accounts.list() }));
  api.post('/accounts', need('accounts.create'), limit, async (c) => {
    const b = await body(c, validators.createAccount);
    if (b instanceof Response) return b;
    return c.json({ account: await deps.accounts.create(b) }, 201);
  });
  api.delete('/accounts/:id', need('accounts.remove'), (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such account' }, 404);
    deps.accounts.remove(id);
    return c.body(null, 204);
  });
  api.put('/accounts/:id/password', need('accounts.resetPassword'), limit, async (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such account' }, 404);
    const b = await body(c, validators.password);
    if (b instanceof Response) return b;
    await deps.accounts.resetPassword(id, b.password);
    return c.body(null, 204);
  });

  // ---- rooms and links ----
  api.get('/rooms', need('rooms.list'), (c) => c.json({ rooms: deps.rooms.list().map((r) => ({ ...r, invites: deps.rooms.invites(r.id) })) }));
  api.post('/rooms', need('rooms.create'), limit, async (c) => {
    const b = await body(c, validators.room);
    if (b instanceof Response) return b;
    return c.json({ room: await deps.rooms.create(b) }, 201);
  });
  api.patch('/rooms/:id', need('rooms.update'), limit, async (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such room' }, 404);
    const b = await body(c, validators.roomPatch);
    if (b instanceof Response) return b;
    return c.json({ room: await deps.rooms.update(id, b) });
  });
  api.delete('/rooms/:id', need('rooms.remove'), (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such room' }, 404);
    deps.rooms.remove(id);
    return c.body(null, 204);
  });
  api.post('/rooms/:id/invites', need('invites.create'), limit, async (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such room' }, 404);
    const b = await body(c, validators.invite);
    if (b instanceof Response) return b;
    return c.json(deps.rooms.createInvite(id, b.role, b.ttlSeconds), 201);
  });
  // The token of an existing link, for "copy link": in a POST response body, never in a URL.
  api.post('/invites/:id/token', need('invites.create'), (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such link' }, 404);
    return c.json({ token: deps.rooms.tokenFor(id) });
  });
  api.delete('/invites/:id', need('invites.revoke'), (c) => {
    const id = idParam(c);
    if (!id) return c.json({ error: 'no such link' }, 404);
    deps.rooms.revokeInvite(id);
    return c.body(null, 204);
  });

  // ---- live meetings: counts only ----
  api.get('/live', need('live.list'), (c) => {
    const names = new Map(deps.rooms.list().map((r) => [r.id, r.name]));
    return c.json({ meetings: deps.live.list().map((m) => ({ ...m, room: names.get(m.id) ?? null })) });
  });
  api.delete('/live/:id', need('live.end'), async (c) => {
    const id = idParam(c);
    if (!id || !(await deps.live.end(id))) return c.json({ error: 'no such live meeting' }, 404);
    return c.body(null, 204);
  });

  return api;
}
