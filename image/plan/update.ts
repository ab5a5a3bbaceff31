// The update bundle and the box's side of systemd-sysupdate, as pure data: file names inside a bundle,
// the transfer definitions, the bundle manifest. The bundle stage and the update helper both use these
// names, so what the pipeline writes is what the box looks for.
import type { SystemFile } from './files.js';

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

/** Bundle archive member names for one version. The root file carries the new slot's partition UUID. */
export interface BundleNames {
  readonly root: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly entry: string;
}

export function bundleNames(name: string, version: string, rootPartUuid: string): BundleNames {
  return {
    root: `${name}_${version}_${rootPartUuid.toLowerCase()}.root.raw.gz`,
    kernel: `${name}_${version}.vmlinuz`,
    initrd: `${name}_${version}.initrd`,
    entry: `${name}_${version}.conf`,
  };
}

/** The bundle archive's file name in out/ and on a channel. */
export function bundleFileName(name: string, version: string, architecture: string): string {
  return `${name}-${version}-${architecture}.update.tar`;
}

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

/** What a bundle says about itself (manifest.json inside the archive, covered by the signature). */
export interface BundleManifest {
  readonly format: 1;
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Seconds since the epoch when the bundle was signed (not the box's clock: see docs/updates.md). */
  readonly signedAt: number;
  readonly changelog: string;
  readonly files: BundleNames;
  /** Package versions of the root slot (Debian and npm), from the image manifest. */
  readonly packages: { readonly debian: readonly { name: string; version: string }[]; readonly npm: readonly { name: string; version: string }[] };
}

export const bundleManifestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'name', 'version', 'architecture', 'signedAt', 'changelog', 'files', 'packages'],
  properties: {
    format: { const: 1 },
    name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,30}$' },
    version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$', maxLength: 64 },
    architecture: { type: 'string', pattern: '^[a-z0-9_-]{1,16}$' },
    signedAt: { type: 'integer', minimum: 0 },
    changelog: { type: 'string', maxLength: 65536 },
    files: {
      type: 'object',
      additionalProperties: false,
      required: ['root', 'kernel', 'initrd', 'entry'],
      properties: {
        root: { type: 'string', pattern: '^[a-z0-9_.+-]{1,120}$' },
        kernel: { type: 'string', pattern: '^[a-z0-9_.+-]{1,120}$' },
        initrd: { type: 'string', pattern: '^[a-z0-9_.+-]{1,120}$' },
        entry: { type: 'string', pattern: '^[a-z0-9_.+-]{1,120}$' },
      },
    },
    packages: {
      type: 'object',
      additionalProperties: false,
      required: ['debian', 'npm'],
      properties: {
        debian: { type: 'array', maxItems: 10000, items: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string', maxLength: 214 }, version: { type: 'string', maxLength: 128 } } } },
        npm: { type: 'array', maxItems: 10000, items: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string', maxLength: 214 }, version: { type: 'string', maxLength: 128 } } } },
      },
    },
  },
} as const;

/** Lines added to /usr/lib/os-release: systemd-sysupdate reads IMAGE_VERSION as the running version (%A). */
export function osReleaseLines(name: string, version: string): string {
  return `IMAGE_ID=${name}\nIMAGE_VERSION=${version}\n`;
}
