// The admin's handle on TURN, mounted at /api/turn by the service behind the admin session and the
// same-origin check (the `authorize` middleware it is given):
//   GET  /api/turn         whether the box runs TURN, and how long a participant's credential lasts
//   POST /api/turn/rotate  a new TURN secret: credentials handed out before stop working at the TURN
//                          server; participants already in a meeting keep their relayed media until
//                          their allocation must be refreshed, and get fresh credentials when they join again
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';

/** What the API needs of the TURN service (TurnService implements it). */
export interface TurnControl {
  rotateSecret(): Promise<void>;
  readonly ttlSeconds: number;
}

export function turnApi(turn: TurnControl | null, authorize: MiddlewareHandler, log: Logger): Hono {
  const api = new Hono();
  let rotating = false;
  api.use('*', authorize);
  api.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    await next();
  });
  api.get('/', (c) => c.json(turn ? { enabled: true, credentialSeconds: turn.ttlSeconds } : { enabled: false, credentialSeconds: null }));
  api.post('/rotate', async (c) => {
    if (!turn) return c.json({ error: 'TURN is not running on this box' }, 503);
    // One rotation at a time: two would race on the secret file and the TURN server's restart.
    if (rotating) return c.json({ error: 'a rotation is already running' }, 409);
    rotating = true;
    try {
      await turn.rotateSecret();
    } catch (err) {
      log.error('TURN secret rotation failed', { err: err instanceof Error ? err.name : 'unknown' });
      return c.json({ error: 'the TURN secret could not be rotated; see the service log' }, 503);
    } finally {
      rotating = false;
    }
    return c.json({ rotated: true, credentialSeconds: turn.ttlSeconds });
  });
  return api;
}
