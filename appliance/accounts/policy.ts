// Who may do what: one table for the JSON API (by account role) and one for moderator actions inside a
// meeting (by meeting role). The server checks these before every action; the unit test walks every
// role × action pair.
export type ApiRole = 'admin' | 'member' | 'anonymous';

export const API_ACTIONS = [
  'meeting.start',
  'accounts.list',
  'accounts.create',
  'accounts.remove',
  'accounts.resetPassword',
  'rooms.list',
  'rooms.create',
  'rooms.update',
  'rooms.remove',
  'invites.create',
  'invites.revoke',
  'live.list',
  'live.end',
] as const;
export type ApiAction = (typeof API_ACTIONS)[number];

const MEMBER_API: ReadonlySet<ApiAction> = new Set<ApiAction>([
  'meeting.start',
  'rooms.list',
  'rooms.create',
  'rooms.update',
  'invites.create',
  'invites.revoke',
  'live.list',
]);

/**
 * Admins: everything. Members: start meetings, manage rooms' settings and links, see live meetings;
 * not accounts, deleting rooms or ending others' meetings. Anonymous: only starting an ad-hoc meeting,
 * and only where the box allows that (`openMeetings`, development).
 */
export function apiAllowed(role: ApiRole, action: ApiAction, opts: { openMeetings: boolean }): boolean {
  switch (role) {
    case 'admin':
      return true;
    case 'member':
      return MEMBER_API.has(action);
    case 'anonymous':
      return action === 'meeting.start' && opts.openMeetings;
    default:
      return assertNever(role);
  }
}

export const MEETING_ACTIONS = ['admit', 'deny', 'admitAll', 'mute', 'muteAll', 'stopVideo', 'remove', 'lock', 'unlock', 'promote', 'end'] as const;
export type MeetingAction = (typeof MEETING_ACTIONS)[number];
export type MeetingRole = 'moderator' | 'participant';

/** Every moderator action is for moderators only; a participant may do none of them. */
export function meetingAllowed(role: MeetingRole, action: MeetingAction): boolean {
  switch (role) {
    case 'moderator':
      return (MEETING_ACTIONS as readonly string[]).includes(action);
    case 'participant':
      return false;
    default:
      return assertNever(role);
  }
}

function assertNever(x: never): never {
  throw new Error(`unknown role ${String(x)}`);
}
