// The browser client as it ships (dist/ui, built by `npm run build` before this project runs): production
// JSX only. A development build embeds each component's absolute source path — the build machine's
// folders — in every page, and makes the image's app stage differ between two checkouts of one commit.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(repo, 'dist/ui');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the built browser client', () => {
  it('carries no development JSX and no path of the machine that built it', () => {
    const shipped = files(dist).filter((f) => /\.(js|html|css)$/.test(f));
    expect(shipped.some((f) => f.endsWith('.js'))).toBe(true);
    for (const f of shipped) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toContain(repo.replace(/\/$/, ''));
      expect(text, f).not.toMatch(/jsxDEV|lineNumber:\d+,columnNumber:/);
    }
  });
});
