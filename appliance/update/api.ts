// JSON API of the update agent, mounted at /api/update by the service:
//   GET  /api/update           what the admin panel shows (UpdateView)
//   POST /api/update/check     look at the channel now
//   POST /api/update/install   "update now": download, install, restart once no meeting runs
//   PUT  /api/update/settings  channel, schedule, maintenance window (UpdateSettings, schema-checked)
// Every route runs behind `authorize`, which the service gives it (the admin session).
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { UpdateView } from './agent.js';
import { parseUpdateSettings, UpdateSettingsError, type UpdateSettings } from './settings.js';

/** What the API needs of the agent (UpdateAgent implements it). */
export interface UpdateControl {
  view(): UpdateView;
  checkNow(): Promise<void>;
  updateNow(): Promise<void>;
  setSettings(settings: UpdateSettings): Promise<void>;
}

/** Until the admin session exists nobody may use the API: see service.ts. */
export const denyAll: MiddlewareHandler = async (c) => c.json({ error: 'the administrator login is required' }, 403);

export function updateApi(control: UpdateControl | null, authorize: MiddlewareHandler): Hono {
  const api = new Hono();
  api.use('*', authorize);
  api.use('*', async (c, next) => {
    if (!control) return c.json({ error: 'updates are managed by the image only (this is not an appliance install)' }, 503);
    await next();
  });
  api.get('/', (c) => c.json(control!.view()));
  api.post('/check', async (c) => {
    await control!.checkNow();
    return c.json(control!.view(), 202);
  });
  api.post('/install', async (c) => {
    await control!.updateNow();
    return c.json(control!.view(), 202);
  });
  api.put(
    '/settings',
    bodyLimit({ maxSize: 4096, onError: (c) => c.json({ error: 'request body too large' }, 413) }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'the body is not JSON' }, 400);
      }
      try {
        await control!.setSettings(parseUpdateSettings(body));
      } catch (err) {
        if (err instanceof UpdateSettingsError) return c.json({ error: err.message }, 400);
        throw err;
      }
      return c.json(control!.view());
    },
  );
  return api;
}
