// Janus prints some addresses even at warning level (e.g. its own private address when no STUN server
// is set). Our privacy rule is "no IP address in default logs", so every line Janus prints passes
// through here before it reaches a log.
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
/** Runs of hex digits and colons with at least one colon: candidates for IPv6 addresses. */
const HEX_COLON_RUN = /[0-9A-Fa-f:]*:[0-9A-Fa-f:]*/g;

export function redactAddresses(line: string): string {
  return line.replace(IPV4, '[address]').replace(HEX_COLON_RUN, (run: string, offset: number, whole: string) => {
    // A single colon at either end separates the run from a word ("Address:2001:db8::1"); '::' belongs to it.
    const lead = run.startsWith(':') && !run.startsWith('::') ? ':' : '';
    const trail = run.endsWith(':') && !run.endsWith('::') && run.length > 1 ? ':' : '';
    const core = run.slice(lead.length, run.length - trail.length);
    if (!core.includes(':')) return run;
    const before = whole[offset - 1];
    const after = whole[offset + run.length];
    // Part of a longer word, e.g. "codec12:34": not an address.
    if ((!lead && before && /\w/.test(before)) || (!trail && after && /\w/.test(after))) return run;
    const groups = core.split(':');
    // More than 8 groups is no address (a DTLS fingerprint has 32); a time like 10:20:25 has no hex
    // letters, no '::' and fewer than 8 groups.
    if (groups.length > 8) return run;
    if (/[a-fA-F]/.test(core) || core.includes('::') || groups.length === 8) return `${lead}[address]${trail}`;
    return run;
  });
}
