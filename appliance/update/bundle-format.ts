// The update bundle's format, shared by the image pipeline (which writes bundles) and the update helper
// on the box (which checks them): member names, the manifest and its schema.

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

/** Member order in the archive: the small signed metadata first, the root slot last. */
export function bundleMembers(names: BundleNames): string[] {
  return ['SHA256SUMS', 'SHA256SUMS.gpg', 'manifest.json', names.entry, names.kernel, names.initrd, names.root];
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

