// Janus prints some addresses even at warning level (e.g. its own private address when no STUN server
// is set). Our privacy rule is "no IP address in default logs", so every line Janus prints passes
// through here before it reaches a log.
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
// Hex groups with at least two colons, including compressed (::) forms; a time like 10:20:25 has no
// hex letters but would match, so require either a letter a-f, a '::', or 8 groups.
const IPV6 = /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g;

export function redactAddresses(line: string): string {
  return line.replace(IPV4, '[address]').replace(IPV6, (m) => (/[a-fA-F]|::/.test(m) || m.split(':').length === 8 ? '[address]' : m));
}
