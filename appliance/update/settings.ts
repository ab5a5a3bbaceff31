// The host's update settings: where updates come from (an HTTPS channel, any USB stick with an update
// folder, a folder, or nowhere), how often to look, and the maintenance window in which the box may restart. Kept on the
// data partition; written by the service, read by the service and by the root update helper, so both
// check it against the same schema.
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { writeFileDurable } from '../config/durable.js';

export type Channel =
  | { readonly kind: 'https'; readonly url: string }
  | { readonly kind: 'file'; readonly path: string }
  /** Any USB stick with a `stube-updates` folder (see usb-channel.ts). */
  | { readonly kind: 'usb' }
  | { readonly kind: 'none' };

/** A channel the box reads directly (a USB stick is first found and mounted, then read as a folder). */
export type DirectChannel = Exclude<Channel, { kind: 'usb' }>;

export interface UpdateSettings {
  readonly channel: Channel;
  /** Hours between checks of the channel. */
  readonly checkEveryHours: number;
  /** Maintenance window (box time, UTC on the image): start "HH:MM" and length in hours. */
  readonly window: { readonly start: string; readonly hours: number };
  /** Download and install a found update by itself (the restart still waits for the window). */
  readonly automatic: boolean;
}

export const DEFAULT_UPDATE_SETTINGS: UpdateSettings = {
  channel: { kind: 'none' },
  checkEveryHours: 24,
  window: { start: '03:00', hours: 2 },
  automatic: true,
};

export const updateSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channel', 'checkEveryHours', 'window', 'automatic'],
  properties: {
    channel: {
      oneOf: [
        {
          type: 'object', additionalProperties: false, required: ['kind', 'url'],
          // HTTPS only, no credentials in the URL (they would travel in logs and to proxies), no query.
          properties: { kind: { const: 'https' }, url: { type: 'string', maxLength: 512, pattern: '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$' } },
        },
        {
          type: 'object', additionalProperties: false, required: ['kind', 'path'],
          // A folder on removable media or on the data partition; no "..", nothing else of the system.
          properties: { kind: { const: 'file' }, path: { type: 'string', maxLength: 256, pattern: '^/(media|mnt|run/media|var/lib/stube/channel)(/[A-Za-z0-9_ -][A-Za-z0-9._ -]*)*$' } },
        },
        { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'usb' } } },
        { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'none' } } },
      ],
    },
    checkEveryHours: { type: 'integer', minimum: 1, maximum: 720 },
    window: {
      type: 'object', additionalProperties: false, required: ['start', 'hours'],
      properties: { start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }, hours: { type: 'integer', minimum: 1, maximum: 24 } },
    },
    automatic: { type: 'boolean' },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const validate = ajv.compile<UpdateSettings>(updateSettingsSchema);

export class UpdateSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpdateSettingsError';
  }
}

/** Checks untrusted input (an API body, the file) and returns it as settings, or says what is wrong. */
export function parseUpdateSettings(value: unknown): UpdateSettings {
  if (validate(value)) return value;
  const e = validate.errors?.[0];
  throw new UpdateSettingsError(`update settings: ${e?.instancePath || '/'} ${e?.message ?? 'is invalid'}`);
}

export async function loadUpdateSettings(file: string): Promise<UpdateSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_UPDATE_SETTINGS;
    throw err;
  }
  if (text.length > 16 * 1024) throw new UpdateSettingsError('update settings: the file is too large');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpdateSettingsError('update settings: the file is not JSON');
  }
  return parseUpdateSettings(json);
}

export async function saveUpdateSettings(file: string, settings: UpdateSettings): Promise<void> {
  // Readable by the root helper (root reads anything); 0600 keeps it the service's otherwise.
  await writeFileDurable(file, `${JSON.stringify(parseUpdateSettings(settings), null, 2)}\n`, 0o600);
}

/** Minutes since midnight for "HH:MM". */
function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** True when `now` (UTC) lies in the maintenance window; windows may run past midnight. */
export function inWindow(now: Date, window: UpdateSettings['window']): boolean {
  const start = minutesOf(window.start);
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  const since = (minute - start + 24 * 60) % (24 * 60);
  return window.hours >= 24 || since < window.hours * 60;
}

/** True when a check is due: never checked, or the last check is older than the interval. */
export function checkDue(now: Date, lastCheck: Date | null, everyHours: number): boolean {
  return lastCheck === null || now.getTime() - lastCheck.getTime() >= everyHours * 3600_000 || now.getTime() < lastCheck.getTime();
}
