// The one place where the service reads its environment and command line. Everything else receives a
// typed Settings object, so tests can build one without touching process.env.
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Settings {
  http: ListenAddress | null;
  https: (ListenAddress & { certFile: string; keyFile: string }) | null;
  dataDir: string;
  rtpPorts: { min: number; max: number };
  janus: {
    /** `managed`: the service renders the config and runs Janus as its child (development, tests).
     *  `external`: systemd runs Janus; the service only connects to its socket (the appliance). */
    mode: 'managed' | 'external';
    /** Runtime folder with the rendered config and the API socket `api.sock`. */
    dir: string;
    /** Command prefix for a managed Janus, e.g. `ip netns exec <ns>` in tests. */
    wrapper: string[];
    eventLoops: number;
    debugLevel: number;
    iceIgnoreList: string;
    iceEnforceList: string;
    natMapping: string;
  };
  turn: TurnSettings;
  uiDir: string;
  /** Anyone who reaches the service may start an ad-hoc meeting (development); on the box only members. */
  openMeetings: boolean;
  /** Create (or reset) the development admin account and print its password on the console. */
  devAdmin: boolean;
  /** `debug` adds per-message traces (still without names, addresses or secrets). */
  logLevel: 'info' | 'debug';
  /** The update agent (appliance only): the root helper's request folder and the image's version file. */
  update?: { runDir: string; versionFile: string } | undefined;
}

export interface TurnSettings {
  /** `managed`: the service runs coturn as its child (development, tests); `external`: systemd runs it
   *  (the appliance); `off`: no TURN, participants get no ICE servers. */
  mode: 'managed' | 'external' | 'off';
  /** coturn's UDP/TCP port, also in the `turn:` URLs. */
  port: number;
  /** Where the TLS front reaches coturn's TCP listener. */
  host: string;
  secretFile: string;
  /** Lifetime of a participant's credential in seconds (coturn refuses refreshes after it). */
  ttlSeconds: number;
  relayPorts: { min: number; max: number };
  /** Managed mode: runtime folder for the rendered configuration. */
  dir: string;
  /** Managed mode: command prefix, e.g. `ip netns exec <ns>` in tests. */
  wrapper: string[];
  /** Managed mode: the only relay peers (the media server's addresses); empty: this host's addresses. */
  peers: string[];
  /** Managed mode: addresses coturn listens on; empty: all. */
  listen: string[];
  /** External mode: the privileged helper's socket, which restarts the TURN unit after a secret rotation. */
  helperSocket: string;
}

export interface SetupSettings {
  /** tmpfs folder for this boot's setup code (the console banner reads it there). */
  runtimeDir: string;
  /** ACME directory for certificates; a CA file when that directory has a private CA (tests). */
  acmeDirectory: string;
  acmeCaFile: string | null;
  /** Plain-HTTP listener for ACME challenges (port 80 behind the router's forward); null: none. */
  acmeHttp: ListenAddress | null;
  /** Resolvers the DNS check asks (`IP` or `IP:PORT`); null: the system's. */
  dnsServers: string[] | null;
  /** deSEC's API base URL (configurable so tests never contact the real one). */
  desecApi: string;
  /** The privileged helper's unix socket. */
  helperSocket: string;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

const HELP = `Usage: stube [options]
  --http HOST:PORT       plain HTTP (loopback only; browsers allow camera and microphone there)
  --https HOST:PORT      HTTPS, with --tls-cert FILE and --tls-key FILE
  --data DIR             data folder (secrets, configuration)      [STUBE_DATA_DIR]
  --rtp-ports MIN-MAX    UDP port range for media                  [STUBE_RTP_PORTS]
  --janus managed|external                                         [STUBE_JANUS]
  --janus-dir DIR        Janus runtime folder (config + socket)    [STUBE_JANUS_DIR]
Environment: STUBE_HTTP, STUBE_HTTPS, STUBE_TLS_CERT, STUBE_TLS_KEY, STUBE_LOG_LEVEL,
  STUBE_JANUS_WRAPPER, STUBE_EVENT_LOOPS, STUBE_ICE_IGNORE, STUBE_ICE_ENFORCE, STUBE_NAT_MAPPING,
  STUBE_TURN (managed|external|off), STUBE_TURN_PORT, STUBE_TURN_HOST, STUBE_TURN_SECRET_FILE, STUBE_TURN_TTL,
  STUBE_TURN_RELAY_PORTS, STUBE_TURN_DIR, STUBE_TURN_WRAPPER, STUBE_TURN_PEERS, STUBE_TURN_LISTEN,
  STUBE_UPDATE_RUN and STUBE_VERSION_FILE (the image's update agent)
Setup wizard: STUBE_RUNTIME_DIR, STUBE_ACME_DIRECTORY, STUBE_ACME_CA, STUBE_ACME_HTTP, STUBE_DNS_SERVERS,
  STUBE_DESEC_API, STUBE_HELPER_SOCKET`;

/** Interfaces Janus never offers as candidates (virtual machine and container bridges). */
export const DEFAULT_ICE_IGNORE = 'vmnet,docker';
/** Janus's log level: 3 (warnings). At 4 it prints the box's addresses, at 5+ participants' candidates. */
export const JANUS_DEBUG_LEVEL = 3;

/** One Janus event loop per core, up to Janus's sensible maximum. */
export function defaultEventLoops(): number {
  return Math.min(availableParallelism(), 64);
}

export function parseListen(value: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SettingsError(`${what}: expected HOST:PORT (e.g. 127.0.0.1:8080), got "${value}"`);
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new SettingsError(`${name}: expected 1 or 0`);
}

export function parsePortRange(value: string): { min: number; max: number } {
  const m = /^(\d{4,5})-(\d{4,5})$/.exec(value);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65535 || max - min < 1) {
    throw new SettingsError(`--rtp-ports: expected MIN-MAX within 1024-65535 with at least two ports, got "${value}"`);
  }
  return { min, max };
}

/** Parses `--flag value` / `--flag=value` pairs; unknown flags are an error, not silently ignored. */
function parseArgs(argv: readonly string[]): Map<string, string> {
  const known = new Set(['http', 'https', 'tls-cert', 'tls-key', 'data', 'rtp-ports', 'janus', 'janus-dir', 'help']);
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !known.has(m[1] ?? '')) throw new SettingsError(`unknown argument "${arg}"\n${HELP}`);
    const name = m[1] ?? '';
    if (name === 'help') throw new SettingsError(HELP);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new SettingsError(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

function projectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // appliance/config → root, or dist/appliance/config → root
  for (const up of ['../..', '../../..']) {
    const root = resolve(here, up);
    if (existsSync(join(root, 'package.json'))) return root;
  }
  return process.cwd();
}

export function loadSettings(argv: readonly string[], env: NodeJS.ProcessEnv): Settings {
  const args = parseArgs(argv);
  const get = (flag: string, envName: string): string | undefined => args.get(flag) ?? env[envName];
  const root = projectRoot();

  const httpsValue = get('https', 'STUBE_HTTPS');
  const httpValue = get('http', 'STUBE_HTTP') ?? (httpsValue ? undefined : '127.0.0.1:8080');
  const http = httpValue ? parseListen(httpValue, '--http') : null;
  if (http && !isLoopback(http.host)) {
    throw new SettingsError(
      `refusing plain HTTP on ${http.host}: browsers only allow camera and microphone over HTTPS or on loopback, ` +
        'and meeting traffic must not cross a network unencrypted. Use --https with --tls-cert/--tls-key, or a loopback address.',
    );
  }
  let https: Settings['https'] = null;
  if (httpsValue) {
    const certFile = get('tls-cert', 'STUBE_TLS_CERT');
    const keyFile = get('tls-key', 'STUBE_TLS_KEY');
    if (!certFile || !keyFile) throw new SettingsError('--https needs --tls-cert FILE and --tls-key FILE');
    https = { ...parseListen(httpsValue, '--https'), certFile, keyFile };
  }

  const dataDir = resolve(get('data', 'STUBE_DATA_DIR') ?? join(root, '.runtime', 'data'));
  const mode = get('janus', 'STUBE_JANUS') ?? 'managed';
  if (mode !== 'managed' && mode !== 'external') throw new SettingsError(`--janus: expected managed or external, got "${mode}"`);
  const janusDir = resolve(get('janus-dir', 'STUBE_JANUS_DIR') ?? join(root, '.runtime', 'janus'));
  if (join(janusDir, 'api.sock').length > 107) {
    throw new SettingsError(`--janus-dir: "${janusDir}" is too long for a unix socket path; choose a shorter folder`);
  }
  const eventLoops = Number(env.STUBE_EVENT_LOOPS ?? defaultEventLoops());
  if (!Number.isInteger(eventLoops) || eventLoops < 1 || eventLoops > 64) throw new SettingsError('STUBE_EVENT_LOOPS: expected 1-64');
  // Development (managed Janus) keeps meetings open and gets an admin account; the box (external) not.
  const openMeetings = flag(env.STUBE_OPEN_MEETINGS, 'STUBE_OPEN_MEETINGS') ?? mode === 'managed';
  const devAdmin = flag(env.STUBE_DEV_ADMIN, 'STUBE_DEV_ADMIN') ?? mode === 'managed';
  const logLevel = env.STUBE_LOG_LEVEL ?? 'info';
  if (logLevel !== 'info' && logLevel !== 'debug') throw new SettingsError('STUBE_LOG_LEVEL: expected info or debug');

  const turn = loadTurnSettings(env, dataDir, root);

  return {
    http,
    https,
    dataDir,
    rtpPorts: parsePortRange(get('rtp-ports', 'STUBE_RTP_PORTS') ?? '20000-20199'),
    janus: {
      mode,
      dir: janusDir,
      wrapper: (env.STUBE_JANUS_WRAPPER ?? '').split(' ').filter(Boolean),
      eventLoops,
      debugLevel: JANUS_DEBUG_LEVEL,
      iceIgnoreList: env.STUBE_ICE_IGNORE ?? DEFAULT_ICE_IGNORE,
      iceEnforceList: env.STUBE_ICE_ENFORCE ?? '',
      natMapping: env.STUBE_NAT_MAPPING ?? '',
    },
    turn,
    uiDir: join(root, 'dist', 'ui'),
    openMeetings,
    devAdmin,
    logLevel,
    ...(env.STUBE_UPDATE_RUN && env.STUBE_VERSION_FILE ? { update: { runDir: env.STUBE_UPDATE_RUN, versionFile: env.STUBE_VERSION_FILE } } : {}),
  };
}

/** Default: external when the environment names a secret file (the appliance's unit does), else off. */
function loadTurnSettings(env: NodeJS.ProcessEnv, dataDir: string, root: string): TurnSettings {
  const mode = env.STUBE_TURN ?? (env.STUBE_TURN_SECRET_FILE ? 'external' : 'off');
  if (mode !== 'managed' && mode !== 'external' && mode !== 'off') throw new SettingsError(`STUBE_TURN: expected managed, external or off, got "${mode}"`);
  const port = Number(env.STUBE_TURN_PORT ?? 3478);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SettingsError('STUBE_TURN_PORT: expected a port number');
  const host = env.STUBE_TURN_HOST ?? '127.0.0.1';
  if (isIP(host) === 0) throw new SettingsError('STUBE_TURN_HOST: expected an IP address');
  const ttlSeconds = Number(env.STUBE_TURN_TTL ?? 8 * 3600);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 86_400) throw new SettingsError('STUBE_TURN_TTL: expected 60-86400 seconds');
  const relay = /^(\d{4,5})-(\d{4,5})$/.exec(env.STUBE_TURN_RELAY_PORTS ?? '40000-40199');
  const relayPorts = { min: Number(relay?.[1]), max: Number(relay?.[2]) };
  if (!relay || relayPorts.min < 1024 || relayPorts.max > 65535 || relayPorts.max - relayPorts.min < 1) {
    throw new SettingsError('STUBE_TURN_RELAY_PORTS: expected MIN-MAX within 1024-65535');
  }
  const peers = (env.STUBE_TURN_PEERS ?? '').split(',').filter(Boolean);
  if (peers.some((p) => isIP(p) === 0)) throw new SettingsError('STUBE_TURN_PEERS: expected IP addresses separated by commas');
  const listen = (env.STUBE_TURN_LISTEN ?? '').split(',').filter(Boolean);
  if (listen.some((p) => isIP(p) === 0)) throw new SettingsError('STUBE_TURN_LISTEN: expected IP addresses separated by commas');
  return {
    mode,
    port,
    host,
    secretFile: resolve(env.STUBE_TURN_SECRET_FILE ?? join(dataDir, 'secrets', 'turn-static-auth-secret')),
    ttlSeconds,
    relayPorts,
    dir: resolve(env.STUBE_TURN_DIR ?? join(root, '.runtime', 'coturn')),
    wrapper: (env.STUBE_TURN_WRAPPER ?? '').split(' ').filter(Boolean),
    peers,
    listen,
    helperSocket: resolve(env.STUBE_HELPER_SOCKET ?? '/run/stube-system/system.sock'),
  };
}

/** The setup wizard's settings from the environment (main.ts reads them only while setup is not done,
 *  so a finished box is not refused for a setting it no longer uses). Plain HTTP is allowed here on any address: that
 *  listener only answers ACME challenges and redirects everything else to HTTPS. */
export function loadSetupSettings(env: NodeJS.ProcessEnv): SetupSettings {
  const dns = env.STUBE_DNS_SERVERS?.split(',').map((x) => x.trim()).filter(Boolean) ?? null;
  for (const d of dns ?? []) {
    const host = d.replace(/:\d{1,5}$/, '').replace(/^\[|\]$/g, '');
    if (!isIP(host)) throw new SettingsError(`STUBE_DNS_SERVERS: expected IP or IP:PORT entries, got "${d}"`);
  }
  const url = (name: string, value: string): string => {
    try {
      const u = new URL(value);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      return value;
    } catch {
      throw new SettingsError(`${name}: expected an http(s) URL, got "${value}"`);
    }
  };
  return {
    runtimeDir: resolve(env.STUBE_RUNTIME_DIR ?? '/run/stube'),
    acmeDirectory: url('STUBE_ACME_DIRECTORY', env.STUBE_ACME_DIRECTORY ?? 'https://acme-v02.api.letsencrypt.org/directory'),
    acmeCaFile: env.STUBE_ACME_CA ? resolve(env.STUBE_ACME_CA) : null,
    acmeHttp: env.STUBE_ACME_HTTP ? parseListen(env.STUBE_ACME_HTTP, 'STUBE_ACME_HTTP') : null,
    dnsServers: dns && dns.length > 0 ? dns : null,
    desecApi: url('STUBE_DESEC_API', env.STUBE_DESEC_API ?? 'https://desec.io/api/v1'),
    helperSocket: resolve(env.STUBE_HELPER_SOCKET ?? '/run/stube-system/system.sock'),
  };
}
