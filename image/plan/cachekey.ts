// Cache keys: a stage's output is reused only when the hash of everything that went into it matches.
import { createHash } from 'node:crypto';

/** JSON with sorted object keys, so equal inputs always hash the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A short, file-name-safe key for a stage's inputs. */
export function cacheKey(stage: string, inputs: unknown): string {
  return `${stage}-${createHash('sha256').update(stableJson(inputs)).digest('hex').slice(0, 20)}`;
}
