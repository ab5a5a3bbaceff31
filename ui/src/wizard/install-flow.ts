// The install step's decisions and texts, kept out of the component so they are unit-tested: what to
// show for the box's answer, how progress reads, and which disks may be confirmed.
import type { Key } from './i18n.js';

// The box's own names for kinds, refusals, phases and failures: one definition on both sides.
import type { DiskKind, RefusalReason as Refusal } from '../../../appliance/install/disks.js';
import type { InstallFailure as Failure, InstallPhase as Phase } from '../../../appliance/install/progress.js';

export interface Candidate {
  name: string;
  path: string;
  model: string;
  sizeBytes: number;
  kind: DiskKind;
  holdsData: boolean;
  filesystems: string[];
  refused: Refusal | null;
  confirmation: string;
}

export interface Progress {
  phase: Phase;
  written: number;
  toWrite: number;
  verified: number;
  toVerify: number;
  secondsLeft: number | null;
  failure: Failure | null;
  /** Kernel name of the disk being installed onto. */
  disk?: string;
}

export interface InstallAnswer {
  installed: boolean;
  language?: 'en' | 'de';
  skip: boolean;
  minBytes?: number;
  candidates: Candidate[];
  progress: Progress | null;
}

export type View = 'removeStick' | 'skip' | 'choose' | 'running';

/** What the step shows first: after the install reboot "remove the stick", an install in progress, the choice, or nothing. */
export function viewOf(a: InstallAnswer | null): View {
  if (a === null) return 'skip'; // the box has no install step (not the appliance image)
  if (a.installed) return 'removeStick';
  if (a.progress && a.progress.phase !== 'failed' && a.progress.phase !== 'done') return 'running';
  if (a.skip) return 'skip';
  return 'choose';
}

/**
 * The disk chosen when the person goes back to the choice after a failed attempt: another offered disk
 * if there is one (a disk that just failed is likely to fail again), else the failed one; '' for none.
 * It is only preselected: installing still needs the tick that names it.
 */
export function retryChoice(a: InstallAnswer | null, failedDisk: string): string {
  const offered = (a?.candidates ?? []).filter((c) => c.refused === null);
  return (offered.find((c) => c.name !== failedDisk) ?? offered[0])?.path ?? '';
}

/** Decimal units, as disk makers label them. */
export function formatBytes(b: number): string {
  if (b >= 1e12) return `${(b / 1e12).toFixed(1)} TB`;
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  return `${Math.round(b / 1e6)} MB`;
}

export type Text = (key: Key, values?: Record<string, string | number>) => string;

export function timeText(t: Text, seconds: number): string {
  if (seconds >= 90) return t('install.minutes', { m: Math.round(seconds / 60) });
  return t('install.seconds', { s: Math.max(1, Math.round(seconds)) });
}

/** The bar's value and max (bytes written plus bytes read back) and its texts. */
export function progressView(t: Text, p: Progress): { value: number; max: number; written: string; left: string | null; phase: string } {
  const max = p.toWrite + p.toVerify;
  return {
    value: Math.min(max, Math.min(p.written, p.toWrite) + Math.min(p.verified, p.toVerify)),
    max: Math.max(1, max),
    written: t('install.progress', { written: formatBytes(Math.min(p.written, p.toWrite)), total: formatBytes(p.toWrite) }),
    left: p.secondsLeft === null || p.phase === 'done' || p.phase === 'failed' ? null : t('install.left', { time: timeText(t, p.secondsLeft) }),
    phase: t(`install.phase.${p.phase}` as Key),
  };
}

export function diskLabel(t: Text, c: Candidate): string {
  return t('install.disk', { name: c.confirmation, kind: t(`install.kind.${c.kind}` as Key), size: formatBytes(c.sizeBytes) });
}

export function dataWarning(t: Text, c: Candidate): string | null {
  if (!c.holdsData) return null;
  return t('install.dataWarning', { what: c.filesystems.length > 0 ? c.filesystems.join(', ') : t('install.partitionTable') });
}

export function refusalText(t: Text, c: Candidate, minBytes: number | undefined): string | null {
  if (c.refused === null) return null;
  return t(`install.refused.${c.refused}` as Key, { min: minBytes !== undefined ? formatBytes(minBytes) : '?' });
}

/** The body of the start request: only an offered disk, only with its box ticked. */
export function startRequest(c: Candidate | undefined, confirmed: boolean, language: 'en' | 'de'): { disk: string; confirmation: string; language: 'en' | 'de' } | null {
  if (!c || c.refused !== null || !confirmed) return null;
  return { disk: c.path, confirmation: c.confirmation, language };
}
