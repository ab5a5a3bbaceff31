// The update agent in the service (unprivileged): decides when to check, download, install and restart,
// and asks the root helper to do each step through one request file. It restarts the box only in the
// maintenance window (or at once after "update now") and never while a meeting has participants; it
// tells moderators when a restart waits for their meeting. After a restart it compares the running
// version with the one it installed, so it can say "updated" or "rolled back" (systemd-boot fell back to
// the old slot after the new one failed its boot tries).
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../config/durable.js';
import type { Logger } from '../log.js';
import { REQUEST_FILE, STATUS_FILE, type HelperOp, type HelperStatus } from './helper-protocol.js';
import { checkDue, DEFAULT_UPDATE_SETTINGS, inWindow, loadUpdateSettings, saveUpdateSettings, type UpdateSettings } from './settings.js';

export interface UpdateAgentDeps {
  /** /run/stube/update: request.json (ours) and status.json (the helper's). */
  readonly runDir: string;
  /** Folder on the data partition for update-settings.json and update-state.json. */
  readonly dataDir: string;
  readonly currentVersion: string;
  readonly participants: () => number;
  readonly notifyModerators: (message: string) => number;
  readonly log: Logger;
  readonly now?: () => Date;
  /** How often the agent looks at its schedule. */
  readonly tickMs?: number;
  /** How often it looks at the helper's status while a request is out (each step follows at once). */
  readonly waitTickMs?: number;
}

/** What survives a restart: the version we switched to, to tell an update from a rollback afterwards. */
interface AgentState {
  readonly lastCheck: string | null;
  /** An update was under way (download or install asked): after a power cut, go on at once. */
  readonly underWay?: boolean;
  readonly switching: { readonly from: string; readonly to: string; readonly at: string } | null;
  readonly lastResult: UpdateResult | null;
}

export interface UpdateResult {
  readonly kind: 'updated' | 'rolled-back';
  readonly from: string;
  readonly to: string;
  readonly at: string;
  readonly message: string;
}

export type Phase = 'idle' | 'checking' | 'downloading' | 'installing' | 'reboot-pending' | 'rebooting' | 'failed';

/** GET /api/update: everything the admin panel shows. */
export interface UpdateView {
  readonly available: boolean;
  readonly currentVersion: string;
  readonly phase: Phase;
  readonly lastCheck: string | null;
  readonly offered: { readonly version: string; readonly size: number } | null;
  readonly download: { readonly bytes: number; readonly total: number } | null;
  readonly pending: { readonly version: string; readonly changelog: string; readonly waitingFor: 'window' | 'meetings' | null } | null;
  readonly lastResult: UpdateResult | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly settings: UpdateSettings;
}

export class UpdateAgent {
  readonly #deps: UpdateAgentDeps;
  readonly #now: () => Date;
  #settings: UpdateSettings = DEFAULT_UPDATE_SETTINGS;
  #state: AgentState = { lastCheck: null, switching: null, lastResult: null };
  #helper: HelperStatus | null = null;
  #waiting: { id: string; op: HelperOp; since: number } | null = null;
  /** "Update now": go through download, install and restart without waiting for the window. */
  #nowRequested = false;
  #notified = false;
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  #closed = false;

  private constructor(deps: UpdateAgentDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  static async create(deps: UpdateAgentDeps): Promise<UpdateAgent> {
    const agent = new UpdateAgent(deps);
    agent.#settings = await loadUpdateSettings(agent.#settingsFile).catch((err: unknown) => {
      deps.log.warn('update settings unreadable; using defaults', { err: err instanceof Error ? err.name : 'error' });
      return DEFAULT_UPDATE_SETTINGS;
    });
    agent.#state = await agent.#loadState();
    if (agent.#state.underWay) agent.#state = { ...agent.#state, lastCheck: null };
    await agent.#afterRestart();
    agent.#schedule(true);
    return agent;
  }

  /** The next look: soon while the helper works on a request (so the steps follow each other without a
   * schedule's pause in between), at the schedule's pace otherwise. */
  #schedule(first = false): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#closed) return;
    // The first look comes soon after the start: an update cut short by a power cut goes on at once.
    const ms = this.#waiting ? (this.#deps.waitTickMs ?? 2_000) : first ? Math.min(5_000, this.#deps.tickMs ?? 30_000) : (this.#deps.tickMs ?? 30_000);
    this.#timer = setTimeout(() => {
      void this.tick().finally(() => this.#schedule());
    }, ms);
    this.#timer.unref();
  }

  get #settingsFile(): string {
    return join(this.#deps.dataDir, 'update-settings.json');
  }

  get #stateFile(): string {
    return join(this.#deps.dataDir, 'update-state.json');
  }

  async #loadState(): Promise<AgentState> {
    try {
      const s = JSON.parse(await readFile(this.#stateFile, 'utf8')) as Partial<AgentState>;
      return { lastCheck: s.lastCheck ?? null, underWay: s.underWay === true, switching: s.switching ?? null, lastResult: s.lastResult ?? null };
    } catch {
      return { lastCheck: null, switching: null, lastResult: null };
    }
  }

  async #saveState(patch: Partial<AgentState>): Promise<void> {
    this.#state = { ...this.#state, ...patch };
    await writeFileDurable(this.#stateFile, `${JSON.stringify(this.#state)}\n`);
  }

  /** Did the restart we asked for bring up the new version, or did the boot loader fall back? */
  async #afterRestart(): Promise<void> {
    const last = this.#state.lastResult;
    // The new version's own agent may have said "updated" on one of its tries before it failed its
    // health check; running the version it came from again means the boot loader fell back.
    const s = this.#state.switching
      ?? (last?.kind === 'updated' && last.from === this.#deps.currentVersion && last.to !== this.#deps.currentVersion ? last : null);
    if (!s) return;
    const at = this.#now().toISOString();
    const result: UpdateResult = this.#deps.currentVersion === s.to
      ? { kind: 'updated', from: s.from, to: s.to, at, message: `Updated from ${s.from} to ${s.to}.` }
      : {
        kind: 'rolled-back', from: s.from, to: s.to, at,
        message: `Version ${s.to} did not start properly, so the box went back to ${this.#deps.currentVersion} by itself. It installs a newer version when one comes out; "Update now" tries ${s.to} again.`,
      };
    this.#deps.log[result.kind === 'updated' ? 'info' : 'warn'](`update ${result.kind}`, { from: s.from, to: s.to, running: this.#deps.currentVersion });
    // After a version change, look at the channel again at once: a newer version may be waiting (one
    // that needed this one first); after a fall-back this finds the failed one, which is left alone.
    await this.#saveState({ switching: null, lastResult: result, lastCheck: null });
  }

  async #readHelper(): Promise<HelperStatus | null> {
    try {
      return JSON.parse(await readFile(join(this.#deps.runDir, STATUS_FILE), 'utf8')) as HelperStatus;
    } catch {
      return null;
    }
  }

  async #ask(op: HelperOp): Promise<void> {
    const id = randomUUID();
    this.#waiting = { id, op, since: Date.now() };
    this.#schedule();
    // The path unit starts the root helper when this file is written (closed after writing).
    await writeFile(join(this.#deps.runDir, REQUEST_FILE), `${JSON.stringify({ id, op })}\n`, { mode: 0o640 });
    this.#deps.log.info('update helper asked', { op });
  }

  /** One step of the schedule; called by the timer and after each API action. */
  async tick(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      await this.#step();
    } catch (err) {
      this.#deps.log.warn('update step failed', { err: err instanceof Error ? err.name : 'error' });
    } finally {
      this.#busy = false;
    }
  }

  async #step(): Promise<void> {
    const now = this.#now();
    this.#helper = await this.#readHelper();
    const h = this.#helper;
    if (this.#waiting) {
      if (!h || h.id !== this.#waiting.id) {
        // A path unit misses a change made while the helper it started is still exiting: write again.
        if (Date.now() - this.#waiting.since > 60_000) {
          this.#waiting = { ...this.#waiting, since: Date.now() };
          await writeFile(join(this.#deps.runDir, REQUEST_FILE), `${JSON.stringify({ id: this.#waiting.id, op: this.#waiting.op })}\n`, { mode: 0o640 });
        }
        return;
      }
      if (h.state === 'working') return; // the helper is still on it
      const op = this.#waiting.op;
      this.#waiting = null;
      if (op === 'check' || op === 'download') await this.#saveState({ lastCheck: now.toISOString() });
      if (h.state === 'failed') {
        this.#deps.log.warn('update step refused or failed', { op, code: h.error?.code });
        this.#nowRequested = false;
        if (this.#state.underWay) await this.#saveState({ underWay: false });
        return;
      }
      const automatic = this.#settings.automatic || this.#nowRequested;
      if (op === 'check' && h.available && automatic && !this.#nowRequested && this.#failedBefore(h.available.version)) {
        // The box fell back from this very version: installing it again would only repeat the failed
        // boots. It waits for a newer one; "update now" tries it again on the host's word.
        this.#deps.log.info('update skipped: this version failed to start before', { version: h.available.version });
        if (this.#state.underWay) await this.#saveState({ underWay: false });
        return;
      }
      if (op === 'check' && h.available && automatic) {
        await this.#saveState({ underWay: true });
        return this.#ask('download');
      }
      if (op === 'download' && h.downloaded && h.downloaded.bytes === h.downloaded.total && automatic) return this.#ask('install');
      if (op === 'download' && !h.available) this.#nowRequested = false;
      if (op === 'install' || (op === 'download' && !h.available)) await this.#saveState({ underWay: false });
    }
    if (h?.installed && h.installed.version !== this.#deps.currentVersion) {
      await this.#maybeRestart(now, h.installed.version);
      return;
    }
    if (this.#settings.channel.kind !== 'none' && checkDue(now, this.#state.lastCheck ? new Date(this.#state.lastCheck) : null, this.#settings.checkEveryHours)) {
      await this.#ask('check');
    }
  }

  #failedBefore(version: string): boolean {
    const last = this.#state.lastResult;
    return last?.kind === 'rolled-back' && last.to === version;
  }

  #waitingFor(now: Date): 'window' | 'meetings' | null {
    if (!this.#nowRequested && !inWindow(now, this.#settings.window)) return 'window';
    if (this.#deps.participants() > 0) return 'meetings';
    return null;
  }

  async #maybeRestart(now: Date, version: string): Promise<void> {
    if (this.#state.switching?.to === version) return; // asked already; the box is going down
    const waiting = this.#waitingFor(now);
    if (waiting === 'meetings') {
      if (!this.#notified) {
        const told = this.#deps.notifyModerators(`Stube ${version} is installed. The box restarts (about two minutes) once no meeting is running.`);
        this.#notified = told > 0;
      }
      return;
    }
    if (waiting === 'window') return;
    await this.#saveState({ switching: { from: this.#deps.currentVersion, to: version, at: now.toISOString() } });
    this.#deps.log.info('restarting into the new version', { to: version });
    await this.#ask('reboot');
  }

  view(): UpdateView {
    const h = this.#helper;
    const now = this.#now();
    const pendingVersion = h?.installed && h.installed.version !== this.#deps.currentVersion ? h.installed : null;
    const phase: Phase = this.#waiting
      ? ({ check: 'checking', download: 'downloading', install: 'installing', reboot: 'rebooting' } as const)[this.#waiting.op]
      : this.#state.switching ? 'rebooting' : pendingVersion ? 'reboot-pending' : h?.state === 'failed' ? 'failed' : 'idle';
    return {
      available: true,
      currentVersion: this.#deps.currentVersion,
      phase,
      lastCheck: this.#state.lastCheck,
      offered: h?.available ?? null,
      download: h?.downloaded ? { bytes: h.downloaded.bytes, total: h.downloaded.total } : null,
      pending: pendingVersion ? { version: pendingVersion.version, changelog: pendingVersion.changelog, waitingFor: this.#waitingFor(now) } : null,
      lastResult: this.#state.lastResult,
      error: h?.state === 'failed' && h.error ? h.error : null,
      settings: this.#settings,
    };
  }

  async checkNow(): Promise<void> {
    if (!this.#waiting) await this.#ask('check');
  }

  /** Download and install what the channel offers, and restart as soon as no meeting is running. */
  async updateNow(): Promise<void> {
    this.#nowRequested = true;
    this.#notified = false;
    if (!this.#waiting && !this.#helper?.installed) await this.#ask('check');
    await this.tick();
  }

  async setSettings(settings: UpdateSettings): Promise<void> {
    await saveUpdateSettings(this.#settingsFile, settings);
    this.#settings = settings;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
