import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../image/config/load.js';
import { cacheKey, stableJson } from '../../image/plan/cachekey.js';
import { buildManifest, parseDpkgList, parseLockfile, sha256sums } from '../../image/plan/manifest.js';
import {
  backportBuildScript, backportChangelogEntry, backportMmdebstrapArgs, backportVersion, basePackages, rootfsMmdebstrapArgs, sourceLines,
} from '../../image/plan/mmdebstrap.js';
import { planPartitions } from '../../image/plan/partitions.js';
import { BUILD_TOOLS, MIN_FREE_BYTES, preflightProblems } from '../../image/preflight.js';
import { integrityOf } from '../../image/stages/app.js';

const configs = fileURLToPath(new URL('../../image/configs/', import.meta.url));
const debian = loadConfig(`${configs}debian-13-amd64.json`);
const ubuntu = loadConfig(`${configs}ubuntu-24.04-amd64.json`);

describe('mmdebstrap plans', () => {
  it('writes one source line per type and suite, with the keyring and validity options', () => {
    expect(sourceLines(debian.backports.from, debian.keyring)).toEqual([
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg check-valid-until=no] http://deb.debian.org/debian sid main',
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg check-valid-until=no] http://deb.debian.org/debian sid main',
    ]);
    expect(sourceLines(ubuntu.backports.from, ubuntu.keyring)[0]).toContain('signed-by=/usr/share/keyrings/debian-archive-keyring.gpg');
  });

  it('builds the root file system from the base suite with kernel, boot loader, janus and coturn', () => {
    const args = rootfsMmdebstrapArgs({
      config: debian, localRepo: '/r', localPackages: ['janus=1.4.1+ds-4~stube13+1', 'coturn=4.18.0-1'], aptArchive: '/apt', target: '/t', packageListOut: '/p',
    });
    const include = args.find((a) => a.startsWith('--include='))?.slice('--include='.length).split(',') ?? [];
    for (const p of ['linux-image-amd64', 'systemd-boot-efi', 'systemd-repart', 'avahi-daemon', 'nftables', 'systemd-timesyncd', 'janus=1.4.1+ds-4~stube13+1', 'coturn=4.18.0-1']) {
      expect(include).toContain(p);
    }
    const positional = args.filter((a) => !a.startsWith('--'));
    expect(positional.slice(0, 2)).toEqual(['trixie', '/t']);
    expect(positional.join('\n')).toContain('http://deb.debian.org/debian-security trixie-security main non-free-firmware');
    expect(positional.join('\n')).not.toContain(' sid ');
    expect(positional.at(-1)).toBe('deb [trusted=yes] copy:///r ./');
    expect(args).toContain('--dpkgopt=path-include=/usr/share/doc/*/copyright');
  });

  it('takes an Ubuntu suite, mirror, keyring and kernel through configuration', () => {
    const args = rootfsMmdebstrapArgs({ config: ubuntu, localRepo: '/r', localPackages: [], aptArchive: '/apt', target: '/t', packageListOut: '/p' });
    expect(args).toContain('--keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg');
    expect(args.filter((a) => !a.startsWith('--'))[0]).toBe('noble');
    expect(args.join('\n')).toContain('http://archive.ubuntu.com/ubuntu noble-updates main universe restricted');
    expect(basePackages(ubuntu)).toContain('linux-image-generic');
  });

  it('builds backports in a chroot of the base suite, never installing build dependencies from the newer suite', () => {
    const args = backportMmdebstrapArgs({ config: debian, packages: debian.backports.packages, aptArchive: '/apt', outDir: '/o', scriptFile: '/s.sh' });
    expect(args).toContain('--variant=buildd');
    const pins = args.find((a) => a.includes('Pin:')) ?? '';
    expect(pins).toContain('Pin: release n=sid\nPin-Priority: 1');
    expect(pins).toContain('Package: debhelper libdebhelper-perl dh-nodejs\nPin: release n=trixie-backports\nPin-Priority: 600');
    expect(args.filter((a) => !a.startsWith('--')).slice(0, 2)).toEqual(['trixie', '/dev/null']);
  });

  it('keeps Debian packaging and marks the rebuild with a changelog entry and a lower version', () => {
    const janus = debian.backports.packages[0];
    if (!janus) throw new Error('no janus');
    expect(backportVersion(janus, debian.backports.versionSuffix)).toBe('1.4.1+ds-4~stube13+1');
    const entry = backportChangelogEntry(janus, debian);
    expect(entry).toMatch(/^janus \(1\.4\.1\+ds-4~stube13\+1\) trixie; urgency=medium\n/);
    expect(entry).toMatch(/\n -- Stube image pipeline <build@stube.invalid> {2}Thu, 01 Jan 2026 00:00:00 \+0000\n/);
    const script = backportBuildScript(debian, debian.backports.packages);
    expect(script).toContain('apt-get source --only-source janus=1.4.1+ds-4');
    expect(script).toContain('apt-get build-dep -y --no-install-recommends --arch-only -P nocheck,nodoc ./janus-1.4.1+ds');
    expect(script).toContain('dpkg-buildpackage -B -uc -us');
    expect(script).toContain('apt-get download coturn=4.18.0-1');
    expect(script).not.toMatch(/quilt|patch -p/);
  });
});

describe('manifest', () => {
  it('parses package lists and lockfiles, and writes SHA256SUMS', () => {
    const debs = parseDpkgList('zlib1g\t1:1.3\tamd64\tzlib\t1:1.3\njanus\t1.4.1+ds-4~stube13+1\tamd64\t\t\n');
    expect(debs[0]).toEqual({ name: 'janus', version: '1.4.1+ds-4~stube13+1', architecture: 'amd64', source: 'janus', sourceVersion: '1.4.1+ds-4~stube13+1' });
    const npm = parseLockfile({ packages: { '': {}, 'node_modules/hono': { version: '4.0.0' }, 'node_modules/vitest': { version: '4.1.0', dev: true }, 'node_modules/a/node_modules/b': { version: '1.0.0' } } });
    expect(npm).toEqual([{ name: 'b', version: '1.0.0' }, { name: 'hono', version: '4.0.0' }]);
    const m = buildManifest({ config: debian, version: '0.1.0', inputsKey: 'k', plan: planPartitions(debian.partitions, 's'), debian: debs, npm });
    expect(m.backports[0]).toEqual({ source: 'janus', version: '1.4.1+ds-4', route: 'rebuild', installedAs: ['janus 1.4.1+ds-4~stube13+1'] });
    expect(sha256sums([{ file: 'a.img', sha256: 'ab' }])).toBe('ab  a.img\n');
  });

  it('hashes inputs independent of key order', () => {
    expect(stableJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(cacheKey('x', { a: 1, b: 2 })).toBe(cacheKey('x', { b: 2, a: 1 }));
    expect(cacheKey('x', { a: 1 })).not.toBe(cacheKey('x', { a: 2 }));
  });

  it('computes npm registry integrity strings', () => {
    expect(integrityOf(Buffer.from('hello'))).toBe('sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw==');
  });
});

describe('preflight', () => {
  const ok = { uid: 0, has: () => true, exists: () => true, freeBytes: MIN_FREE_BYTES };
  it('passes on a prepared machine', () => {
    expect(preflightProblems(debian, ok)).toEqual([]);
  });
  it('lists every problem at once with what to install', () => {
    const problems = preflightProblems(debian, { uid: 1000, has: (c) => c !== 'sgdisk' && c !== 'mcopy', exists: () => false, freeBytes: 1024 ** 3 });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/run as root/);
    expect(problems[1]).toBe('missing mcopy, sgdisk: apt-get install mtools gdisk');
    expect(problems[2]).toMatch(/keyring .* not found \(apt-get install debian-archive-keyring\)/);
    expect(problems[3]).toMatch(/1\.0 GiB free/);
    expect(BUILD_TOOLS.map((t) => t.command)).toContain('mmdebstrap');
  });
});

describe('VM disk', () => {
  it('adds kernel options to the options line of a boot entry only', async () => {
    const { withKernelOptions } = await import('../../image/vm/disk.js');
    const entry = 'title x\nversion 1\noptions root=PARTUUID=ab ro\n';
    expect(withKernelOptions(entry, ['a=1', 'b'])).toBe('title x\nversion 1\noptions root=PARTUUID=ab ro a=1 b\n');
  });
});
