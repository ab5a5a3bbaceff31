// HTTP routes of the service. createApp only wires what it is given, so tests can build an app with
// their own dependencies and call app.request().
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Context } from 'hono';
import type { UpgradeWebSocket, WSEvents } from 'hono/ws';
import type { WebSocket } from 'ws';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import { TokenBucket } from '../meeting/rate.js';
import type { MeetingService } from '../meeting/service.js';
import { MEETING_ID_PATTERN, SIGNALLING_PATH, type CreateMeetingResponse } from '../meeting/protocol.js';
import { SECURITY_HEADERS } from './security.js';

export interface AppDeps {
  meetings: MeetingService;
  /** True when the service and the media server can take meetings. */
  ready: () => boolean;
  uiDir: string;
  log: Logger;
  upgradeWebSocket: UpgradeWebSocket<WebSocket>;
  /** Handles one signalling socket (see signalling.ts). */
  signalling: (c: Context) => WSEvents<WebSocket>;
  /** The accounts API (appliance/accounts/api.ts), mounted under /api. */
  api?: Hono<any>;
  /** Whether this request may start an ad-hoc meeting (on the box: signed-in members only). */
  mayStartMeeting?: (c: Context) => boolean;
  /** Routes of other areas (the setup wizard while setup is not done), mounted before the pages. */
  extraRoutes?: Hono;
}

const MIME: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

const meetingPath = new RegExp(MEETING_ID_PATTERN.replace('^', '^/r/'));

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  // Creating meetings is open in development mode; a bucket keeps one client from filling the store.
  const creations = new TokenBucket(1, 20);

  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });

  app.onError((err, c) => {
    deps.log.error('request failed', { path: c.req.routePath, err: describeError(err) });
    return c.json({ error: 'internal error' }, 500);
  });

  app.get('/healthz', (c) => (deps.ready() ? c.json({ status: 'ok' }) : c.json({ status: 'starting' }, 503)));

  app.post(
    '/api/meetings',
    bodyLimit({ maxSize: 1024, onError: (c) => c.json({ error: 'request body too large' }, 413) }),
    async (c) => {
      if (!sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.json({ error: 'cross-origin request refused' }, 403);
      if (deps.mayStartMeeting && !deps.mayStartMeeting(c)) return c.json({ error: 'sign in to start a meeting' }, 401);
      if (!creations.take()) return c.json({ error: 'too many meetings created; try again in a moment' }, 429);
      const id = await deps.meetings.createMeeting();
      const body: CreateMeetingResponse = { id };
      return c.json(body, 201);
    },
  );

  if (deps.api) app.route('/api', deps.api);

  app.get(SIGNALLING_PATH, checkOrigin(), deps.upgradeWebSocket(deps.signalling));

  const indexHtml = (): string | null => {
    const file = join(deps.uiDir, 'index.html');
    return existsSync(file) ? readFileSync(file, 'utf8') : null;
  };
  const page = (c: Parameters<MiddlewareHandler>[0]) => {
    const html = indexHtml();
    if (html === null) return c.text('The browser client is not built: run `npm run build:ui`.', 503);
    c.header('Cache-Control', 'no-store');
    return c.html(html);
  };
  if (deps.extraRoutes) app.route('/', deps.extraRoutes);
  app.get('/', page);
  app.get('/admin', page);
  // The setup wizard's own page (ui/setup.html); its routes decide first whether setup is still open.
  app.get('/setup', (c) => {
    const file = join(deps.uiDir, 'setup.html');
    if (!existsSync(file)) return c.text('The setup wizard is not built: run `npm run build:ui`.', 503);
    c.header('Cache-Control', 'no-store');
    return c.html(readFileSync(file, 'utf8'));
  });
  app.get('/r/:id', (c) => {
    if (!meetingPath.test(new URL(c.req.url).pathname)) return c.text('Not found', 404);
    return page(c);
  });

  app.get('/assets/*', async (c) => {
    const rel = normalize(new URL(c.req.url).pathname).replace(/^\/+/, '');
    const file = join(deps.uiDir, rel);
    if (!file.startsWith(join(deps.uiDir, 'assets') + sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) return c.text('Not found', 404);
    const body = await readFile(file);
    c.header('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
    // Vite puts a content hash in every asset name.
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(body);
  });

  app.notFound((c) => c.text('Not found', 404));
  return app;
}

/**
 * Browsers always send Origin on WebSocket upgrades and on cross-site POSTs: it must name the host the
 * request was sent to. (The Host header, not c.req.url: the WebSocket helper rebuilds the URL on a
 * fixed base.)
 */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser (curl, tests); browsers cannot omit it here
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

function checkOrigin(): MiddlewareHandler {
  return async (c, next) => {
    if (!sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.text('cross-origin WebSocket refused', 403);
    await next();
  };
}
