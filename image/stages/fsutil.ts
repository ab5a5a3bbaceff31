// Small file-system helpers shared by the stages: completed-cache markers and folder hashes.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const DONE = '.stube-complete';

export function isComplete(dir: string): boolean {
  return existsSync(join(dir, DONE));
}

/** Moves a finished staging folder into place and marks it complete, so a cut-off build never counts. */
export function commitDir(staging: string, final: string, info: unknown): void {
  writeFileSync(join(staging, DONE), `${JSON.stringify(info, null, 2)}\n`);
  rmSync(final, { recursive: true, force: true });
  mkdirSync(join(final, '..'), { recursive: true });
  renameSync(staging, final);
}

/** Keeps the newest `keep` entries of a cache folder whose names start with prefix; removes the rest. */
export function pruneCache(dir: string, prefix: string, keep: number, except: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && join(dir, n) !== except)
    .map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { n } of entries.slice(Math.max(0, keep - 1))) rmSync(join(dir, n), { recursive: true, force: true });
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Hash of a folder's (or a file's) names and contents, not times, for cache keys. Missing hashes as empty. */
export function hashTree(root: string): string {
  const h = createHash('sha256');
  if (existsSync(root) && statSync(root).isFile()) return h.update(readFileSync(root)).digest('hex');
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else h.update(`${relative(root, path)}\0`).update(readFileSync(path)).update('\0');
    }
  };
  walk(root);
  return h.digest('hex');
}
