// The part of a meeting link after '#'. Browsers never send it to a server, so it carries what the box
// must not learn or log: the meeting secret (end-to-end encryption) and, for links made in the admin
// panel, the invite token. Format: `#<secret>` or `#<secret>~<invite>`; both parts are base64url (plus
// '.' in the token), so '~' cannot occur inside either.

export interface LinkFragment {
  /** The meeting secret, base64url, or undefined when the link carries none. */
  secret?: string;
  /** The signed invite token, or undefined. */
  invite?: string;
}

const SECRET = /^[A-Za-z0-9_-]{22,128}$/;
const INVITE = /^[A-Za-z0-9_.-]{16,2048}$/;

/** Parses `location.hash` (with or without the '#'); parts that do not have the right shape are dropped. */
export function parseFragment(hash: string): LinkFragment {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const [secret, invite] = raw.split('~', 2);
  const out: LinkFragment = {};
  if (secret && SECRET.test(secret)) out.secret = secret;
  if (invite && INVITE.test(invite)) out.invite = invite;
  return out;
}

/** Builds the fragment (with '#') for a link; an empty object gives ''. */
export function formatFragment(fragment: LinkFragment): string {
  if (!fragment.secret && !fragment.invite) return '';
  return `#${fragment.secret ?? ''}${fragment.invite ? `~${fragment.invite}` : ''}`;
}
