import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JanusConfigError,
  loadOrCreateSecrets,
  renderJanusConfig,
  writeJanusConfig,
  type JanusConfigInput,
} from '../../appliance/media/janus-config.js';

/** libconfig as our templates use it: flat `section: { key = value }` blocks, `#` comments. */
function parseSections(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const open = /^([A-Za-z0-9_.-]+)\s*:\s*\{$/.exec(line);
    if (open) {
      current = new Map();
      sections.set(open[1] ?? '', current);
      continue;
    }
    if (line === '}') {
      current = null;
      continue;
    }
    const setting = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (!setting || !current) throw new Error(`unexpected line in rendered config: ${raw}`);
    current.set(setting[1] ?? '', setting[2] ?? '');
  }
  return sections;
}

const API_SECRET = 'api_' + 'A'.repeat(40);
const ADMIN_SECRET = 'adm_' + 'B'.repeat(40);
const ADMIN_KEY = 'key_' + 'C'.repeat(40);

let work: string;
let libDir: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'stube-jcfg-'));
  // A fake Janus installation with more modules than we load, so that "only ours" can fail.
  libDir = join(work, 'janus-lib');
  for (const rel of [
    'plugins/libjanus_videoroom.so',
    'plugins/libjanus_echotest.so',
    'transports/libjanus_websockets.so',
    'transports/libjanus_http.so',
    'events/libjanus_sampleevh.so',
  ]) {
    await mkdir(join(libDir, rel, '..'), { recursive: true });
    await writeFile(join(libDir, rel), '');
  }
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function validInput(overrides: Partial<JanusConfigInput> = {}): JanusConfigInput {
  const configDir = join(work, 'conf');
  return {
    configDir,
    socketPath: join(configDir, 'api.sock'),
    rtpPortMin: 20000,
    rtpPortMax: 20199,
    eventLoops: 2,
    debugLevel: 3,
    apiSecret: API_SECRET,
    adminSecret: ADMIN_SECRET,
    adminKey: ADMIN_KEY,
    iceIgnoreList: 'vmnet,docker',
    iceEnforceList: '',
    natMapping: '',
    ...overrides,
  };
}

/** Sync throws and rejections alike become a rejection, so tests do not depend on which one it is. */
async function attempt(input: JanusConfigInput): Promise<Map<string, string>> {
  return renderJanusConfig(input);
}

async function render(overrides: Partial<JanusConfigInput> = {}): Promise<Map<string, Map<string, Map<string, string>>>> {
  const files = await renderJanusConfig(validInput(overrides));
  return new Map([...files].map(([name, text]) => [name, parseSections(text)]));
}

/** Every file and symlink under `dir`, as relative paths. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('renderJanusConfig', () => {
  it('renders exactly the core, VideoRoom and WebSocket files (no HTTP transport)', async () => {
    const files = await renderJanusConfig(validInput());
    expect([...files.keys()].sort()).toEqual(['janus.jcfg', 'janus.plugin.videoroom.jcfg', 'janus.transport.websockets.jcfg']);
    for (const text of files.values()) {
      // ejs renders a missing value as an empty string; every quoted value here must be filled.
      expect(text).not.toContain('""');
      expect(text).not.toMatch(/undefined|null/);
    }
  });

  it('puts our secrets in janus.jcfg and none of Janus\'s default ones', async () => {
    const files = await renderJanusConfig(validInput());
    const core = parseSections(files.get('janus.jcfg') ?? '');
    const general = core.get('general');
    expect(general?.get('api_secret')).toBe(`"${API_SECRET}"`);
    expect(general?.get('admin_secret')).toBe(`"${ADMIN_SECRET}"`);
    expect(general?.get('configs_folder')).toBe(`"${join(work, 'conf')}"`);
    expect(general?.get('plugins_folder')).toBe(`"${join(work, 'conf', 'lib', 'plugins')}"`);
    expect(general?.get('transports_folder')).toBe(`"${join(work, 'conf', 'lib', 'transports')}"`);
    expect(general?.get('debug_level')).toBe('3');
    expect(general?.get('event_loops')).toBe('2');
    expect(core.get('media')?.get('rtp_port_range')).toBe('"20000-20199"');
    const all = [...files.values()].join('\n');
    expect(all).not.toContain('janusoverlord');
    expect(all).not.toContain('janusrocks');
    expect(all).not.toContain('supersecret');
  });

  it('configures VideoRoom with the admin key, locked RTP forwarding and no rooms', async () => {
    const files = await renderJanusConfig(validInput());
    const text = files.get('janus.plugin.videoroom.jcfg') ?? '';
    const sections = parseSections(text);
    expect([...sections.keys()]).toEqual(['general']);
    expect(sections.get('general')?.get('admin_key')).toBe(`"${ADMIN_KEY}"`);
    expect(sections.get('general')?.get('lock_rtp_forward')).toBe('true');
    expect(text).not.toMatch(/room-/);
    expect(text).not.toContain('Demo Room');
    expect(text).not.toContain('adminpwd');
  });

  it('listens for the API on the unix socket only, with no admin WebSocket', async () => {
    const ws = (await render()).get('janus.transport.websockets.jcfg');
    const general = ws?.get('general');
    expect(general?.get('ws')).toBe('true');
    expect(general?.get('ws_unix')).toBe(`"${join(work, 'conf', 'api.sock')}"`);
    expect(general?.get('wss')).toBe('false');
    expect(general?.has('ws_port')).toBe(false);
    expect(general?.has('ws_interface')).toBe(false);
    const admin = ws?.get('admin');
    expect(admin?.get('admin_ws')).toBe('false');
    expect(admin?.get('admin_wss')).toBe('false');
    expect(admin?.has('admin_ws_port')).toBe(false);
    expect(admin?.has('admin_ws_unix')).toBe(false);
  });

  it('uses the ignore list only when no enforce list is given', async () => {
    const withoutEnforce = (await render({ iceEnforceList: '' })).get('janus.jcfg')?.get('nat');
    expect(withoutEnforce?.get('ice_ignore_list')).toBe('"vmnet,docker"');
    expect(withoutEnforce?.has('ice_enforce_list')).toBe(false);

    const withEnforce = (await render({ iceEnforceList: 'eth0,192.168.1.' })).get('janus.jcfg')?.get('nat');
    expect(withEnforce?.get('ice_enforce_list')).toBe('"eth0,192.168.1."');
    expect(withEnforce?.has('ice_ignore_list')).toBe(false);
  });

  it('adds the 1:1 NAT mapping only when a public address is given', async () => {
    const none = (await render({ natMapping: '' })).get('janus.jcfg')?.get('nat');
    expect(none?.has('nat_1_1_mapping')).toBe(false);
    const mapped = (await render({ natMapping: '203.0.113.7' })).get('janus.jcfg')?.get('nat');
    expect(mapped?.get('nat_1_1_mapping')).toBe('"203.0.113.7"');
    expect(mapped?.get('keep_private_host')).toBe('true');
  });

  it('accepts a socket path of exactly 107 bytes', async () => {
    const socketPath = '/tmp/' + 's'.repeat(102);
    expect(socketPath).toHaveLength(107);
    await expect(renderJanusConfig(validInput({ socketPath }))).resolves.toBeInstanceOf(Map);
  });

  const invalid: [string, Partial<JanusConfigInput>][] = [
    ['a secret with a quote', { apiSecret: 'x'.repeat(40) + '"' }],
    ['a secret with a newline', { adminKey: 'x'.repeat(40) + '\nadmin_key = "x"' }],
    ['a secret that is too short', { adminSecret: 'short' }],
    ['a relative config folder', { configDir: 'janus/conf' }],
    ['a relative socket path', { socketPath: 'api.sock' }],
    ['a path with a quote', { configDir: '/tmp/a"b' }],
    ['a reversed RTP port range', { rtpPortMin: 20199, rtpPortMax: 20000 }],
    ['an RTP range of one port', { rtpPortMin: 20000, rtpPortMax: 20000 }],
    ['a privileged RTP port', { rtpPortMin: 80 }],
    ['a socket path over 107 bytes', { socketPath: '/tmp/' + 's'.repeat(103) }],
    ['a NAT mapping with letters outside hex', { natMapping: 'example.org' }],
    ['an interface list with a space', { iceIgnoreList: 'eth0, wlan0' }],
    ['a debug level above 7', { debugLevel: 8 }],
  ];
  it.each(invalid)('refuses %s', async (_what, overrides) => {
    await expect(attempt(validInput(overrides))).rejects.toBeInstanceOf(JanusConfigError);
  });

  it('refuses unknown input fields', async () => {
    const input = { ...validInput(), extra: 'x' } as JanusConfigInput;
    await expect(attempt(input)).rejects.toBeInstanceOf(JanusConfigError);
  });
});

describe('writeJanusConfig', () => {
  it('writes the rendered files (mode 0600) and links only our two modules', async () => {
    const input = validInput();
    await writeJanusConfig(input, libDir);
    const tree = await listTree(input.configDir);
    expect(tree).toEqual([
      'janus.jcfg',
      'janus.plugin.videoroom.jcfg',
      'janus.transport.websockets.jcfg',
      'lib/plugins/libjanus_videoroom.so',
      'lib/transports/libjanus_websockets.so',
    ]);
    expect(await readlink(join(input.configDir, 'lib/plugins/libjanus_videoroom.so'))).toBe(join(libDir, 'plugins/libjanus_videoroom.so'));
    expect(await readlink(join(input.configDir, 'lib/transports/libjanus_websockets.so'))).toBe(join(libDir, 'transports/libjanus_websockets.so'));
    // The folders Janus is pointed at exist, empty, so it loads nothing from elsewhere.
    expect(await readdir(join(input.configDir, 'lib/events'))).toEqual([]);
    expect(await readdir(join(input.configDir, 'lib/loggers'))).toEqual([]);
    for (const name of ['janus.jcfg', 'janus.plugin.videoroom.jcfg', 'janus.transport.websockets.jcfg']) {
      expect((await stat(join(input.configDir, name))).mode & 0o777).toBe(0o600);
    }
    expect(await readFile(join(input.configDir, 'janus.jcfg'), 'utf8')).toContain(API_SECRET);
  });

  it('removes stale .jcfg files and old module links, and keeps other files', async () => {
    const input = validInput();
    await mkdir(join(input.configDir, 'lib', 'plugins'), { recursive: true });
    await writeFile(join(input.configDir, 'janus.transport.http.jcfg'), 'general: { http = true }\n');
    await writeFile(join(input.configDir, 'janus.plugin.echotest.jcfg'), '');
    await writeFile(join(input.configDir, 'lib', 'plugins', 'libjanus_echotest.so'), '');
    await writeFile(join(input.configDir, 'notes.txt'), 'kept');
    await writeJanusConfig(input, libDir);
    expect(await listTree(input.configDir)).toEqual([
      'janus.jcfg',
      'janus.plugin.videoroom.jcfg',
      'janus.transport.websockets.jcfg',
      'lib/plugins/libjanus_videoroom.so',
      'lib/transports/libjanus_websockets.so',
      'notes.txt',
    ]);
  });

  it('writes nothing when the input is invalid', async () => {
    const fresh = validInput({ rtpPortMin: 30000, rtpPortMax: 20000 });
    await expect(writeJanusConfig(fresh, libDir)).rejects.toBeInstanceOf(JanusConfigError);
    expect(existsSync(fresh.configDir)).toBe(false);

    // An earlier, valid configuration stays as it was.
    await writeJanusConfig(validInput(), libDir);
    const before = await readFile(join(fresh.configDir, 'janus.jcfg'), 'utf8');
    await expect(writeJanusConfig(validInput({ apiSecret: 'x'.repeat(40) + '"' }), libDir)).rejects.toBeInstanceOf(JanusConfigError);
    expect(await readFile(join(fresh.configDir, 'janus.jcfg'), 'utf8')).toBe(before);
    expect(await listTree(fresh.configDir)).toContain('lib/plugins/libjanus_videoroom.so');
  });
});

describe('loadOrCreateSecrets', () => {
  it('creates a 0600 file once and returns the same secrets afterwards', async () => {
    const dataDir = join(work, 'data');
    const first = await loadOrCreateSecrets(dataDir);
    const file = join(dataDir, 'secrets', 'janus.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'secrets'))).mode & 0o777).toBe(0o700);
    for (const secret of [first.apiSecret, first.adminSecret, first.adminKey]) expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([first.apiSecret, first.adminSecret, first.adminKey]).size).toBe(3);

    const second = await loadOrCreateSecrets(dataDir);
    expect(second).toEqual(first);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first);
  });

  it('generates different secrets for different boxes', async () => {
    const a = await loadOrCreateSecrets(join(work, 'a'));
    const b = await loadOrCreateSecrets(join(work, 'b'));
    expect(a.apiSecret).not.toBe(b.apiSecret);
  });

  it.each([
    ['a secret that is too short', JSON.stringify({ apiSecret: 'short', adminSecret: 'x'.repeat(43), adminKey: 'x'.repeat(43) })],
    ['a missing secret', JSON.stringify({ apiSecret: 'x'.repeat(43), adminSecret: 'x'.repeat(43) })],
    ['an extra field', JSON.stringify({ apiSecret: 'x'.repeat(43), adminSecret: 'x'.repeat(43), adminKey: 'x'.repeat(43), more: 1 })],
    ['a secret with a quote', JSON.stringify({ apiSecret: 'x'.repeat(43) + '"', adminSecret: 'x'.repeat(43), adminKey: 'x'.repeat(43) })],
  ])('refuses a damaged file: %s', async (_what, body) => {
    const dataDir = join(work, 'data');
    await mkdir(join(dataDir, 'secrets'), { recursive: true });
    await writeFile(join(dataDir, 'secrets', 'janus.json'), body);
    await expect(loadOrCreateSecrets(dataDir)).rejects.toBeInstanceOf(JanusConfigError);
    // The damaged file is left for a person to look at, not silently replaced.
    expect(await readFile(join(dataDir, 'secrets', 'janus.json'), 'utf8')).toBe(body);
  });

  it('refuses a file that is not JSON', async () => {
    const dataDir = join(work, 'data');
    await mkdir(join(dataDir, 'secrets'), { recursive: true });
    await writeFile(join(dataDir, 'secrets', 'janus.json'), '{"apiSecret": "abc');
    await expect(loadOrCreateSecrets(dataDir)).rejects.toThrow();
  });
});
