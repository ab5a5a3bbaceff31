// The service's side of the privileged helper: typed calls, one connection per call (rare operations;
// no state to keep in step).
import { createConnection } from 'node:net';
import type { OperationArgs, OperationName } from './operations.js';
import type { HelperResponse } from './protocol.js';

export class HelperError extends Error {
  override readonly name = 'HelperError';
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}

export interface PrivilegedClient {
  call<K extends OperationName>(op: K, args: OperationArgs[K]): Promise<void>;
}

export function helperClient(socketPath: string, timeoutMs = 60_000): PrivilegedClient {
  let next = 1;
  return {
    call(op, args) {
      const id = next++;
      return new Promise<void>((resolve, reject) => {
        const sock = createConnection(socketPath);
        let buf = '';
        const timer = setTimeout(() => {
          sock.destroy();
          reject(new HelperError(`${op}: no answer from the privileged helper`, false));
        }, timeoutMs);
        sock.setEncoding('utf8');
        sock.on('connect', () => sock.write(JSON.stringify({ id, op, args }) + '\n'));
        sock.on('data', (chunk: string) => {
          buf += chunk;
          const nl = buf.indexOf('\n');
          if (nl < 0) return;
          clearTimeout(timer);
          sock.end();
          try {
            const res = JSON.parse(buf.slice(0, nl)) as HelperResponse;
            if (res.ok) resolve();
            else reject(new HelperError(res.error, res.refused));
          } catch {
            reject(new HelperError(`${op}: unreadable answer`, false));
          }
        });
        sock.on('error', (err) => {
          clearTimeout(timer);
          reject(new HelperError(`${op}: privileged helper unreachable (${err.name})`, false));
        });
      });
    },
  };
}
