import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileDurable } from '../../appliance/config/durable.js';

describe('writeFileDurable', () => {
  it('replaces a file whole, with the mode asked for, and leaves no temporary file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-durable-'));
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old');
    await writeFileDurable(file, '{"new":true}', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('{"new":true}');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('keeps the old content when the new one cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stube-durable-'));
    const file = join(dir, 'missing-folder', 'state.json');
    await expect(writeFileDurable(file, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});
