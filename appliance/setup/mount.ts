// Puts the setup wizard into the running service: this boot's code, the wizard's routes (backed by the
// real account store and the privileged helper), the outside check, the plain-HTTP listener for ACME
// challenges, and certificate renewal once setup is done. main.ts and the home-network test both use
// this, so what the test drives is what the box runs.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { Settings, SetupSettings } from '../config/settings.js';
import type { AdminAccounts } from './accounts.js';
import { ChallengeStore } from './acme.js';
import { acmeChallengeRoutes, createSetupApp, nodeClientAddress, outsideCheckRoutes, type SetupApp } from './app.js';
import { createBootCode } from './code.js';
import { readSetupConfig } from './config.js';
import { readHardware } from './hardware.js';
import { RouterSession } from './router.js';
import { helperClient } from '../system/client.js';
import { INSTALLED_NOTICE_FILE, takeCarry } from './install.js';
import { findBootDisk, isRemovable, readDisks, readInstallChoice } from '../install/disks.js';
import { MIN_DATA_BYTES } from '../install/layout.js';
import { mkdir, writeFile } from 'node:fs/promises';

export interface MountSetupOptions {
  settings: Settings;
  setup: SetupSettings;
  log: Logger;
  /** The box's address in the home network (the target of the router's forwards). */
  internalHost: string;
  /** Called on request, so the wizard can be built before the service (which owns the store) starts. */
  accounts: () => AdminAccounts;
  /** Loads the certificate files the helper wrote into the running HTTPS server. */
  reloadTls: () => Promise<void>;
  /** How long to look for the router (UPnP answers within a few seconds or not at all). */
  routerSearchMs?: number;
}

export interface MountedSetup {
  /** Routes to hand to startService (wizard, outside check). */
  routes: Hono;
  /** This boot's code (also in <runtimeDir>/setup-code for the console), or null after setup. */
  code: string | null;
  wizard: SetupApp;
  /** Starts the ACME challenge listener (call once the service runs). */
  listen(): void;
  close(): Promise<void>;
}

export async function mountSetup(o: MountSetupOptions): Promise<MountedSetup> {
  const { settings, setup, log } = o;
  const done = (await readSetupConfig(settings.dataDir)) !== null;
  // After an installation onto the internal disk, the stick's boot's code stays valid (read once).
  const carried = done ? null : await takeCarry(settings.dataDir, runningFromInternalDisk);
  // The console banner waits for the code file, so the notice is written before it.
  if (carried) {
    await mkdir(setup.runtimeDir, { recursive: true, mode: 0o700 });
    await writeFile(join(setup.runtimeDir, INSTALLED_NOTICE_FILE), 'You can remove the USB stick now.\n', { mode: 0o644 });
  }
  const code = done ? null : await createBootCode(setup.runtimeDir, carried?.code);
  const challenges = new ChallengeStore();
  const system = helperClient(setup.helperSocket);
  const listen = settings.https ?? settings.http;
  if (!listen) throw new Error('the setup wizard needs the service to listen');
  const wizard = createSetupApp({
    opts: {
      runtimeDir: setup.runtimeDir,
      dataDir: settings.dataDir,
      code: code ?? '',
      ports: {
        httpsPort: listen.port,
        httpPort: setup.acmeHttp?.port ?? 80,
        rtp: settings.rtpPorts,
        turnPort: settings.turn.mode === 'off' ? null : settings.turn.port,
      },
      acme: { directoryUrl: setup.acmeDirectory, caFile: setup.acmeCaFile },
      dnsServers: setup.dnsServers,
      desecApi: setup.desecApi,
    },
    accounts: { hasAdmin: () => o.accounts().hasAdmin(), createAdmin: (name, password) => o.accounts().createAdmin(name, password) },
    system,
    log: log.child('setup'),
    clientAddress: nodeClientAddress,
    readHardware: () => readHardware(settings.dataDir),
    openRouter: (forwards, map) => RouterSession.open({ internalHost: o.internalHost, searchMs: o.routerSearchMs ?? 4000, log: log.child('router') }, forwards, map),
    challenges,
    onCertificate: o.reloadTls,
    // The service already serves the new certificate (onCertificate); a restart makes every unit
    // read the finished configuration.
    onDone: async () => {
      // Janus first: janus-run reads the public address from setup.json when it starts (nat_1_1_mapping).
      await system.call('restartUnit', { unit: 'stube-janus.service' });
      await system.call('restartUnit', { unit: 'stube.service' });
    },
    done,
    install: {
      progressFile: join(setup.runtimeDir, 'install-progress.json'),
      // The helper checks the same minimum again from the stick's partition table.
      readChoice: () => readInstallChoice(MIN_DATA_BYTES),
      carried,
    },
  });
  const routes = new Hono();
  routes.route('/', wizard.app);
  routes.route('/', outsideCheckRoutes(settings.uiDir));

  let http: ServerType | null = null;
  return {
    routes,
    code,
    wizard,
    listen() {
      if (!setup.acmeHttp || http) return;
      // Plain HTTP: ACME challenge answers; everything else goes to HTTPS on the same name.
      const plain = new Hono();
      plain.route('/', acmeChallengeRoutes(challenges));
      const httpsPort = listen.port === 443 ? '' : `:${listen.port}`;
      plain.all('*', (c) => c.redirect(`https://${(c.req.header('host') ?? '').replace(/:\d+$/, '')}${httpsPort}${new URL(c.req.url).pathname}`, 301));
      http = serve({ fetch: plain.fetch, hostname: setup.acmeHttp.host, port: setup.acmeHttp.port });
    },
    async close() {
      await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
      await wizard.close();
    },
  };
}

async function runningFromInternalDisk(): Promise<boolean> {
  const [boot, disks] = await Promise.all([findBootDisk(), readDisks()]);
  const disk = disks.find((d) => d.name === boot);
  return disk !== undefined && !isRemovable(disk);
}

/** The certificate files the privileged helper writes (its STUBE_TLS_DIR). */
export function tlsFiles(tlsDir: string): { cert: string; key: string } {
  return { cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem') };
}
