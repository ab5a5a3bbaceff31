// Entry point of the privileged helper (runs as root under systemd: stube-system.service). Reads its
// socket path and group from the environment; paths of the files it may write are fixed here.
import { execFile } from 'node:child_process';
import { open, rename, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../log.js';
import { startHelper } from './helper.js';
import type { SystemContext } from './operations.js';
import { createInstallHost } from '../install/host.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Writes through a temporary file and a rename. The file takes the owner of its folder: the
 * certificate folder belongs to the service user, who must read the key it serves.
 */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const folder = await stat(dirname(path));
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.chown(folder.uid, folder.gid);
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

const log = createLogger({ level: process.env.STUBE_LOG_LEVEL === 'debug' ? 'debug' : 'info', scope: 'system' });

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
  turnRelay: turnRelayFacts(process.env.STUBE_TURN_USER ?? 'stube-turn', process.env.STUBE_TURN_RELAY_PORTS ?? '40000-40199'),
  installer: createInstallHost({
    progressFile: process.env.STUBE_INSTALL_PROGRESS ?? '/run/stube/install-progress.json',
    dataDir: process.env.STUBE_DATA_DIR ?? '/var/lib/stube',
    log: log.child('install'),
  }),
};

/** The image's unit sets these from the image config; a malformed value stops the helper at start. */
function turnRelayFacts(user: string, ports: string): SystemContext['turnRelay'] {
  const m = /^(\d{4,5})-(\d{4,5})$/.exec(ports);
  if (!m || !/^[a-z][a-z0-9-]{0,31}$/.test(user)) throw new Error('STUBE_TURN_USER / STUBE_TURN_RELAY_PORTS malformed');
  return { user, first: Number(m[1]), last: Number(m[2]) };
}

const gid = process.env.STUBE_HELPER_GID ? Number(process.env.STUBE_HELPER_GID) : null;
const helper = await startHelper({ socketPath: process.env.STUBE_HELPER_SOCKET ?? '/run/stube/system.sock', gid, ctx, log });
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void helper.close().then(() => process.exit(0)));
