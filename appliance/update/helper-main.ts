// Entry point of stube-update-apply.service (root): read the service's request, do it, write the status.
// The environment (set by the unit, see image/plan/files.ts) names every path; nothing else is read.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../config/durable.js';
import { parseHelperRequest, REQUEST_FILE, STATUS_FILE, type HelperStatus } from './helper-protocol.js';
import { realBootSettled, realReboot, realSysupdate, runRequest } from './helper.js';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`update helper: ${name} is not set`);
  return v;
}

async function main(): Promise<void> {
  const runDir = env('STUBE_UPDATE_RUN');
  const statusFile = join(runDir, STATUS_FILE);
  const raw = await readFile(join(runDir, REQUEST_FILE), 'utf8');
  if (raw.length > 1024) throw new Error('update helper: the request is too large');
  const request = parseHelperRequest(JSON.parse(raw));
  let previous: HelperStatus | null = null;
  try {
    previous = JSON.parse(await readFile(statusFile, 'utf8')) as HelperStatus;
  } catch {
    previous = null;
  }
  if (previous?.id === request.id && previous.state !== 'working') return; // already answered
  const definitions = env('STUBE_UPDATE_DEFINITIONS');
  const status = await runRequest(request, previous, {
    paths: {
      private: env('STUBE_UPDATE_PRIVATE'),
      keyring: env('STUBE_UPDATE_KEYRING'),
      definitions,
      settings: env('STUBE_UPDATE_SETTINGS'),
      versionFile: env('STUBE_VERSION_FILE'),
    },
    name: 'stube',
    architecture: 'amd64',
    sysupdate: realSysupdate(definitions),
    bootSettled: realBootSettled(),
    reboot: realReboot,
    // World-readable: the service reads it; it holds versions and messages, nothing secret.
    report: (s) => writeFileDurable(statusFile, `${JSON.stringify(s)}\n`, 0o644),
  });
  console.log(`update helper: ${request.op} ${status.state}${status.error ? ` (${status.error.code}: ${status.error.message})` : ''}`);
}

main().catch((err: unknown) => {
  console.error('update helper failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
