// The link "Copy invite link" copies from inside a meeting. A moderator's own link may carry a
// moderator invite token: it is never passed on that way (it would make every recipient a moderator),
// so a moderator's copy keeps the path and the meeting secret but not the token. A participant's copy
// keeps their participant token: it grants nothing they do not have.
import { formatFragment, parseFragment } from '../app/fragment.js';

export function shareableLink(href: string, isModerator: boolean): string {
  const url = new URL(href);
  const fragment = parseFragment(url.hash);
  url.hash = formatFragment(isModerator ? { ...(fragment.secret ? { secret: fragment.secret } : {}) } : fragment);
  return url.href;
}
