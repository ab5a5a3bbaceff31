// Every system file the image gets, rendered from templates/ for the default configuration and compared
// with the golden copies in test/image/golden/. After an intended change: UPDATE_GOLDEN=1 npx vitest run
// --project unit test/unit/image-templates.test.ts, then read the diff.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../image/config/load.js';
import { applianceFacts, bootEntryName, serviceEnvironment, systemFiles } from '../../image/plan/files.js';
import { planPartitions } from '../../image/plan/partitions.js';
import { renderTemplate } from '../../image/templates.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const templates = join(repo, 'templates');
const golden = join(repo, 'test/image/golden');
const config = loadConfig(join(repo, 'image/configs/debian-13-amd64.json'));
const facts = applianceFacts(config, '0.1.0');
const files = systemFiles(config, facts, planPartitions(config.partitions, 'stube-0.1.0'));

describe('system templates', () => {
  it.each(files.map((f) => [`${f.target}${f.path}`, f] as const))('%s matches its golden copy', (name, file) => {
    const text = renderTemplate(templates, file.template, file.data);
    expect(text).not.toMatch(/undefined|\[object Object\]|NaN/);
    const goldenFile = join(golden, name);
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(goldenFile)) {
      mkdirSync(dirname(goldenFile), { recursive: true });
      writeFileSync(goldenFile, text);
    }
    expect(text).toBe(readFileSync(goldenFile, 'utf8'));
  });

  it('gives a boot the configured time to pass the self-test join before it uses up a try', () => {
    const short = systemFiles({ ...config, healthTimeoutSeconds: 90 }, facts, planPartitions(config.partitions, 'stube-0.1.0'));
    const unit = short.find((f) => f.path.endsWith('/stube-healthy.service'));
    expect(unit).toBeDefined();
    const text = renderTemplate(templates, unit!.template, unit!.data);
    expect(text).toMatch(/--retry-max-time 90 https:\/\/127\.0\.0\.1:443\/healthz\/join$/m);
  });

  it('uses every template under templates/ (except the service-owned janus/)', () => {
    const used = new Set(files.map((f) => f.template));
    const all: string[] = [];
    for (const area of readdirSync(templates)) {
      if (area === 'janus') continue;
      for (const f of readdirSync(join(templates, area))) if (f.endsWith('.ejs')) all.push(`${area}/${f.slice(0, -4)}`);
    }
    expect(all.sort()).toEqual([...used].sort());
  });

  it.each([...new Set(files.map((f) => f.template))])('%s refuses a missing field and an unknown one', (template) => {
    const file = files.find((f) => f.template === template);
    if (!file) throw new Error('no file');
    const schema = JSON.parse(readFileSync(join(templates, `${template}.schema.json`), 'utf8')) as { required?: string[] };
    for (const field of schema.required ?? []) {
      const { [field]: _dropped, ...rest } = file.data;
      expect(() => renderTemplate(templates, template, rest), field).toThrow(/invalid input/);
    }
    expect(() => renderTemplate(templates, template, { ...file.data, surprise: 1 })).toThrow(/invalid input.*surprise/);
  });

  it('refuses values that would break the file they land in', () => {
    const unit = files.find((f) => f.template === 'systemd/stube.service');
    if (!unit) throw new Error('no unit');
    const env = { ...(unit.data['environment'] as Record<string, string>), STUBE_DATA_DIR: '/x\nExecStartPre=/bin/evil' };
    expect(() => renderTemplate(templates, 'systemd/stube.service', { ...unit.data, environment: env })).toThrow(/invalid input/);
    expect(() => renderTemplate(templates, 'console/hostname', { hostname: 'Stube Box' })).toThrow(/invalid input/);
  });

  it('gives the service the environment of the contract', () => {
    const env = serviceEnvironment(facts);
    expect(env).toMatchObject({
      STUBE_DATA_DIR: '/var/lib/stube',
      STUBE_HTTPS: '0.0.0.0:443',
      STUBE_TLS_CERT: '/var/lib/stube/tls/cert.pem',
      STUBE_TLS_KEY: '/var/lib/stube/tls/key.pem',
      STUBE_RTP_PORTS: '20000-20199',
      STUBE_JANUS: 'external',
      STUBE_JANUS_DIR: '/run/stube/janus',
    });
    expect(env).not.toHaveProperty('STUBE_HTTP');
  });

  it('starts slot A with a boot counter and the partition it boots from', () => {
    const entry = files.find((f) => f.template === 'boot/entry.conf');
    expect(entry?.path).toBe(`/loader/entries/${bootEntryName('stube', '0.1.0', 3)}`);
    // systemd-sysupdate's naming: <name>_<version>+<tries left>.conf
    expect(entry?.path).toBe('/loader/entries/stube_0.1.0+3.conf');
    const text = renderTemplate(templates, 'boot/entry.conf', entry?.data ?? {});
    expect(text).toMatch(/^options +root=PARTUUID=[0-9a-f-]{36} ro /m);
  });

  it('puts no secret into any rendered file', () => {
    for (const f of files) {
      const text = renderTemplate(templates, f.template, f.data);
      expect(text, f.path).not.toMatch(/^\s*(static-auth-secret|admin_secret|api_secret|secret)\s*=/m);
      expect(text, f.path).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    }
  });
});
