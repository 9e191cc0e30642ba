import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/Config.js';

// Looks like a real bot token (id.timestamp.hmac) so a leak would be easy to spot.
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.s3cr3t-t0ken-value_0123456789abcdefghij';
const API_KEY = 'sk-test-0123456789abcdef';
const minimal = { DISCORD_TOKEN: TOKEN, TRANSCRIBE_API_KEY: API_KEY };

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

describe('loadConfig defaults', () => {
  it('fills every optional value from the defaults', () => {
    const config = loadConfig(minimal);
    expect(config).toEqual({
      discord: {
        token: TOKEN,
        applicationId: undefined,
        apiUrl: 'https://discord.com/api',
        registerGuildId: undefined,
      },
      transcribe: {
        baseUrl: 'https://api.openai.com/v1',
        apiKey: API_KEY,
        model: 'whisper-1',
        language: undefined,
        prompt: undefined,
        responseFormat: 'verbose_json',
        maxConcurrentUploads: 2,
      },
      audio: { poolBytes: 8 * 1024 * 1024, silenceGapMs: 1000, maxSegmentMs: 30_000 },
      storage: {
        dataDir: './data',
        spoolDir: './data/spool',
        spoolMaxBytes: 512 * 1024 * 1024,
        transcriptDir: './data/transcripts',
        settingsFile: './data/settings.json',
      },
      bot: { ignoreBots: true, autoLeaveSeconds: 60, maxSessionMinutes: 360, silenceNoticeSeconds: 300, recordingNickname: true, postMode: 'messages' },
      healthPort: 8080,
      logLevel: 'info',
    });
  });

  it('reads every key that is set, trimming whitespace and trailing slashes', () => {
    const config = loadConfig({
      DISCORD_TOKEN: `  ${TOKEN}\n`,
      TRANSCRIBE_API_KEY: API_KEY,
      DISCORD_APPLICATION_ID: '1180000000000000001',
      DISCORD_API_URL: 'http://127.0.0.1:4000/api/',
      REGISTER_GUILD_ID: '1180000000000000002',
      TRANSCRIBE_BASE_URL: 'http://127.0.0.1:9000/v1//',
      TRANSCRIBE_MODEL: 'whisper-large-v3',
      TRANSCRIBE_LANGUAGE: 'de',
      TRANSCRIBE_PROMPT: 'tinyscribe, Discord',
      TRANSCRIBE_RESPONSE_FORMAT: 'json',
      MAX_UPLOADS: '4',
      PCM_POOL_MB: '16',
      SILENCE_GAP_MS: '700',
      MAX_SEGMENT_MS: '15000',
      DATA_DIR: '/var/lib/tinyscribe',
      SPOOL_MAX_MB: '64',
      IGNORE_BOTS: 'No',
      AUTO_LEAVE_SECONDS: '120',
      MAX_SESSION_MINUTES: '90',
      SILENCE_NOTICE_SECONDS: '30',
      RECORDING_NICKNAME: 'off',
      POST_MODE: 'Webhook',
      HEALTH_PORT: '0',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config.discord).toEqual({
      token: TOKEN,
      applicationId: '1180000000000000001',
      apiUrl: 'http://127.0.0.1:4000/api',
      registerGuildId: '1180000000000000002',
    });
    expect(config.transcribe).toEqual({
      baseUrl: 'http://127.0.0.1:9000/v1',
      apiKey: API_KEY,
      model: 'whisper-large-v3',
      language: 'de',
      prompt: 'tinyscribe, Discord',
      responseFormat: 'json',
      maxConcurrentUploads: 4,
    });
    expect(config.audio).toEqual({ poolBytes: 16 * 1024 * 1024, silenceGapMs: 700, maxSegmentMs: 15_000 });
    expect(config.storage).toEqual({
      dataDir: '/var/lib/tinyscribe',
      spoolDir: '/var/lib/tinyscribe/spool',
      spoolMaxBytes: 64 * 1024 * 1024,
      transcriptDir: '/var/lib/tinyscribe/transcripts',
      settingsFile: '/var/lib/tinyscribe/settings.json',
    });
    expect(config.bot).toEqual({ ignoreBots: false, autoLeaveSeconds: 120, maxSessionMinutes: 90, silenceNoticeSeconds: 30, recordingNickname: false, postMode: 'webhook' });
    expect(config.healthPort).toBe(0);
    expect(config.logLevel).toBe('debug');
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({ ...minimal, TRANSCRIBE_MODEL: '', LOG_LEVEL: '   ', HEALTH_PORT: '' });
    expect(config.transcribe.model).toBe('whisper-1');
    expect(config.logLevel).toBe('info');
    expect(config.healthPort).toBe(8080);
  });

  it('turns the health server off with HEALTH_PORT=off, in any case', () => {
    expect(loadConfig({ ...minimal, HEALTH_PORT: 'off' }).healthPort).toBeUndefined();
    expect(loadConfig({ ...minimal, HEALTH_PORT: 'OFF' }).healthPort).toBeUndefined();
  });

  it('names both accepted forms when HEALTH_PORT is a word other than off', () => {
    expect(() => loadConfig({ ...minimal, HEALTH_PORT: 'disabled' })).toThrow('HEALTH_PORT must be a port number (0–65535) or off (got "disabled")');
  });

  it.each(['none', 'NONE', ' None '])('TRANSCRIBE_API_KEY=%j means no key', (value) => {
    expect(loadConfig({ ...minimal, TRANSCRIBE_API_KEY: value }).transcribe.apiKey).toBeUndefined();
  });

  it.each([
    ['1', true],
    ['true', true],
    ['YES', true],
    ['on', true],
    ['0', false],
    ['False', false],
    ['no', false],
    ['off', false],
  ] as const)('IGNORE_BOTS=%j is %s', (value, expected) => {
    expect(loadConfig({ ...minimal, IGNORE_BOTS: value }).bot.ignoreBots).toBe(expected);
  });

  it('returns a frozen object, sections included', () => {
    const config = loadConfig(minimal);
    expect(Object.isFrozen(config)).toBe(true);
    for (const section of [config.discord, config.transcribe, config.audio, config.storage, config.bot]) {
      expect(Object.isFrozen(section)).toBe(true);
    }
  });
});

describe('loadConfig errors', () => {
  it('names both missing required keys in one error, with where to get them', () => {
    const error = configError({});
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems).toHaveLength(2);
    const [discord, transcribe] = error.problems;
    expect(discord).toMatch(/^DISCORD_TOKEN is missing/);
    expect(discord).toContain('https://discord.com/developers/applications');
    expect(transcribe).toMatch(/^TRANSCRIBE_API_KEY is missing/);
    expect(transcribe).toContain('https://platform.openai.com/api-keys');
    expect(transcribe).toContain('"none"');
    // The message a person reads lists both, too.
    expect(error.message).toContain('DISCORD_TOKEN is missing');
    expect(error.message).toContain('TRANSCRIBE_API_KEY is missing');
    expect(error.message).toContain('discord.com/developers/applications');
  });

  it('counts a blank required value as missing', () => {
    const error = configError({ DISCORD_TOKEN: '   ', TRANSCRIBE_API_KEY: API_KEY });
    expect(error.problems).toEqual([expect.stringMatching(/^DISCORD_TOKEN is missing/)]);
  });

  it('lists every missing and bad key at once, each by name', () => {
    const error = configError({
      TRANSCRIBE_API_KEY: API_KEY,
      MAX_UPLOADS: '0',
      PCM_POOL_MB: 'eight',
      SILENCE_GAP_MS: '1.5',
      AUTO_LEAVE_SECONDS: '999999',
      MAX_SESSION_MINUTES: '0',
      SILENCE_NOTICE_SECONDS: 'soon',
      RECORDING_NICKNAME: 'perhaps',
      POST_MODE: 'carrier-pigeon',
      HEALTH_PORT: '70000',
      DISCORD_API_URL: 'ftp://discord.com/api',
      TRANSCRIBE_BASE_URL: 'not a url',
      IGNORE_BOTS: 'maybe',
      LOG_LEVEL: 'verbose',
      TRANSCRIBE_RESPONSE_FORMAT: 'srt',
      DISCORD_APPLICATION_ID: '12ab',
    });
    const keys = error.problems.map((p) => p.split(' ')[0]);
    expect(keys.sort()).toEqual(
      [
        'AUTO_LEAVE_SECONDS',
        'MAX_SESSION_MINUTES',
        'SILENCE_NOTICE_SECONDS',
        'RECORDING_NICKNAME',
        'POST_MODE',
        'DISCORD_API_URL',
        'DISCORD_APPLICATION_ID',
        'DISCORD_TOKEN',
        'HEALTH_PORT',
        'IGNORE_BOTS',
        'LOG_LEVEL',
        'MAX_UPLOADS',
        'PCM_POOL_MB',
        'SILENCE_GAP_MS',
        'TRANSCRIBE_BASE_URL',
        'TRANSCRIBE_RESPONSE_FORMAT',
      ].sort(),
    );
    const problem = (key: string): string => error.problems.find((p) => p.startsWith(`${key} `)) ?? '';
    expect(problem('MAX_UPLOADS')).toContain('from 1 to 16');
    expect(problem('MAX_UPLOADS')).toContain('"0"');
    expect(problem('PCM_POOL_MB')).toContain('"eight"');
    expect(problem('SILENCE_GAP_MS')).toContain('"1.5"');
    expect(problem('HEALTH_PORT')).toContain('"70000"');
    expect(problem('DISCORD_API_URL')).toContain('http(s) URL');
    expect(problem('TRANSCRIBE_BASE_URL')).toContain('"not a url"');
    expect(problem('IGNORE_BOTS')).toContain('"maybe"');
    expect(problem('LOG_LEVEL')).toContain('"verbose"');
    expect(problem('LOG_LEVEL')).toContain('debug, info, warn, error, silent');
    expect(problem('TRANSCRIBE_RESPONSE_FORMAT')).toContain('"srt"');
    for (const p of error.problems) expect(error.message).toContain(p);
  });

  it('never puts the token or the API key into the error', () => {
    const error = configError({
      DISCORD_TOKEN: TOKEN,
      TRANSCRIBE_API_KEY: API_KEY,
      MAX_UPLOADS: 'lots',
      LOG_LEVEL: 'loud',
      DISCORD_API_URL: 'discord',
    });
    expect(error.problems.length).toBe(3);
    const everything = `${error.message}\n${error.problems.join('\n')}\n${error.stack ?? ''}\n${JSON.stringify(error)}`;
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(TOKEN.split('.')[2]);
    expect(everything).not.toContain(API_KEY);
  });
});
