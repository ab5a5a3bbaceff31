// mmdebstrap command lines for the root file system and for the backport build chroot, built from the
// image configuration. Pure: the stages run them, the unit tests read them.
import type { AptSource, Backport, ImageConfig } from '../config/schema.js';

/** One-line sources entries ("deb [opts] uri suite components"), one per type and suite. */
export function sourceLines(source: AptSource, defaultKeyring: string): string[] {
  const options = [`signed-by=${source.signedBy ?? defaultKeyring}`];
  if (source.checkValidUntil === false) options.push('check-valid-until=no');
  const lines: string[] = [];
  for (const type of source.types) {
    for (const suite of source.suites) {
      lines.push(`${type} [${options.join(' ')}] ${source.uri} ${suite} ${source.components.join(' ')}`);
    }
  }
  return lines;
}

/** Documentation, manual pages and translations are left out of the image; copyright notices stay. */
export const DPKG_EXCLUDES: readonly string[] = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
];

/**
 * Packages of the root file system, apart from the backports (which come in as .deb files). Kept in one
 * list so the manifest test and the docs can name them.
 */
export function basePackages(config: ImageConfig): string[] {
  const common = [
    config.kernelPackage,
    'systemd', 'systemd-sysv', 'systemd-resolved', 'systemd-timesyncd', 'systemd-repart',
    'systemd-boot', 'systemd-boot-efi', 'udev', 'dbus', 'kmod', 'initramfs-tools', 'e2fsprogs',
    'login', 'iproute2', 'nftables', 'avahi-daemon', 'openssl', 'ca-certificates', 'curl', 'tzdata',
    // The updater: systemd-sysupdate (in systemd-container) writes the inactive slot; sqv (already pulled
    // in by apt) checks the bundle's OpenPGP signature.
    'systemd-container', 'sqv',
  ];
  return [...new Set([...common, ...config.packages])];
}

export interface RootfsArgsInput {
  readonly config: ImageConfig;
  /**
   * A flat repository (folder with the backport .debs and a Packages index) that apt reads through its
   * copy:// method, so nothing outside the chroot has to be visible inside it.
   */
  readonly localRepo: string;
  /** Packages from the local repository, as name=version. */
  readonly localPackages: readonly string[];
  /** Host folder that keeps downloaded .deb files between builds. */
  readonly aptArchive: string;
  /** Empty folder that receives the root file system. */
  readonly target: string;
  /** Host file that receives `dpkg-query` output for the manifest. */
  readonly packageListOut: string;
}

const INITRAMFS_CONF = [
  '# Written by the Stube image pipeline: a generic initrd that boots on any x86-64 box.',
  'MODULES=most',
  'COMPRESS=zstd',
  '',
].join('\n');

/** The root file system: packages only; the configure stage adds the rest from templates. */
export function rootfsMmdebstrapArgs(input: RootfsArgsInput): string[] {
  const { config } = input;
  const args = [
    '--mode=root',
    '--variant=minbase',
    `--architectures=${config.architecture}`,
    `--keyring=${config.keyring}`,
    '--aptopt=Acquire::Languages "none"',
    '--aptopt=APT::Install-Recommends "false"',
    ...DPKG_EXCLUDES.map((o) => `--dpkgopt=${o}`),
    `--include=${[...basePackages(config), ...input.localPackages].join(',')}`,
    '--setup-hook=mkdir -p "$1/var/cache/apt/archives"',
    `--setup-hook=sync-in ${input.aptArchive} /var/cache/apt/archives`,
    '--skip=essential/unlink',
    '--essential-hook=mkdir -p "$1/etc/initramfs-tools/conf.d"',
    `--essential-hook=printf '%s' '${INITRAMFS_CONF}' > "$1/etc/initramfs-tools/conf.d/stube.conf"`,
    `--customize-hook=sync-out /var/cache/apt/archives ${input.aptArchive}`,
    `--customize-hook=chroot "$1" dpkg-query -W -f '\${Package}\\t\${Version}\\t\${Architecture}\\t\${source:Package}\\t\${source:Version}\\n' > ${input.packageListOut}`,
    '--customize-hook=rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*',
    // The local repository is a build-time source only.
    '--customize-hook=find "$1/etc/apt" -name "*.list" -exec sed -i "/copy:\\/\\//d" {} +',
    config.suite,
    input.target,
    ...config.sources.flatMap((s) => sourceLines(s, config.keyring)),
    `deb [trusted=yes] copy://${input.localRepo} ./`,
  ];
  return args;
}

export interface BackportArgsInput {
  readonly config: ImageConfig;
  readonly packages: readonly Backport[];
  readonly aptArchive: string;
  /** Host folder that receives one sub-folder of .deb files per source package. */
  readonly outDir: string;
  /** The build script that runs inside the chroot (see backportBuildScript). */
  readonly scriptFile: string;
}

/** Version of the rebuilt package: Debian's version with our suffix (sorts below the original). */
export function backportVersion(pkg: Backport, suffix: string): string {
  return `${pkg.version}${suffix}`;
}

/** A changelog entry that marks the rebuild; Debian's packaging is otherwise untouched. */
export function backportChangelogEntry(pkg: Backport, config: ImageConfig): string {
  const date = new Date(config.sourceDateEpoch * 1000).toUTCString().replace('GMT', '+0000');
  return [
    `${pkg.source} (${backportVersion(pkg, config.backports.versionSuffix)}) ${config.suite}; urgency=medium`,
    '',
    `  * Rebuild of ${pkg.version} for ${config.distribution} ${config.suite} by the Stube image pipeline.`,
    '',
    ` -- Stube image pipeline <build@stube.invalid>  ${date}`,
    '',
    '',
  ].join('\n');
}

/** Shell script run inside the build chroot: fetch, build or download each package into /out/<source>. */
export function backportBuildScript(config: ImageConfig, packages: readonly Backport[]): string {
  const lines = [
    '#!/bin/sh',
    '# Generated by the Stube image pipeline (image/plan/mmdebstrap.ts).',
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8',
    'mkdir -p /build /out',
  ];
  for (const pkg of packages) {
    const dir = `/build/${pkg.source}`;
    lines.push(`echo "=== $(date -u +%T) ${pkg.source} ${pkg.version} (${pkg.route})"`, `mkdir -p ${dir} /out/${pkg.source}`, `cd ${dir}`);
    switch (pkg.route) {
      case 'binary':
        for (const bin of pkg.binaries) lines.push(`apt-get download ${bin}=${pkg.version}`);
        lines.push(`mv ./*.deb /out/${pkg.source}/`);
        break;
      case 'rebuild': {
        const profiles = ['nocheck', 'nodoc', ...(pkg.profiles ?? [])].join(',');
        const upstream = pkg.version.replace(/^[0-9]+:/, '').replace(/-[^-]+$/, '');
        const srcDir = `${pkg.source}-${upstream}`;
        lines.push(
          `apt-get source --only-source ${pkg.source}=${pkg.version}`,
          `apt-get build-dep -y --no-install-recommends --arch-only -P ${profiles} ./${srcDir}`,
          `cat - ${srcDir}/debian/changelog > changelog.new <<'STUBE_CHANGELOG'`,
          backportChangelogEntry(pkg, config).trimEnd(),
          '',
          'STUBE_CHANGELOG',
          `mv changelog.new ${srcDir}/debian/changelog`,
          'echo "=== $(date -u +%T) build dependencies installed"',
          `(cd ${srcDir} && DEB_BUILD_OPTIONS="nocheck nodoc parallel=$(nproc)" DEB_BUILD_PROFILES="${profiles.replaceAll(',', ' ')}" dpkg-buildpackage -B -uc -us)`,
          `mv ./*.deb /out/${pkg.source}/`,
        );
        break;
      }
    }
  }
  lines.push('echo "=== $(date -u +%T) done"');
  return `${lines.join('\n')}\n`;
}

/** The build chroot: the base suite, build tools from its backports, sources from the newer suite. */
export function backportMmdebstrapArgs(input: BackportArgsInput): string[] {
  const { config } = input;
  const pins: string[] = [];
  const from = config.backports.from;
  for (const suite of from.suites) {
    // The newer suite is only for sources and explicitly versioned downloads, never for build deps.
    pins.push(`Package: *\nPin: release n=${suite}\nPin-Priority: 1\n`);
  }
  if (config.backports.buildToolPackages.length > 0) {
    for (const s of config.backports.buildToolSources) {
      for (const suite of s.suites) {
        pins.push(`Package: ${config.backports.buildToolPackages.join(' ')}\nPin: release n=${suite}\nPin-Priority: 600\n`);
      }
    }
  }
  return [
    '--mode=root',
    '--variant=buildd',
    `--architectures=${config.architecture}`,
    `--keyring=${config.keyring}`,
    '--include=ca-certificates,fakeroot',
    '--aptopt=Acquire::Languages "none"',
    '--aptopt=APT::Install-Recommends "false"',
    '--setup-hook=mkdir -p "$1/var/cache/apt/archives" "$1/etc/apt/preferences.d"',
    `--setup-hook=printf '%s' '${pins.join('\n')}' > "$1/etc/apt/preferences.d/stube-backports"`,
    `--setup-hook=sync-in ${input.aptArchive} /var/cache/apt/archives`,
    '--skip=essential/unlink',
    `--customize-hook=upload ${input.scriptFile} /stube-backports.sh`,
    '--customize-hook=chroot "$1" sh /stube-backports.sh',
    `--customize-hook=sync-out /var/cache/apt/archives ${input.aptArchive}`,
    `--customize-hook=sync-out /out ${input.outDir}`,
    config.suite,
    '/dev/null',
    ...config.sources.flatMap((s) => sourceLines(s, config.keyring)),
    ...config.backports.buildToolSources.flatMap((s) => sourceLines(s, config.keyring)),
    ...sourceLines(from, config.keyring),
  ];
}
