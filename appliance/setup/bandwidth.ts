// Throughput and latency between a browser and the box, measured by the browser (no third party):
// download a given number of bytes, upload a body and have it counted, and an empty ping. Mounted in the
// wizard (LAN, behind its gate) and in the outside check (from the internet, with a shared rate limit
// so the box cannot be used to burn the line).
import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { TokenBucket } from '../meeting/rate.js';

export const MAX_TRANSFER_BYTES = 25 * 1024 * 1024;
/** Incompressible bytes, made once; responses repeat them. */
const CHUNK = randomBytes(256 * 1024);

export function bandwidthRoutes(limit: TokenBucket | null): Hono {
  const app = new Hono();
  const allowed = (): boolean => limit === null || limit.take();

  app.get('/ping', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.body(null, 204);
  });

  app.get('/down', (c) => {
    const n = Number(c.req.query('bytes') ?? '0');
    if (!Number.isInteger(n) || n < 1 || n > MAX_TRANSFER_BYTES) return c.json({ error: `bytes must be 1–${MAX_TRANSFER_BYTES}` }, 400);
    if (!allowed()) return c.json({ error: 'too many measurements; try again in a minute', code: 'rateLimited' }, 429);
    let left = n;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (left <= 0) return ctrl.close();
        const part = CHUNK.subarray(0, Math.min(left, CHUNK.length));
        left -= part.length;
        ctrl.enqueue(new Uint8Array(part));
      },
    });
    c.header('Cache-Control', 'no-store');
    c.header('Content-Type', 'application/octet-stream');
    c.header('Content-Length', String(n));
    return c.body(stream);
  });

  app.post('/up', async (c) => {
    if (!allowed()) return c.json({ error: 'too many measurements; try again in a minute', code: 'rateLimited' }, 429);
    const reader = c.req.raw.body?.getReader();
    let bytes = 0;
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > MAX_TRANSFER_BYTES) {
          await reader.cancel();
          return c.json({ error: 'upload too large', code: 'tooLarge' }, 413);
        }
      }
    }
    c.header('Cache-Control', 'no-store');
    return c.json({ bytes });
  });
  return app;
}
