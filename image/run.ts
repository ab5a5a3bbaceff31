// Runs one external command of a stage with its output in the stage's log file, so a long build stays
// readable; on failure the error carries the log's last lines.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import type { BuildContext } from './context.js';
import { ImageError } from './errors.js';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Runs `command args…` with stdout and stderr appended to <logs>/<stage>.log. */
export async function runLogged(
  ctx: BuildContext,
  stage: string,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<void> {
  mkdirSync(ctx.paths.logs, { recursive: true });
  const logFile = join(ctx.paths.logs, `${stage}.log`);
  const started = Date.now();
  const result = await $({
    cwd: options.cwd ?? ctx.paths.repo,
    env: { ...process.env, ...options.env },
    quiet: true,
    nothrow: true,
  })`${command} ${args} >> ${logFile} 2>&1`;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (result.exitCode !== 0) {
    throw new ImageError(
      'STAGE_FAILED',
      `${stage}: ${command} failed with exit code ${result.exitCode} after ${seconds} s (log: ${logFile})\n${tail(logFile, 40)}`,
    );
  }
  ctx.log(`${stage}: ${command} done in ${seconds} s`);
}

/** Runs a command and returns its stdout; for short queries (sgdisk -p, sha256sum, dpkg-deb). */
export async function capture(command: string, args: readonly string[], cwd?: string): Promise<string> {
  const result = await $({ quiet: true, nothrow: true, ...(cwd ? { cwd } : {}) })`${command} ${args}`;
  if (result.exitCode !== 0) {
    throw new ImageError('STAGE_FAILED', `${command} ${args.join(' ')} failed (${result.exitCode}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}
