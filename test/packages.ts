// Debian packages the test suite needs, keyed by the command or file that proves each is present.
// `npm test` installs missing ones when it runs as root, otherwise it prints the exact apt command.
export interface RequiredPackage {
  /** Debian package name. */
  readonly pkg: string;
  /** An absolute path that exists once the package is installed. */
  readonly probe: string;
  /** Which tests need it. */
  readonly for: 'integration' | 'image';
}

export const REQUIRED_PACKAGES: readonly RequiredPackage[] = [
  { pkg: 'janus', probe: '/usr/bin/janus', for: 'integration' },
  { pkg: 'chromium', probe: '/usr/bin/chromium', for: 'integration' },
  { pkg: 'firefox-esr', probe: '/usr/bin/firefox-esr', for: 'integration' },
  { pkg: 'iproute2', probe: '/usr/sbin/ip', for: 'integration' },
  { pkg: 'nftables', probe: '/usr/sbin/nft', for: 'integration' },
  // turnserver, and turnutils_uclient / turnutils_peer for the TURN tests. Its own service never starts
  // here (no systemd as PID 1; the test runner's installs must not start daemons either).
  { pkg: 'coturn', probe: '/usr/bin/turnutils_uclient', for: 'integration' },
  // The setup wizard's home network: a router with UPnP/NAT-PMP, an ACME server and its DNS responder.
  { pkg: 'miniupnpd-nftables', probe: '/usr/sbin/miniupnpd', for: 'integration' },
  { pkg: 'pebble', probe: '/usr/bin/pebble-challtestsrv', for: 'integration' },
  { pkg: 'curl', probe: '/usr/bin/curl', for: 'integration' },
  { pkg: 'openssl', probe: '/usr/bin/openssl', for: 'integration' },
  { pkg: 'mmdebstrap', probe: '/usr/bin/mmdebstrap', for: 'image' },
  { pkg: 'qemu-system-x86', probe: '/usr/bin/qemu-system-x86_64', for: 'image' },
  { pkg: 'ovmf', probe: '/usr/share/OVMF/OVMF_CODE_4M.fd', for: 'image' },
  { pkg: 'dosfstools', probe: '/usr/sbin/mkfs.vfat', for: 'image' },
  { pkg: 'mtools', probe: '/usr/bin/mcopy', for: 'image' },
  { pkg: 'e2fsprogs', probe: '/usr/sbin/mkfs.ext4', for: 'image' },
  { pkg: 'gdisk', probe: '/usr/sbin/sgdisk', for: 'image' },
  { pkg: 'zstd', probe: '/usr/bin/zstd', for: 'image' },
  { pkg: 'dpkg-dev', probe: '/usr/bin/dpkg-scanpackages', for: 'image' },
  { pkg: 'build-essential', probe: '/usr/bin/g++', for: 'image' },
  { pkg: 'python3', probe: '/usr/bin/python3', for: 'image' },
  { pkg: 'debian-archive-keyring', probe: '/usr/share/keyrings/debian-archive-keyring.gpg', for: 'image' },
  { pkg: 'chromium', probe: '/usr/bin/chromium', for: 'image' },
  // Update bundles: signed with gpg at build time, the signature checked with sqv as on the box.
  { pkg: 'gpg', probe: '/usr/bin/gpg', for: 'image' },
  { pkg: 'sqv', probe: '/usr/bin/sqv', for: 'image' },
];
