// The admin panel's calls to /api: same origin, the session cookie, JSON in and out. Types mirror the
// service's (appliance/accounts/*); the OpenAPI description at /api/openapi.json is the reference.
export interface Account {
  id: string;
  name: string;
  role: 'admin' | 'member';
  createdAt: number;
}
export interface Invite {
  id: string;
  roomId: string;
  role: 'moderator' | 'participant';
  expiresAt: number | null;
  revoked: boolean;
  createdAt: number;
}
export interface RoomSettings {
  name: string;
  waitingRoom: boolean;
  guestsAllowed: boolean;
  maxParticipants: number;
  lockedWithoutModerator: boolean;
}
export interface Room extends RoomSettings {
  id: string;
  hasPassword: boolean;
  invites: Invite[];
}
export interface LiveMeeting {
  id: string;
  room: string | null;
  participants: number;
  waiting: number;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(data.error ?? `the box answered ${res.status}`, res.status);
  return data as T;
}

/** The room's meeting secret lives only in this browser (the box must never learn it). */
export function roomSecret(roomId: string): string {
  const key = `stube.roomSecret.${roomId}`;
  let secret: string | null = null;
  try {
    secret = localStorage.getItem(key);
  } catch {
    secret = null;
  }
  if (!secret || !/^[A-Za-z0-9_-]{22,128}$/.test(secret)) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    secret = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    try {
      localStorage.setItem(key, secret);
    } catch (err) {
      console.warn('could not remember the room secret in this browser', err);
    }
  }
  return secret;
}
