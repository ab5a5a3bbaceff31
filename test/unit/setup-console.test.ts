// The console banner shows this boot's setup code when the service has written one.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { renderTemplate } from '../../image/templates.js';

const base = { version: '0.1.0', mdnsName: 'stube.local', portSuffix: '', waitSeconds: 1 };

describe('console banner with the setup code', () => {
  // The template accepts only files under /run, and writing there needs root (as the integration tests do).
  it.skipIf(process.getuid?.() !== 0)('prints the code once the service wrote it, says so when it never came, and nothing after setup', () => {
    const without = renderTemplate(resolve('templates'), 'scripts/stube-console-banner', base);
    expect(without).not.toContain('Setup code');
    const dir = mkdtempSync(join(tmpdir(), 'stube-banner-'));
    // The template only accepts files under /run (the runtime folder); make one for the test.
    const runDir = `/run/stube-test-${process.pid}`;
    mkdirSync(runDir, { recursive: true });
    try {
      const codeFile = join(runDir, 'setup-code');
      const setupDoneFile = join(runDir, 'setup.json');
      const script = renderTemplate(resolve('templates'), 'scripts/stube-console-banner', { ...base, codeFile, setupDoneFile });
      writeFileSync(join(dir, 'banner.sh'), script);
      const noCode = execFileSync('sh', [join(dir, 'banner.sh')], { encoding: 'utf8' });
      expect(noCode).not.toContain('Setup code:');
      expect(noCode).toContain('The setup code is not ready yet');
      writeFileSync(codeFile, 'ABCDE-FGHJK\n');
      expect(execFileSync('sh', [join(dir, 'banner.sh')], { encoding: 'utf8' })).toContain('Setup code: ABCDE-FGHJK');
      // Once setup.json exists the wizard is gone: no code, no waiting.
      writeFileSync(setupDoneFile, '{}');
      expect(execFileSync('sh', [join(dir, 'banner.sh')], { encoding: 'utf8' })).not.toMatch(/[Ss]etup code/);
      expect(() => renderTemplate(resolve('templates'), 'scripts/stube-console-banner', { ...base, codeFile: '/etc/shadow' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
