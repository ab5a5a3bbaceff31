// The whole interface between the service (unprivileged) and the root update helper: one request file
// the service writes, one status file the helper writes, both in /run/stube/update. Four operations, no
// arguments the helper would have to trust: where to download from comes from the settings file (schema-
// checked again by the helper), and what to install is only ever a bundle whose signature it checked.
import { Ajv } from 'ajv';

export const HELPER_OPS = ['check', 'download', 'install', 'reboot'] as const;
export type HelperOp = (typeof HELPER_OPS)[number];

export interface HelperRequest {
  /** Chosen by the service; echoed in the status so it can tell its request's answer from an older one. */
  readonly id: string;
  readonly op: HelperOp;
}

export type HelperState = 'working' | 'done' | 'failed';

export interface HelperStatus {
  readonly id: string;
  readonly op: HelperOp;
  readonly state: HelperState;
  readonly currentVersion: string;
  /** What the channel offers (after check). */
  readonly available?: { readonly version: string; readonly size: number } | undefined;
  /** Bytes downloaded of the available bundle. */
  readonly downloaded?: { readonly version: string; readonly bytes: number; readonly total: number } | undefined;
  /** A version written to the other slot, booted at the next restart. */
  readonly installed?: { readonly version: string; readonly changelog: string } | undefined;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /** ISO time of the last finished check. */
  readonly checkedAt?: string | undefined;
  readonly updatedAt: string;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validateRequest = ajv.compile<HelperRequest>({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'op'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' }, op: { enum: [...HELPER_OPS] } },
});

export function parseHelperRequest(value: unknown): HelperRequest {
  if (!validateRequest(value)) throw new Error('update helper: the request is invalid');
  return value;
}

export const REQUEST_FILE = 'request.json';
export const STATUS_FILE = 'status.json';
