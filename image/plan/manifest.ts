// The image's manifest: what it is, how its disk is laid out, and every package version it contains.
import type { ImageConfig } from '../config/schema.js';
import type { PartitionPlan } from './partitions.js';

export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly source: string;
  readonly sourceVersion: string;
}

export interface NpmPackage {
  readonly name: string;
  readonly version: string;
}

export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly base: { readonly distribution: string; readonly suite: string };
  readonly sourceDateEpoch: number;
  /** Hash of every input; a build whose inputs hash the same reuses the image. */
  readonly inputsKey: string;
  readonly partitions: PartitionPlan;
  readonly backports: readonly { source: string; version: string; route: string; installedAs: string[] }[];
  readonly node: { readonly package: string; readonly version: string };
  readonly debian: readonly DebianPackage[];
  readonly npm: readonly NpmPackage[];
}

/** Parses the rootfs stage's dpkg-query output (five tab-separated columns). */
export function parseDpkgList(text: string): DebianPackage[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [name = '', version = '', architecture = '', source = '', sourceVersion = ''] = line.split('\t');
      return { name, version, architecture, source: source || name, sourceVersion: sourceVersion || version };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Production dependencies from package-lock.json (lockfile version 2 or 3). */
export function parseLockfile(lock: { packages?: Record<string, { version?: string; dev?: boolean }> }): NpmPackage[] {
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && p.version)
    .map(([path, p]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), version: p.version ?? '' }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function buildManifest(input: {
  config: ImageConfig;
  version: string;
  inputsKey: string;
  plan: PartitionPlan;
  debian: readonly DebianPackage[];
  npm: readonly NpmPackage[];
}): Manifest {
  const { config } = input;
  return {
    name: config.name,
    version: input.version,
    architecture: config.architecture,
    base: { distribution: config.distribution, suite: config.suite },
    sourceDateEpoch: config.sourceDateEpoch,
    inputsKey: input.inputsKey,
    partitions: input.plan,
    backports: config.backports.packages.map((p) => ({
      source: p.source,
      version: p.version,
      route: p.route,
      installedAs: input.debian.filter((d) => p.binaries.includes(d.name)).map((d) => `${d.name} ${d.version}`),
    })),
    node: { package: config.node.package, version: config.node.version },
    debian: input.debian,
    npm: input.npm,
  };
}

/** SHA256SUMS in the format `sha256sum -c` reads. */
export function sha256sums(entries: readonly { file: string; sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join('');
}
