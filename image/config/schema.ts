// The image configuration: one JSON file per image, checked against this schema before any work starts.
// The TypeScript types below and the JSON schema describe the same shape; test/unit/image-config.test.ts
// keeps them honest by loading every shipped configuration.

/** One apt source line, as mmdebstrap and sources.list take it. */
export interface AptSource {
  readonly types: readonly ('deb' | 'deb-src')[];
  readonly uri: string;
  readonly suites: readonly string[];
  readonly components: readonly string[];
  /** For suites whose Release files expire quickly (unstable) when the mirror is a frozen snapshot. */
  readonly checkValidUntil?: boolean;
  /** Keyring for this source when it is not the image's keyring (e.g. Debian sources for an Ubuntu image). */
  readonly signedBy?: string;
}

/**
 * A package taken from a newer suite than the base. `rebuild` builds the Debian source package for the
 * base suite in a build chroot (Debian's patches kept, only a changelog entry added); `binary` installs
 * the newer suite's binary package as it is, for a package whose source the mirror does not serve and
 * whose binary's dependencies the base suite satisfies.
 */
export interface Backport {
  readonly source: string;
  readonly version: string;
  readonly route: 'rebuild' | 'binary';
  /** Binary packages of that source that go into the image. */
  readonly binaries: readonly string[];
  /** Build profiles beyond nocheck/nodoc, for packaging that offers them. */
  readonly profiles?: readonly string[];
}

export interface BackportSettings {
  /** Where the newer source and binary packages come from (e.g. Debian unstable). */
  readonly from: AptSource;
  /** Extra suites the build chroot may take build tools from, e.g. the base suite's backports. */
  readonly buildToolSources: readonly AptSource[];
  /** Build tools pinned to buildToolSources (e.g. a debhelper that knows a newer compat level). */
  readonly buildToolPackages: readonly string[];
  /** Suffix for the backport's version, e.g. "~stube13+1" gives 1.4.1+ds-4~stube13+1. */
  readonly versionSuffix: string;
  readonly packages: readonly Backport[];
}

export interface PartitionSizes {
  readonly espMiB: number;
  /** Size of each root slot (A and B are the same size). */
  readonly rootMiB: number;
  /** Initial size of the data partition; it grows to fill the disk on first boot. */
  readonly dataMiB: number;
}

export interface NodeRuntime {
  /** npm package that carries the Node.js binary (bin/node). */
  readonly package: string;
  readonly version: string;
  /** Subresource integrity of the package tarball, as the npm registry publishes it. */
  readonly integrity: string;
}

export interface NetworkPorts {
  readonly https: number;
  readonly turn: number;
  /** Janus's RTP/ICE range "first-last". */
  readonly rtp: string;
  /** coturn's relay range "first-last". */
  readonly turnRelay: string;
}

export interface UpdateSettings {
  /** Placeholders until the updater exists (another issue). */
  readonly channel: string;
  readonly url: string;
}

export interface ImageConfig {
  readonly name: string;
  /** Image version; empty means package.json's version. */
  readonly version: string;
  readonly distribution: 'debian' | 'ubuntu';
  readonly suite: string;
  readonly architecture: 'amd64';
  readonly sources: readonly AptSource[];
  readonly keyring: string;
  readonly kernelPackage: string;
  readonly hostname: string;
  readonly locale: string;
  readonly timezone: string;
  readonly packages: readonly string[];
  readonly partitions: PartitionSizes;
  readonly backports: BackportSettings;
  readonly node: NodeRuntime;
  readonly ports: NetworkPorts;
  readonly update: UpdateSettings;
  /** Boot attempts a slot gets before the boot loader marks it bad and falls back. */
  readonly bootTries: number;
  /**
   * Seconds a boot gets to become healthy (stube-healthy.service) before it restarts to use up a try; a
   * test build of a version made to fail can shorten it, so its tries run out in a test's time.
   */
  readonly healthTimeoutSeconds: number;
  /** Seconds since the epoch for file times and package builds (reproducible output). */
  readonly sourceDateEpoch: number;
}

const debName = '^[a-z0-9][a-z0-9+.-]+$';
const debVersion = '^[0-9A-Za-z.+~:-]+$';
const portRange = '^[0-9]{1,5}-[0-9]{1,5}$';

const aptSource = {
  type: 'object',
  additionalProperties: false,
  required: ['types', 'uri', 'suites', 'components'],
  properties: {
    types: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['deb', 'deb-src'] } },
    uri: { type: 'string', pattern: '^(https?|file)://[^\\s]+$' },
    suites: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9/-]+$' } },
    components: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9-]+$' } },
    checkValidUntil: { type: 'boolean', default: true },
    signedBy: { type: 'string', pattern: '^/.+\\.(gpg|asc)$' },
  },
} as const;

export const imageConfigSchema = {
  $id: 'https://stube.invalid/schemas/image-config.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'distribution', 'suite', 'architecture', 'sources', 'keyring', 'kernelPackage', 'partitions',
    'backports', 'node',
  ],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,30}$', default: 'stube' },
    version: { type: 'string', pattern: '^([0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?)?$', default: '' },
    distribution: { enum: ['debian', 'ubuntu'] },
    suite: { type: 'string', pattern: '^[a-z]+$' },
    architecture: { enum: ['amd64'] },
    sources: { type: 'array', minItems: 1, items: aptSource },
    keyring: { type: 'string', pattern: '^/.+\\.(gpg|asc)$' },
    kernelPackage: { type: 'string', pattern: debName },
    hostname: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', default: 'stube' },
    locale: { type: 'string', pattern: '^[A-Za-z_]+\\.UTF-8$', default: 'C.UTF-8' },
    timezone: { type: 'string', pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$', default: 'Etc/UTC' },
    packages: { type: 'array', items: { type: 'string', pattern: debName }, uniqueItems: true, default: [] },
    partitions: {
      type: 'object',
      additionalProperties: false,
      required: ['espMiB', 'rootMiB', 'dataMiB'],
      properties: {
        espMiB: { type: 'integer', minimum: 64, maximum: 4096 },
        rootMiB: { type: 'integer', minimum: 512, maximum: 65536 },
        dataMiB: { type: 'integer', minimum: 64, maximum: 65536 },
      },
    },
    backports: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'packages'],
      properties: {
        from: aptSource,
        buildToolSources: { type: 'array', items: aptSource, default: [] },
        buildToolPackages: { type: 'array', items: { type: 'string', pattern: debName }, default: [] },
        versionSuffix: { type: 'string', pattern: '^~[a-z0-9+.]+$', default: '~stube1' },
        packages: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['source', 'version', 'route', 'binaries'],
            properties: {
              source: { type: 'string', pattern: debName },
              version: { type: 'string', pattern: debVersion },
              route: { enum: ['rebuild', 'binary'] },
              binaries: { type: 'array', minItems: 1, items: { type: 'string', pattern: debName } },
              profiles: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9.-]+$' } },
            },
          },
        },
      },
    },
    node: {
      type: 'object',
      additionalProperties: false,
      required: ['package', 'version', 'integrity'],
      properties: {
        package: { type: 'string', pattern: '^[a-z0-9@/._-]+$' },
        version: { type: 'string', pattern: '^(2[4-9]|[3-9][0-9])\\.[0-9]+\\.[0-9]+$' },
        integrity: { type: 'string', pattern: '^sha512-[A-Za-z0-9+/]+=*$' },
      },
    },
    ports: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        https: { type: 'integer', minimum: 1, maximum: 65535, default: 443 },
        turn: { type: 'integer', minimum: 1, maximum: 65535, default: 3478 },
        rtp: { type: 'string', pattern: portRange, default: '20000-20199' },
        turnRelay: { type: 'string', pattern: portRange, default: '40000-40199' },
      },
    },
    update: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        channel: { type: 'string', pattern: '^[a-z0-9-]*$', default: 'stable' },
        url: { type: 'string', default: '' },
      },
    },
    bootTries: { type: 'integer', minimum: 1, maximum: 9, default: 3 },
    healthTimeoutSeconds: { type: 'integer', minimum: 30, maximum: 3600, default: 600 },
    sourceDateEpoch: { type: 'integer', minimum: 0, default: 1767225600 },
  },
} as const;
