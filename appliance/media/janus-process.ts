// Runs Janus as a child process: in development and tests as a child of the service, in the appliance
// as the child of cli/janus-run.js under its own systemd unit. Renders the configuration, starts Janus,
// restarts it when it dies (unless told not to), and passes every output line through redactAddresses.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../log.js';
import { writeJanusConfig, type JanusConfigInput } from './janus-config.js';
import { redactAddresses } from './redact.js';

export interface JanusProcessOptions {
  config: JanusConfigInput;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] to run Janus in a test's network namespace. */
  wrapper: readonly string[];
  binary?: string;
  log: Logger;
  /** Restart Janus when it exits (default). Off when systemd supervises us instead. */
  restart?: boolean;
}

export type JanusProcessEvents = { started: [pid: number]; exited: [code: number | null, signal: string | null] };

export class JanusProcess extends EventEmitter<JanusProcessEvents> {
  readonly #opts: JanusProcessOptions;
  #child: ChildProcess | null = null;
  #stopping = false;
  #restartDelay = 200;
  #restartTimer: NodeJS.Timeout | null = null;

  constructor(opts: JanusProcessOptions) {
    super();
    this.#opts = opts;
  }

  get socketPath(): string {
    return this.#opts.config.socketPath;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Renders the config and starts Janus; resolves when its API socket exists. */
  async start(timeoutMs = 20_000): Promise<void> {
    await writeJanusConfig(this.#opts.config);
    await this.#spawn();
    const until = Date.now() + timeoutMs;
    while (!existsSync(this.socketPath)) {
      if (!this.#child) throw new Error('Janus exited during start-up; see the log above');
      if (Date.now() > until) throw new Error(`Janus did not open its API socket within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #spawn(): Promise<void> {
    await rm(this.socketPath, { force: true });
    const cfg = this.#opts.config;
    const argv = [...this.#opts.wrapper, this.#opts.binary ?? 'janus', '-F', cfg.configDir, '-C', join(cfg.configDir, 'janus.jcfg')];
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const log = this.#opts.log;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (line.trim()) log.info(redactAddresses(line.trim()));
      });
    }
    child.once('spawn', () => {
      log.info('Janus started', { pid: child.pid });
      this.emit('started', child.pid ?? 0);
    });
    child.once('error', (err) => log.error('Janus could not be started', { err: err.message }));
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = null;
      this.emit('exited', code, signal);
      if (this.#stopping || this.#opts.restart === false) return;
      log.warn('Janus exited; restarting', { code: code ?? undefined, signal: signal ?? undefined, delayMs: this.#restartDelay });
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = null;
        this.#spawn().catch((err: unknown) => log.error('restarting Janus failed', { err: String(err) }));
      }, this.#restartDelay);
      this.#restartDelay = Math.min(this.#restartDelay * 2, 5000);
    });
    // A Janus that stayed up for a while earns a quick restart next time.
    setTimeout(() => {
      if (this.#child === child) this.#restartDelay = 200;
    }, 30_000).unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
