/** Log levels in increasing severity. */
export const LogLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

export type LogFields = Record<string, unknown>;

/** Structured logger: one JSON line per event, with bound context fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `bindings` (e.g. guildId, sessionId). */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Strings that must never appear in output (tokens, API keys); replaced by "[redacted]". */
  secrets?: readonly string[];
  /** Where lines go; defaults to stdout. */
  write?: (line: string) => void;
  now?: () => number;
}

// Whole key, or its last word (`discordToken`, `DISCORD_TOKEN`, `x-api-key`, `proxy-authorization`), so that
// `tokenCount` or `secretary` stay readable.
const REDACTED_KEYS = /(?:^|[_-]|[a-z](?=[A-Z]))(authorization|token|api[_-]?key|password|secret|cookie)$/i;

/** Creates a JSON-lines logger. Keys that look like credentials and known secret values are redacted. */
export function createLogger(options: LoggerOptions, bindings: LogFields = {}): Logger {
  const threshold = LogLevels.indexOf(options.level);
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? Date.now;
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);

  const scrub = (line: string): string => {
    let out = line;
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };

  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LogLevels.indexOf(level) < threshold) return;
    const record: LogFields = { time: new Date(now()).toISOString(), level, msg, ...bindings, ...fields };
    const line = JSON.stringify(record, (key, value: unknown) => {
      if (REDACTED_KEYS.test(key) && value !== undefined) return '[redacted]';
      if (value instanceof Error) {
        const code = (value as { code?: unknown }).code;
        return { name: value.name, message: value.message, code, cause: value.cause instanceof Error ? value.cause.message : value.cause };
      }
      if (typeof value === 'bigint') return value.toString();
      return value;
    });
    write(scrub(line));
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (extra) => createLogger(options, { ...bindings, ...extra }),
  };
}
