// The console banner says the stick can go when this boot carries on after an installation.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderTemplate } from '../../image/templates.js';

describe('console banner after an installation', () => {
  // The template accepts only files under /run; making one there needs root.
  it.skipIf(process.getuid?.() !== 0)('says "You can remove the USB stick now" only when the service left the notice', () => {
    const runDir = `/run/stube-install-test-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'stube-banner-'));
    mkdirSync(runDir, { recursive: true });
    try {
      const installedFile = join(runDir, 'installed-from-stick');
      const script = renderTemplate(resolve('templates'), 'scripts/stube-console-banner', { version: '0.1.0', mdnsName: 'stube.local', portSuffix: '', waitSeconds: 1, installedFile });
      writeFileSync(join(dir, 'banner.sh'), script);
      expect(execFileSync('sh', [join(dir, 'banner.sh')], { encoding: 'utf8' })).not.toContain('USB stick');
      writeFileSync(installedFile, 'You can remove the USB stick now.\n');
      expect(execFileSync('sh', [join(dir, 'banner.sh')], { encoding: 'utf8' })).toContain('You can remove the USB stick now.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
