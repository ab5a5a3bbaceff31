// The SPA's few pages, decided by the path alone (the service serves index.html for `/` and `/r/<id>`).
import { MEETING_ID_PATTERN } from '../meeting/protocolImports.js';

export type Route = { page: 'landing' } | { page: 'admin' } | { page: 'meeting'; meetingId: string } | { page: 'not-found' };

const meetingPath = new RegExp(`^/r/(${MEETING_ID_PATTERN.slice(1, -1)})/?$`);

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'landing' };
  if (pathname === '/admin' || pathname === '/admin/') return { page: 'admin' };
  const m = meetingPath.exec(pathname);
  if (m?.[1]) return { page: 'meeting', meetingId: m[1] };
  return { page: 'not-found' };
}

export function meetingPathFor(meetingId: string): string {
  return `/r/${encodeURIComponent(meetingId)}`;
}

/** ws:// or wss:// on the page's own host; nothing identifying in the URL. */
export function signallingUrl(location: { protocol: string; host: string }, path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
