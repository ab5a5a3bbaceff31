// Progress of an installation as the wizard shows it: bytes written, rate and time left. Pure maths over
// counters the installer updates, so it is unit-tested without a disk.
export type InstallPhase = 'checking' | 'partitioning' | 'copying' | 'verifying' | 'data' | 'bootEntry' | 'done' | 'failed';

/** Failures named plainly; the wizard translates each. */
export type InstallFailure = 'diskVanished' | 'writeError' | 'verifyMismatch' | 'noSpace' | 'bootEntryRefused' | 'failed';

export interface InstallProgress {
  phase: InstallPhase;
  /** Bytes written to the target so far, and in all (partitions copied + the data partition's files). */
  written: number;
  toWrite: number;
  /** Bytes read back and compared so far, and in all. */
  verified: number;
  toVerify: number;
  /** Bytes per second over the work done so far; null until there is enough to say. */
  rate: number | null;
  /** Seconds until done at that rate; null when unknown. */
  secondsLeft: number | null;
  /** Set when phase is 'failed'. */
  failure: InstallFailure | null;
  /** The disk's name (kernel name), for the wizard to show. */
  disk: string;
}

/** Below this much work or time the rate is noise, so it is not shown. */
const MIN_SECONDS = 1;
const MIN_BYTES = 1024 * 1024;

/**
 * Rate and time left. Writing and reading back are counted as one stream of work (a byte written is
 * read back once), so the time left covers the verification too.
 */
export function progressFigures(p: Pick<InstallProgress, 'written' | 'toWrite' | 'verified' | 'toVerify'>, elapsedMs: number): { rate: number | null; secondsLeft: number | null; fraction: number } {
  const done = clamp(p.written, p.toWrite) + clamp(p.verified, p.toVerify);
  const total = Math.max(0, p.toWrite) + Math.max(0, p.toVerify);
  const fraction = total === 0 ? 0 : done / total;
  const seconds = elapsedMs / 1000;
  if (seconds < MIN_SECONDS || done < MIN_BYTES) return { rate: null, secondsLeft: null, fraction };
  const rate = done / seconds;
  return { rate: Math.round(rate), secondsLeft: Math.ceil((total - done) / rate), fraction };
}

function clamp(x: number, max: number): number {
  return Math.min(Math.max(0, x), Math.max(0, max));
}

export function initialProgress(disk: string): InstallProgress {
  return { phase: 'checking', written: 0, toWrite: 0, verified: 0, toVerify: 0, rate: null, secondsLeft: null, failure: null, disk };
}
