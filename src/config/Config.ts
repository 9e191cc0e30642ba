import { LogLevels, type LogLevel } from '../util/logger.js';
import { TinyscribeError } from '../util/errors.js';

/** Everything tinyscribe reads from its environment, validated and frozen. */
export interface Config {
  readonly discord: {
    readonly token: string;
    /** Discovered from the token at start when not given. */
    readonly applicationId: string | undefined;
    /** Base of the REST API ("…/api"); only tests and the demo change it. */
    readonly apiUrl: string;
    /** Guild for `npm run register` (guild commands appear at once); global when unset. */
    readonly registerGuildId: string | undefined;
  };
  readonly transcribe: {
    readonly baseUrl: string;
    /** undefined when the server needs no key (TRANSCRIBE_API_KEY=none). */
    readonly apiKey: string | undefined;
    readonly model: string;
    readonly language: string | undefined;
    readonly prompt: string | undefined;
    readonly responseFormat: 'json' | 'verbose_json' | 'text';
    readonly maxConcurrentUploads: number;
  };
  readonly audio: {
    readonly poolBytes: number;
    readonly silenceGapMs: number;
    readonly maxSegmentMs: number;
  };
  readonly storage: {
    readonly dataDir: string;
    readonly spoolDir: string;
    readonly spoolMaxBytes: number;
    /** Per-session transcript files while the session runs. */
    readonly transcriptDir: string;
    /** Per-guild settings and opt-outs. */
    readonly settingsFile: string;
  };
  readonly bot: {
    readonly ignoreBots: boolean;
    /** Seconds without a human in the channel before leaving. */
    readonly autoLeaveSeconds: number;
    /** Longest a session may run before the bot ends it (and posts the transcript). */
    readonly maxSessionMinutes: number;
    /** Seconds of nothing heard before a notice in the posting channel (once per quiet stretch). */
    readonly silenceNoticeSeconds: number;
    /** Show a recording marker in the bot's nickname while a session runs (when allowed to). */
    readonly recordingNickname: boolean;
    /** How live lines are posted unless /join says otherwise: plain messages, or a webhook per speaker. */
    readonly postMode: 'messages' | 'webhook';
  };
  readonly healthPort: number | undefined;
  readonly logLevel: LogLevel;
}

/** Where to get each required value; printed when it is missing. */
const HELP: Record<string, string> = {
  DISCORD_TOKEN: 'the bot token from https://discord.com/developers/applications → your app → Bot → Reset Token',
  TRANSCRIBE_API_KEY:
    'the key of your Whisper-compatible API (OpenAI: https://platform.openai.com/api-keys, Groq: https://console.groq.com/keys); set it to "none" for a local server without auth',
};

/** Raised when the environment is incomplete or wrong; lists every problem at once. */
export class ConfigError extends TinyscribeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `Configuration is incomplete or invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses and validates the environment; throws one ConfigError naming every missing or bad key. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const str = (key: string): string | undefined => {
    const value = env[key]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const required = (key: string): string => {
    const value = str(key);
    if (value === undefined) problems.push(`${key} is missing: ${HELP[key] ?? 'required'}`);
    return value ?? '';
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const url = (key: string, fallback: string): string => {
    const raw = str(key) ?? fallback;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    } catch {
      problems.push(`${key} must be an http(s) URL (got "${raw}")`);
    }
    return raw.replace(/\/+$/, '');
  };
  const snowflake = (key: string): string | undefined => {
    const raw = str(key);
    if (raw !== undefined && !/^\d{17,20}$/.test(raw)) problems.push(`${key} must be a Discord id (17–20 digits, got "${raw}")`);
    return raw;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const raw = str(key)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${key} must be true or false (got "${raw}")`);
    return fallback;
  };

  const token = required('DISCORD_TOKEN');
  const rawKey = required('TRANSCRIBE_API_KEY');
  const responseFormat = str('TRANSCRIBE_RESPONSE_FORMAT') ?? 'verbose_json';
  if (responseFormat !== 'json' && responseFormat !== 'verbose_json' && responseFormat !== 'text') {
    problems.push(`TRANSCRIBE_RESPONSE_FORMAT must be json, verbose_json or text (got "${responseFormat}")`);
  }
  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LogLevels as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LogLevels.join(', ')} (got "${logLevel}")`);
  const healthRaw = str('HEALTH_PORT');
  const healthOff = healthRaw?.toLowerCase() === 'off';
  const healthWord = healthRaw !== undefined && !healthOff && !/^\d+$/.test(healthRaw);
  if (healthWord) problems.push(`HEALTH_PORT must be a port number (0–65535) or off (got "${healthRaw}")`);
  const healthPort = healthOff ? undefined : healthWord ? 8080 : int('HEALTH_PORT', 8080, 0, 65535);
  const dataDir = str('DATA_DIR') ?? './data';
  const postMode = (str('POST_MODE') ?? 'messages').toLowerCase();
  if (postMode !== 'messages' && postMode !== 'webhook') problems.push(`POST_MODE must be messages or webhook (got "${postMode}")`);

  const config: Config = {
    discord: {
      token,
      applicationId: snowflake('DISCORD_APPLICATION_ID'),
      apiUrl: url('DISCORD_API_URL', 'https://discord.com/api'),
      registerGuildId: snowflake('REGISTER_GUILD_ID'),
    },
    transcribe: {
      baseUrl: url('TRANSCRIBE_BASE_URL', 'https://api.openai.com/v1'),
      apiKey: rawKey.toLowerCase() === 'none' ? undefined : rawKey,
      model: str('TRANSCRIBE_MODEL') ?? 'whisper-1',
      language: str('TRANSCRIBE_LANGUAGE'),
      prompt: str('TRANSCRIBE_PROMPT'),
      responseFormat: responseFormat as Config['transcribe']['responseFormat'],
      maxConcurrentUploads: int('MAX_UPLOADS', 2, 1, 16),
    },
    audio: {
      poolBytes: int('PCM_POOL_MB', 8, 1, 256) * 1024 * 1024,
      silenceGapMs: int('SILENCE_GAP_MS', 1000, 200, 10_000),
      maxSegmentMs: int('MAX_SEGMENT_MS', 30_000, 2_000, 30_000),
    },
    storage: {
      dataDir,
      spoolDir: str('SPOOL_DIR') ?? `${dataDir}/spool`,
      spoolMaxBytes: int('SPOOL_MAX_MB', 512, 1, 1_000_000) * 1024 * 1024,
      transcriptDir: `${dataDir}/transcripts`,
      settingsFile: `${dataDir}/settings.json`,
    },
    bot: {
      ignoreBots: bool('IGNORE_BOTS', true),
      autoLeaveSeconds: int('AUTO_LEAVE_SECONDS', 60, 1, 86_400),
      maxSessionMinutes: int('MAX_SESSION_MINUTES', 360, 1, 10_080),
      silenceNoticeSeconds: int('SILENCE_NOTICE_SECONDS', 300, 1, 86_400),
      recordingNickname: bool('RECORDING_NICKNAME', true),
      postMode: postMode as Config['bot']['postMode'],
    },
    healthPort,
    logLevel: logLevel as LogLevel,
  };

  if (problems.length > 0) throw new ConfigError(problems);
  // Freeze the sections too: one module must not be able to change what another reads.
  for (const section of Object.values(config)) if (typeof section === 'object' && section !== null) Object.freeze(section);
  return Object.freeze(config);
}
