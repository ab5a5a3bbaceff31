// The privileged helper: a small root process listening on a unix socket that only the service's group
// may open (the socket's mode is the access control). Each line is one request; each request is checked
// against the allow-list in operations.ts and answered on the same connection.
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, rm } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import { RefusedError, runOperation, type SystemContext } from './operations.js';
import { MAX_LINE_BYTES, type HelperResponse } from './protocol.js';

export interface HelperOptions {
  socketPath: string;
  /** Group that may connect (the service's); null leaves the owner's group. */
  gid: number | null;
  ctx: SystemContext;
  log: Logger;
}

export async function startHelper(opts: HelperOptions): Promise<{ close(): Promise<void> }> {
  await rm(opts.socketPath, { force: true });
  const server: Server = createServer((sock) => serve(sock, opts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => resolve());
  });
  await chmod(opts.socketPath, 0o660);
  if (opts.gid !== null) await chown(opts.socketPath, 0, opts.gid);
  opts.log.info('privileged helper listening');
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

function serve(sock: Socket, opts: HelperOptions): void {
  let buf = '';
  // One request at a time per connection: privileged work is never interleaved.
  let chain = Promise.resolve();
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_LINE_BYTES) {
      opts.log.warn('privileged request too large; connection closed');
      sock.destroy();
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      chain = chain.then(() => handle(line, sock, opts));
    }
  });
  sock.on('error', (err) => opts.log.debug('helper connection error', { err: describeError(err) }));
}

async function handle(line: string, sock: Socket, opts: HelperOptions): Promise<void> {
  let id = 0;
  let res: HelperResponse;
  try {
    const req = JSON.parse(line) as { id?: unknown; op?: unknown; args?: unknown };
    if (typeof req !== 'object' || req === null || !Number.isInteger(req.id)) throw new RefusedError('malformed request');
    id = req.id as number;
    await runOperation(req.op, req.args, opts.ctx);
    opts.log.info('privileged operation done', { op: String(req.op) });
    res = { id, ok: true };
  } catch (err) {
    const refused = err instanceof RefusedError || err instanceof SyntaxError;
    opts.log.warn(refused ? 'privileged operation refused' : 'privileged operation failed', { err: describeError(err) });
    res = { id, ok: false, refused, error: err instanceof Error ? err.message.slice(0, 300) : 'failed' };
  }
  if (!sock.destroyed) sock.write(JSON.stringify(res) + '\n');
}
