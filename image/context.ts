// The one object every stage takes: configuration, version and the folders it may use.
import { join } from 'node:path';
import type { ImageConfig } from './config/schema.js';
import { planPartitions, slotLabel, type PartitionPlan } from './plan/partitions.js';

export interface BuildPaths {
  /** The repository (package.json, dist/, templates/). */
  readonly repo: string;
  /** Caches that survive between builds, outside the repository (STUBE_IMAGE_CACHE). */
  readonly cache: string;
  /** Scratch space for this build; emptied per stage as needed. */
  readonly work: string;
  /** Where finished images land. */
  readonly out: string;
  /** Per-stage command logs. */
  readonly logs: string;
}

export interface BuildContext {
  readonly config: ImageConfig;
  readonly version: string;
  readonly paths: BuildPaths;
  readonly plan: PartitionPlan;
  /** Base name of the outputs: stube-<version>-amd64. */
  readonly imageName: string;
  readonly log: (message: string) => void;
}

export const DEFAULT_CACHE_DIR = '/var/cache/stube-build';

export function buildPaths(repo: string, env: NodeJS.ProcessEnv, outOverride?: string): BuildPaths {
  const cache = env['STUBE_IMAGE_CACHE'] || DEFAULT_CACHE_DIR;
  const work = env['STUBE_IMAGE_WORK'] || join(cache, 'work');
  return { repo, cache, work, out: outOverride ?? join(repo, 'out'), logs: join(work, 'logs') };
}

export function createContext(
  config: ImageConfig,
  version: string,
  paths: BuildPaths,
  log: (message: string) => void,
): BuildContext {
  return {
    config,
    version,
    paths,
    plan: planPartitions(config.partitions, `${config.name}-${version}`, slotLabel(config.name, version)),
    imageName: `${config.name}-${version}-${config.architecture}`,
    log,
  };
}
