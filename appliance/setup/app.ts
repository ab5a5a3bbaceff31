// The wizard's HTTP routes (mounted by the service while setup is not done). Every route under
// /setup/api answers only senders in the home network; all but /session need the session a correct
// setup code opened. After `done`, the API answers 404 and the page redirects to /admin.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { bodyLimit } from 'hono/body-limit';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { writeFileDurable } from '../config/durable.js';
import type { PrivilegedClient } from '../system/client.js';
import type { AdminAccounts } from './accounts.js';
import { isLocalSender } from './addresses.js';
import { codesEqual, AttemptLimiter, removeBootCode } from './code.js';
import { estimateCapacity } from './capacity.js';
import { assessHardware, overall, type HardwareReport } from './hardware.js';
import { requiredForwards, type BoxPorts, type Forward } from './forwards.js';
import type { RouterSession } from './router.js';
import { checkARecord } from './dns.js';
import { desecUpdateRequest, sendDdns, DdnsError } from './ddns.js';
import { ChallengeStore, issueCertificate, AcmeError } from './acme.js';
import { passwordProblems } from './password.js';
import { checkStep, InputError } from './schemas.js';
import { publicIpFromRouter, writeSetupConfig, type SetupConfig } from './config.js';
import { emptyProgress, SetupSessions, type WizardProgress } from './wizard.js';
import { bandwidthRoutes } from './bandwidth.js';
import { TokenBucket } from '../meeting/rate.js';
import { installRoutes, type InstallRouteDeps } from './install.js';

export interface SetupOptions {
  /** Runtime folder holding this boot's code (tmpfs on the box). */
  runtimeDir: string;
  dataDir: string;
  /** This boot's setup code (normalised), from createBootCode(). */
  code: string;
  ports: BoxPorts;
  acme: { directoryUrl: string; caFile: string | null };
  /** Resolvers to ask whether the name points at the box; null: the system's. */
  dnsServers: string[] | null;
  desecApi: string;
}

export interface SetupDeps {
  opts: SetupOptions;
  accounts: AdminAccounts;
  system: PrivilegedClient;
  log: Logger;
  /** The sender's address, as the socket reports it (tests pass their own). */
  clientAddress: (c: Context) => string | undefined;
  readHardware: () => Promise<HardwareReport>;
  openRouter: (forwards: Forward[], map: boolean) => Promise<RouterSession>;
  challenges: ChallengeStore;
  /** Called after the certificate files were written: the service loads them (HTTPS with the new name). */
  onCertificate: () => Promise<void>;
  /** Called once the configuration is written: the service switches to the new certificate (HTTPS). */
  onDone: (config: SetupConfig) => Promise<void>;
  /** Whether setup was completed (at start: setup.json exists). */
  done: boolean;
  /** The install step (onto the internal disk); absent: the step answers 404 and the wizard skips it. */
  install?: Pick<InstallRouteDeps, 'progressFile' | 'readChoice' | 'carried'>;
}

export interface SetupApp {
  app: Hono;
  isDone(): boolean;
  close(): Promise<void>;
}

class StepError extends Error {
  constructor(
    readonly status: 400 | 403 | 409 | 422 | 429 | 502,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function createSetupApp(deps: SetupDeps): SetupApp {
  const { opts, log } = deps;
  const app = new Hono();
  const sessions = new SetupSessions();
  const limiter = new AttemptLimiter();
  let progress: WizardProgress = emptyProgress();
  let router: RouterSession | null = null;
  let done = deps.done;
  let busy = false;

  const json = bodyLimit({ maxSize: 8 * 1024, onError: (c) => c.json({ error: 'request body too large', code: 'tooLarge' }, 413) });

  const gate: MiddlewareHandler = async (c, next) => {
    if (done) return c.json({ error: 'not found' }, 404);
    const addr = deps.clientAddress(c);
    if (!addr || !isLocalSender(addr)) return c.json({ error: 'setup is only possible from the local network', code: 'notLocal' }, 403);
    await next();
  };
  const auth: MiddlewareHandler = async (c, next) => {
    const m = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '');
    if (!sessions.valid(m?.[1])) return c.json({ error: 'enter the setup code first', code: 'noSession' }, 401);
    await next();
  };
  /** One long step at a time: two tabs must not map ports or order certificates twice. */
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (busy) throw new StepError(409, 'busy', 'another step is still running');
    busy = true;
    try {
      return await fn();
    } finally {
      busy = false;
    }
  };
  const body = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      throw new InputError('the request body is not JSON');
    }
  };

  app.onError((err, c) => {
    if (err instanceof InputError) return c.json({ error: err.message, code: 'invalid' }, 400);
    if (err instanceof StepError) return c.json({ error: err.message, code: err.code, ...err.details }, err.status);
    log.error('setup step failed', { path: c.req.routePath, err: err.name });
    return c.json({ error: 'internal error', code: 'internal' }, 500);
  });

  // The page: redirect to the admin login once setup is done; otherwise the UI serves /setup itself.
  app.get('/setup', async (c, next) => (done ? c.redirect('/admin', 302) : next()));
  // Until setup is done the box's address leads to the wizard (the console shows only the address).
  app.get('/', async (c, next) => (done ? next() : c.redirect('/setup', 302)));

  const api = new Hono();
  api.use('*', gate);

  api.post('/session', json, async (c) => {
    const addr = deps.clientAddress(c) ?? '?';
    const wait = limiter.check(addr);
    if (wait !== null) return c.json({ error: 'too many wrong codes; wait and try again', code: 'rateLimited', retryAfterS: Math.ceil(wait / 1000) }, 429);
    const input = checkStep('code', await body(c));
    if (!codesEqual(opts.code, input.code)) {
      limiter.fail(addr);
      log.info('wrong setup code');
      return c.json({ error: 'this is not the code shown on the box', code: 'wrongCode' }, 403);
    }
    log.info('setup session opened');
    return c.json({ token: sessions.open() });
  });

  api.use('*', async (c, next) => (c.req.path.endsWith('/session') ? next() : auth(c, next)));

  api.get('/status', (c) => c.json({ progress: publicProgress(progress), ports: opts.ports }));

  api.get('/hardware', async (c) => {
    const report = await deps.readHardware();
    const findings = assessHardware(report);
    progress.hardware = { report, findings, overall: overall(findings) };
    return c.json(progress.hardware);
  });

  api.post('/line', json, async (c) => {
    const input = checkStep('line', await body(c));
    const hw = progress.hardware ?? (await (async () => {
      const report = await deps.readHardware();
      const findings = assessHardware(report);
      return (progress.hardware = { report, findings, overall: overall(findings) });
    })());
    progress.line = input;
    progress.capacity = estimateCapacity({
      cores: hw.report.cpu.cores,
      hasAes: hw.report.cpu.aes,
      memoryMiB: hw.report.memoryMiB,
      uploadMbps: input.uploadMbps,
      downloadMbps: input.downloadMbps,
      meetingSize: input.meetingSize,
    });
    return c.json({ capacity: progress.capacity, inputs: { cores: hw.report.cpu.cores, aes: hw.report.cpu.aes, memoryMiB: hw.report.memoryMiB, ...input } });
  });

  api.post('/network', json, async (c) => {
    const input = checkStep('network', await body(c));
    const forwards = requiredForwards(opts.ports);
    const report = await exclusive(async () => {
      await router?.close();
      router = await deps.openRouter(forwards, input.mapPorts);
      return router.report;
    });
    progress.router = report;
    progress.upnp = input.mapPorts && report.mapped;
    return c.json({ router: report, forwards });
  });

  api.post('/domain', json, async (c) => {
    const input = checkStep('domain', await body(c));
    const ip = progress.router?.externalIp;
    if (!ip) throw new StepError(409, 'noExternalIp', 'the public address is not known yet: run the network step first');
    if (input.kind === 'desec') {
      try {
        await sendDdns(desecUpdateRequest(opts.desecApi, input.name, input.token, ip, null));
      } catch (err) {
        if (err instanceof DdnsError) throw new StepError(502, `ddns.${err.reason}`, err.message);
        throw err;
      }
      await mkdir(join(opts.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
      await writeFileDurable(join(opts.dataDir, 'secrets', 'ddns.json'), JSON.stringify({ provider: 'desec', name: input.name, token: input.token }) + '\n', 0o600);
    }
    const check = await checkARecord(input.name, ip, opts.dnsServers);
    progress.domain = { kind: input.kind, name: input.name, resolves: check.resolves };
    return c.json({ record: { name: input.name, type: 'A', value: ip }, resolves: check.resolves, currently: check.addresses });
  });

  api.get('/domain/check', async (c) => {
    const d = progress.domain;
    const ip = progress.router?.externalIp;
    if (!d || !ip) throw new StepError(409, 'noDomain', 'choose a domain first');
    const check = await checkARecord(d.name, ip, opts.dnsServers);
    d.resolves = check.resolves;
    return c.json({ resolves: check.resolves, currently: check.addresses });
  });

  api.post('/certificate', json, async (c) => {
    const input = checkStep('certificate', await body(c));
    const d = progress.domain;
    if (!d?.resolves) throw new StepError(409, 'dnsNotReady', 'the name does not point at this box yet');
    const cert = await exclusive(async () => {
      const accountFile = join(opts.dataDir, 'secrets', 'acme-account.pem');
      const accountKey = await readFile(accountFile, 'utf8').catch(() => null);
      try {
        return await issueCertificate({ ...opts.acme, challenges: deps.challenges, log }, d.name, input.email, accountKey);
      } catch (err) {
        if (err instanceof AcmeError) throw new StepError(502, `acme.${err.reason}`, err.message);
        throw err;
      }
    });
    await mkdir(join(opts.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
    await writeFileDurable(join(opts.dataDir, 'secrets', 'acme-account.pem'), cert.accountKeyPem, 0o600);
    await deps.system.call('writeCertificate', { certPem: cert.certPem, keyPem: cert.keyPem });
    await deps.onCertificate();
    progress.certificate = { notAfter: cert.notAfter };
    return c.json({ notAfter: cert.notAfter, name: d.name });
  });

  api.post('/admin', json, async (c) => {
    const input = checkStep('admin', await body(c));
    const problems = passwordProblems(input.password, input.name);
    if (problems.length > 0) throw new StepError(422, 'weakPassword', 'the password is too weak', { problems });
    if (deps.accounts.hasAdmin()) throw new StepError(409, 'adminExists', 'an admin account exists already');
    await deps.accounts.createAdmin(input.name.trim(), input.password);
    progress.admin = { boxName: input.boxName.trim() };
    log.info('admin account created');
    return c.json({ ok: true });
  });

  api.post('/done', json, async (c) => {
    checkStep('done', await body(c));
    const missing = (['router', 'domain', 'certificate', 'admin'] as const).filter((k) => progress[k] === null);
    if (missing.length > 0 || !progress.domain?.resolves) throw new StepError(409, 'incomplete', 'some steps are not finished', { missing });
    const config: SetupConfig = {
      version: 1,
      boxName: progress.admin?.boxName ?? 'Stube',
      domain: { kind: progress.domain.kind, name: progress.domain.name },
      upnp: progress.upnp,
      ...publicIpFromRouter(progress.router),
      line: progress.line ?? { uploadMbps: null, downloadMbps: null, meetingSize: 10 },
      privacy: { meetingLog: false, recordings: false },
      completedAt: new Date().toISOString(),
    };
    await writeSetupConfig(opts.dataDir, config);
    done = true;
    sessions.clear();
    await removeBootCode(opts.runtimeDir);
    log.info('setup done');
    const url = `https://${config.domain.name}/`;
    // Answer first: switching to HTTPS may restart the listener this request came in on.
    setTimeout(() => {
      deps.onDone(config).catch((err: unknown) => log.error('switching to HTTPS failed', { err: err instanceof Error ? err.name : 'unknown' }));
    }, 50);
    return c.json({ url });
  });

  api.route('/bandwidth', bandwidthRoutes(null));
  if (deps.install) api.route('/install', installRoutes({ ...deps.install, dataDir: opts.dataDir, code: opts.code, system: deps.system, log }));
  app.route('/setup/api', api);
  return {
    app,
    isDone: () => done,
    async close() {
      await router?.close();
      router = null;
    },
  };
}

/** The sender's address on a service run by @hono/node-server (the TCP peer; no proxy headers). */
export function nodeClientAddress(c: Context): string | undefined {
  return getConnInfo(c).remote.address;
}

/** What the UI may see of the progress (no tokens, no keys). */
function publicProgress(p: WizardProgress): Record<string, unknown> {
  return {
    hardware: p.hardware?.overall ?? null,
    line: p.line,
    capacity: p.capacity,
    router: p.router,
    domain: p.domain,
    certificate: p.certificate,
    admin: p.admin !== null,
  };
}

/** The ACME HTTP-01 answers, for the plain-HTTP listener (reachable from the internet, no gate). */
export function acmeChallengeRoutes(challenges: ChallengeStore): Hono {
  const app = new Hono();
  app.get('/.well-known/acme-challenge/:token', (c) => {
    const token = c.req.param('token');
    const ka = /^[A-Za-z0-9_-]{1,128}$/.test(token) ? challenges.get(token) : undefined;
    return ka ? c.text(ka) : c.text('Not found', 404);
  });
  return app;
}

/**
 * The outside check: opened from another network (a phone on mobile data), it measures reachability and
 * throughput through the real path. Public on purpose (it must work from the internet); it reveals
 * nothing, and one shared bucket limits how often the transfers run.
 */
export function outsideCheckRoutes(uiDir: string): Hono {
  const app = new Hono();
  app.get('/check', async (c) => {
    const html = await readFile(join(uiDir, 'check.html'), 'utf8').catch(() => null);
    if (html === null) return c.text('The outside check is not built: run `npm run build:ui`.', 503);
    c.header('Cache-Control', 'no-store');
    return c.html(html);
  });
  app.route('/check/api', bandwidthRoutes(new TokenBucket(0.2, 12)));
  return app;
}
