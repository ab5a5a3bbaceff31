// Checks before any work: root, the tools each stage calls (with the Debian package that brings each),
// the keyring, and disk space. Every problem is listed at once, with what to do about it.
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ImageConfig } from './config/schema.js';
import { PreflightError } from './errors.js';

export interface Tool {
  readonly command: string;
  readonly pkg: string;
}

/** Commands the pipeline runs, and the Debian package of each. */
export const BUILD_TOOLS: readonly Tool[] = [
  { command: 'mmdebstrap', pkg: 'mmdebstrap' },
  { command: 'mkfs.ext4', pkg: 'e2fsprogs' },
  { command: 'mkfs.vfat', pkg: 'dosfstools' },
  { command: 'mcopy', pkg: 'mtools' },
  { command: 'sgdisk', pkg: 'gdisk' },
  { command: 'zstd', pkg: 'zstd' },
  { command: 'gpg', pkg: 'gpg' },
  { command: 'npm', pkg: 'npm' },
  { command: 'tar', pkg: 'tar' },
  { command: 'chroot', pkg: 'coreutils' },
  { command: 'dpkg-scanpackages', pkg: 'dpkg-dev' },
  { command: 'make', pkg: 'build-essential' },
  { command: 'g++', pkg: 'build-essential' },
  { command: 'python3', pkg: 'python3' },
];

/** Commands `npm run vm` and the image test need in addition. */
export const VM_TOOLS: readonly Tool[] = [
  { command: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { command: 'sgdisk', pkg: 'gdisk' },
  { command: 'debugfs', pkg: 'e2fsprogs' },
];

/** Absolute path of a command on PATH, or undefined. */
export function which(command: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder; keep looking
    }
  }
  return undefined;
}

export interface PreflightFacts {
  readonly uid: number;
  readonly has: (command: string) => boolean;
  readonly exists: (path: string) => boolean;
  /** Free bytes where the cache lives. */
  readonly freeBytes: number;
}

export const MIN_FREE_BYTES = 16 * 1024 ** 3;

/** Pure: the list of problems for the given facts (empty when the build can start). */
export function preflightProblems(config: ImageConfig, facts: PreflightFacts, tools: readonly Tool[] = BUILD_TOOLS): string[] {
  const problems: string[] = [];
  if (facts.uid !== 0) problems.push('run as root: mmdebstrap, chroot and file ownership in the image need it (sudo npm run image)');
  const missing = tools.filter((t) => !facts.has(t.command));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))];
    problems.push(`missing ${missing.map((t) => t.command).join(', ')}: apt-get install ${pkgs.join(' ')}`);
  }
  const keyrings = new Set([config.keyring, ...config.sources.map((s) => s.signedBy), config.backports.from.signedBy]);
  for (const k of keyrings) {
    if (k && !facts.exists(k)) {
      problems.push(`keyring ${k} not found (${config.distribution === 'ubuntu' ? 'apt-get install ubuntu-keyring' : 'apt-get install debian-archive-keyring'})`);
    }
  }
  if (facts.freeBytes < MIN_FREE_BYTES) {
    problems.push(`only ${(facts.freeBytes / 1024 ** 3).toFixed(1)} GiB free for the build cache; it needs ${MIN_FREE_BYTES / 1024 ** 3} GiB (set STUBE_IMAGE_CACHE to another disk)`);
  }
  return problems;
}

export function hostFacts(cacheDir: string): PreflightFacts {
  let probe = cacheDir;
  while (!existsSync(probe) && probe !== '/') probe = join(probe, '..');
  const fs = statfsSync(probe);
  return {
    uid: process.getuid?.() ?? -1,
    has: (c) => which(c) !== undefined,
    exists: existsSync,
    freeBytes: fs.bavail * fs.bsize,
  };
}

export function preflight(config: ImageConfig, cacheDir: string, tools: readonly Tool[] = BUILD_TOOLS): void {
  const problems = preflightProblems(config, hostFacts(cacheDir), tools);
  if (problems.length > 0) throw new PreflightError(problems);
}
