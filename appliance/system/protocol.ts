// Wire format between the service and the privileged helper: one JSON object per line over a unix
// socket. Requests carry an id so answers can be matched; lines are limited in size.
export const MAX_LINE_BYTES = 128 * 1024;

export interface HelperRequest {
  id: number;
  op: string;
  args: unknown;
}

export type HelperResponse = { id: number; ok: true } | { id: number; ok: false; refused: boolean; error: string };
