// A small structured logger. Privacy rule: callers pass only non-identifying fields (counts, codes,
// durations, opaque short IDs); never names, room IDs, addresses, tokens, SDP or keys. Tests read the
// output of a whole meeting and check that.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(opts: { level: LogLevel; scope?: string; write?: (line: string) => void }): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < ORDER[opts.level]) return;
    let line = `${level.toUpperCase()} ${opts.scope ? `[${opts.scope}] ` : ''}${msg}`;
    for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) line += ` ${k}=${String(v)}`;
    write(line);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (scope) => createLogger({ ...opts, write, scope: opts.scope ? `${opts.scope}.${scope}` : scope }),
  };
}

/** For an error whose message we did not write (a library's): the class and code only. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { _code?: unknown; code?: unknown })._code ?? (err as { code?: unknown }).code;
    return code !== undefined ? `${err.name}(${String(code)})` : err.name;
  }
  return typeof err;
}
