// The update bundle and the box's side of systemd-sysupdate, as pure data: file names inside a bundle,
// the transfer definitions, the bundle manifest. The bundle stage and the update helper both use these
// names, so what the pipeline writes is what the box looks for.
import type { SystemFile } from './files.js';

// The bundle's format is shared with the box's update helper, which lives in appliance/ (the image's
// app carries appliance/ only).
export { bundleFileName, bundleManifestSchema, bundleMembers, bundleNames, type BundleManifest, type BundleNames } from '../../appliance/update/bundle-format.js';

/** Where things live on the box. The staging folders are on the data partition (survive a reboot). */
export const UPDATE_PATHS = {
  /** systemd-sysupdate transfer definitions (not /usr/lib/sysupdate.d: only our helper runs them). */
  definitions: '/usr/lib/stube/sysupdate.d',
  /** OpenPGP public key(s) that may sign bundles; the image carries no private key. */
  keyring: '/usr/lib/stube/update-keyring.pgp',
  /**
   * Root-only folder on the data partition (survives reboots: downloads resume). The service user owns
   * the data partition's top folder and could swap this folder's name, so the helper's unit binds it to
   * `private` when it starts and the helper refuses it unless it is root's and mode 0700.
   */
  state: '/var/lib/stube/update',
  private: '/run/stube/update-private',
  /** Downloads in progress and finished bundles (resumable). */
  downloads: '/run/stube/update-private/download',
  /** Files of a bundle whose signature and hashes were checked; systemd-sysupdate reads from here. */
  verified: '/run/stube/update-private/verified',
  /** Requests from the service to the root helper, and the helper's status (tmpfs). */
  run: '/run/stube/update',
  /** Kernels and initrds of every installed version on the ESP. */
  espKernels: '/stube',
  espEntries: '/loader/entries',
} as const;

/** Boot entry file name with systemd-boot's counter ("+3" = three tries left). */
export function entryFileName(name: string, version: string, tries: number): string {
  return `${name}_${version}+${tries}.conf`;
}

export function espKernelPath(name: string, version: string): string {
  return `${UPDATE_PATHS.espKernels}/${name}_${version}.vmlinuz`;
}

export function espInitrdPath(name: string, version: string): string {
  return `${UPDATE_PATHS.espKernels}/${name}_${version}.initrd`;
}

/** Transfer definitions for systemd-sysupdate, in the order they run (boot entry last). */
export function transferFiles(name: string, bootTries: number): SystemFile[] {
  const common = { sourceDir: UPDATE_PATHS.verified, partitionType: '', targetPath: '', triesLeft: 0 };
  const file = (n: string, data: Record<string, unknown>): SystemFile => ({
    target: 'root', path: `${UPDATE_PATHS.definitions}/${n}.transfer`, template: 'update/transfer', data: { ...common, ...data }, mode: 0o644,
  });
  return [
    file('10-root', {
      sourcePattern: `${name}_@v_@u.root.raw.gz`, targetType: 'partition', partitionType: 'root', targetPatterns: [`${name}_@v`],
    }),
    file('20-kernel', {
      sourcePattern: `${name}_@v.vmlinuz`, targetType: 'regular-file', targetPath: UPDATE_PATHS.espKernels, targetPatterns: [`${name}_@v.vmlinuz`],
    }),
    file('30-initrd', {
      sourcePattern: `${name}_@v.initrd`, targetType: 'regular-file', targetPath: UPDATE_PATHS.espKernels, targetPatterns: [`${name}_@v.initrd`],
    }),
    file('90-entry', {
      sourcePattern: `${name}_@v.conf`, targetType: 'regular-file', targetPath: UPDATE_PATHS.espEntries,
      targetPatterns: [`${name}_@v+@l-@d.conf`, `${name}_@v+@l.conf`, `${name}_@v.conf`], triesLeft: bootTries,
    }),
  ];
}

/** Lines added to /usr/lib/os-release: systemd-sysupdate reads IMAGE_VERSION as the running version (%A). */
export function osReleaseLines(name: string, version: string): string {
  return `IMAGE_ID=${name}\nIMAGE_VERSION=${version}\n`;
}
