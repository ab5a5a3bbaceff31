// Password strength for the admin account: long enough, not a well-known password, not the name, and
// not one repeated or sequential pattern. Returns i18n reason keys; an empty list means acceptable.
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** The most common choices that pass a length check; anything built from them is refused. */
const COMMON = ['password', 'passwort', 'qwertz', 'qwerty', 'azerty', '123456', 'letmein', 'welcome', 'willkommen', 'admin', 'stube', 'iloveyou', 'abc123', 'monkey', 'dragon', 'sommer', 'summer', 'winter', 'hallo', 'hello', 'secret', 'geheim'];

export type PasswordProblem = 'tooShort' | 'tooLong' | 'common' | 'containsName' | 'repetitive' | 'fewKinds';

export function passwordProblems(password: string, name: string): PasswordProblem[] {
  const out: PasswordProblem[] = [];
  const chars = [...password];
  if (chars.length < PASSWORD_MIN) out.push('tooShort');
  if (chars.length > PASSWORD_MAX) out.push('tooLong');
  const lower = password.toLowerCase();
  // Strip the common words and digits/symbols: what remains must still be substantial.
  let rest = lower;
  for (const w of COMMON) rest = rest.split(w).join('');
  if (rest.replace(/[^\p{L}]/gu, '').length < 4 && COMMON.some((w) => lower.includes(w))) out.push('common');
  const n = name.trim().toLowerCase();
  if (n.length >= 3 && lower.includes(n)) out.push('containsName');
  if (new Set(chars).size < Math.min(6, Math.ceil(chars.length / 3)) || isSequence(lower)) out.push('repetitive');
  // Passphrases of several words are welcome: long ones need no character classes.
  const kinds = [/\p{Ll}/u, /\p{Lu}/u, /\p{N}/u, /[^\p{L}\p{N}]/u].filter((re) => re.test(password)).length;
  if (chars.length < 20 && kinds < 2) out.push('fewKinds');
  return out;
}

function isSequence(s: string): boolean {
  if (s.length < 4) return false;
  let up = 0;
  let down = 0;
  for (let i = 1; i < s.length; i++) {
    const d = s.charCodeAt(i) - s.charCodeAt(i - 1);
    if (d === 1) up++;
    if (d === -1) down++;
  }
  return up >= s.length - 2 || down >= s.length - 2;
}
