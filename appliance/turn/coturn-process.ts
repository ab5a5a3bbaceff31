// Runs coturn as a child of the service in development and tests (the appliance runs it under its own
// systemd unit instead). Writes the configuration into a runtime folder, starts coturn, restarts it when
// it dies, and stops it. coturn is configured to write no log at all; whatever it still prints on
// stdout/stderr (start-up failures) is logged only as a line count, never as text, because its lines can
// carry addresses and user names.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { writeFileDurable } from '../config/durable.js';
import type { Logger } from '../log.js';
import { renderCoturnConfig, secretLine, type CoturnConfigInput } from './coturn-config.js';

export interface CoturnProcessOptions {
  config: CoturnConfigInput;
  secret: () => string;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] in a test's network namespace. */
  wrapper: readonly string[];
  /** Where the service reaches coturn's TCP listener (readiness check and the TLS front). */
  probeHost: string;
  binary?: string;
  log: Logger;
}

export class CoturnProcess {
  readonly #opts: CoturnProcessOptions;
  #child: ChildProcess | null = null;
  #stopping = false;
  #restartDelay = 200;
  #restartTimer: NodeJS.Timeout | null = null;

  constructor(opts: CoturnProcessOptions) {
    this.#opts = opts;
  }

  get configFile(): string {
    return join(this.#opts.config.runtimeDir, 'turnserver.conf');
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Writes the configuration, starts coturn and resolves once its TCP listener accepts connections. */
  async start(timeoutMs = 15_000): Promise<void> {
    this.#stopping = false;
    await this.#writeConfig();
    this.#spawn();
    const until = Date.now() + timeoutMs;
    while (!(await canConnect(this.#opts.probeHost, this.#opts.config.turnPort))) {
      if (!this.#child) throw new Error('coturn exited during start-up (run it by hand with the rendered configuration to see why)');
      if (Date.now() > until) throw new Error(`coturn did not listen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** After the secret was rotated: new configuration, new process (allocations are re-made by ICE). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async #writeConfig(): Promise<void> {
    await mkdir(this.#opts.config.runtimeDir, { recursive: true, mode: 0o700 });
    const text = renderCoturnConfig(this.#opts.config) + secretLine(this.#opts.secret());
    await writeFileDurable(this.configFile, text, 0o600);
  }

  #spawn(): void {
    const argv = [...this.#opts.wrapper, this.#opts.binary ?? 'turnserver', '-c', this.configFile];
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const log = this.#opts.log;
    let lines = 0;
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (lines += chunk.toString('utf8').split('\n').length - 1));
    child.once('spawn', () => log.info('coturn started', { pid: child.pid }));
    child.once('error', (err) => log.error('coturn could not be started', { err: err.message }));
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = null;
      if (this.#stopping) return;
      log.warn('coturn exited; restarting', { code: code ?? undefined, signal: signal ?? undefined, outputLines: lines, delayMs: this.#restartDelay });
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = null;
        if (!this.#stopping) this.#spawn();
      }, this.#restartDelay);
      this.#restartDelay = Math.min(this.#restartDelay * 2, 5000);
    });
    setTimeout(() => {
      if (this.#child === child) this.#restartDelay = 200;
    }, 30_000).unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}
