// Tells the service what this client shows, so it can pick each remote participant's simulcast layer:
// tile sizes in device pixels and, when the browser knows it, the available incoming bandwidth. Sends
// at most once per `minIntervalMs`, and only when something changed noticeably.
import { LIMITS, type ParticipantId, type TileView } from './protocolImports.js';

export interface ViewReport {
  tiles: TileView[];
  bandwidthKbps?: number;
}

export interface ViewReporterOptions {
  send: (report: ViewReport) => void;
  minIntervalMs?: number;
  /** Sizes are rounded to this many pixels so that small resizes do not cause messages. */
  quantum?: number;
  /** A bandwidth change smaller than this fraction of the last reported value is not worth a message. */
  bandwidthChange?: number;
  now?: () => number;
}

export class ViewReporter {
  readonly #send: (report: ViewReport) => void;
  readonly #minIntervalMs: number;
  readonly #quantum: number;
  readonly #bandwidthChange: number;
  readonly #now: () => number;
  readonly #tiles = new Map<ParticipantId, { width: number; height: number }>();
  #bandwidthKbps: number | undefined;
  #reportedBandwidth: number | undefined;
  #lastTilesKey = '';
  #lastSentAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #paused = true;

  constructor(opts: ViewReporterOptions) {
    this.#send = opts.send;
    this.#minIntervalMs = opts.minIntervalMs ?? 500;
    this.#quantum = opts.quantum ?? 16;
    this.#bandwidthChange = opts.bandwidthChange ?? 0.25;
    this.#now = opts.now ?? (() => Date.now());
  }

  /** Width and height in device pixels; 0 × 0 when the tile is not visible. */
  setTile(participant: ParticipantId, width: number, height: number): void {
    const q = (v: number): number => (v <= 0 ? 0 : Math.max(this.#quantum, Math.round(v / this.#quantum) * this.#quantum));
    this.#tiles.set(participant, { width: q(width), height: q(height) });
    this.#schedule();
  }

  removeTile(participant: ParticipantId): void {
    if (this.#tiles.delete(participant)) this.#schedule();
  }

  setBandwidth(kbps: number | undefined): void {
    this.#bandwidthKbps = kbps === undefined ? undefined : Math.round(kbps);
    if (this.#bandwidthNotable()) this.#schedule();
  }

  /** Stop sending (e.g. while reconnecting); tiles are kept. */
  pause(): void {
    this.#paused = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Start (again) after a welcome: the service has forgotten everything, so report afresh. */
  resume(): void {
    this.#paused = false;
    this.#lastTilesKey = '';
    this.#lastSentAt = -Infinity;
    this.#reportedBandwidth = undefined;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#paused || this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastSentAt + this.#minIntervalMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait);
  }

  #bandwidthNotable(): boolean {
    const bw = this.#bandwidthKbps;
    const last = this.#reportedBandwidth;
    return bw !== undefined && (last === undefined || Math.abs(bw - last) > last * this.#bandwidthChange);
  }

  #flush(): void {
    if (this.#paused) return;
    const tiles = [...this.#tiles]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, LIMITS.maxTiles)
      .map(([participant, size]) => ({ participant, ...size }));
    const tilesKey = JSON.stringify(tiles);
    if (tilesKey === this.#lastTilesKey && !this.#bandwidthNotable()) return;
    const report: ViewReport = { tiles };
    if (this.#bandwidthKbps !== undefined) report.bandwidthKbps = this.#bandwidthKbps;
    this.#lastTilesKey = tilesKey;
    this.#lastSentAt = this.#now();
    this.#reportedBandwidth = this.#bandwidthKbps;
    this.#send(report);
  }
}
