// Entry point of the privileged helper (runs as root under systemd: stube-system.service). Reads its
// socket path and group from the environment; paths of the files it may write are fixed here.
import { execFile } from 'node:child_process';
import { open, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../log.js';
import { startHelper } from './helper.js';
import type { SystemContext } from './operations.js';

const here = dirname(fileURLToPath(import.meta.url));

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

const ctx: SystemContext = {
  exec: (argv) =>
    new Promise((res, rej) => {
      const [cmd, ...args] = argv;
      if (!cmd) return rej(new Error('empty command'));
      execFile(cmd, args, { timeout: 60_000 }, (err) => (err ? rej(err) : res()));
    }),
  writeFile: writeAtomic,
  paths: {
    tlsDir: process.env.STUBE_TLS_DIR ?? '/var/lib/stube/tls',
    nftablesConf: '/etc/nftables.conf',
    templatesDir: process.env.STUBE_TEMPLATES_DIR ?? resolve(here, '../../../templates'),
  },
};

const gid = process.env.STUBE_HELPER_GID ? Number(process.env.STUBE_HELPER_GID) : null;
const log = createLogger({ level: process.env.STUBE_LOG_LEVEL === 'debug' ? 'debug' : 'info', scope: 'system' });
const helper = await startHelper({ socketPath: process.env.STUBE_HELPER_SOCKET ?? '/run/stube/system.sock', gid, ctx, log });
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void helper.close().then(() => process.exit(0)));
