import { describe, expect, it } from 'vitest';
import { TinyscribeError } from '../../src/util/errors.js';
import { createLogger, type LoggerOptions, type LogLevel } from '../../src/util/logger.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.s3cr3t-t0ken-value';
const API_KEY = 'sk-live-abcdef0123456789';

/** A logger writing into an array; `records()` parses every line (and fails if one is not JSON). */
function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line), now: () => NOW, ...options });
  const records = (): Record<string, unknown>[] => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level and message', () => {
    const { logger, lines, records } = capture();
    logger.info('joined voice', { guildId: '1180000000000000001', speakers: 3 });
    logger.warn('slow upload');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('\n');
    expect(records()).toEqual([
      { time: '2026-12-03T12:00:00.000Z', level: 'info', msg: 'joined voice', guildId: '1180000000000000001', speakers: 3 },
      { time: '2026-12-03T12:00:00.000Z', level: 'warn', msg: 'slow upload' },
    ]);
  });

  it('keeps a message with newlines and quotes on one line', () => {
    const { logger, lines, records } = capture();
    logger.info('line one\nline "two"');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(records()[0]!.msg).toBe('line one\nline "two"');
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ] as [LogLevel, string[]][])('at level %s writes only %j', (level, expected) => {
    const { logger, records } = capture({ level });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => r.level)).toEqual(expected);
    expect(records().map((r) => r.msg)).toEqual(expected.map((l) => l[0]));
  });

  it('adds child bindings to every line, nested children inheriting and overriding', () => {
    const { logger, records } = capture({ level: 'info' });
    const guild = logger.child({ guildId: 'g1', component: 'voice' });
    const session = guild.child({ sessionId: 's1', component: 'session' });
    guild.info('guild line');
    session.error('session line', { userId: 'u1' });
    session.debug('below the level');
    logger.info('root line');
    expect(records()).toEqual([
      { time: expect.any(String), level: 'info', msg: 'guild line', guildId: 'g1', component: 'voice' },
      {
        time: expect.any(String),
        level: 'error',
        msg: 'session line',
        guildId: 'g1',
        component: 'session',
        sessionId: 's1',
        userId: 'u1',
      },
      { time: expect.any(String), level: 'info', msg: 'root line' },
    ]);
  });

  it('redacts credential-looking keys at any depth', () => {
    const { logger, lines, records } = capture();
    logger.info('request', {
      token: 'abc',
      request: { headers: { Authorization: 'Bot xyz', 'content-type': 'application/json' } },
      retries: [{ apiKey: 'k1', attempt: 1 }],
      password: 'p',
    });
    const record = records()[0]!;
    expect(record.token).toBe('[redacted]');
    expect(record.password).toBe('[redacted]');
    expect(record.request).toEqual({ headers: { Authorization: '[redacted]', 'content-type': 'application/json' } });
    expect(record.retries).toEqual([{ apiKey: '[redacted]', attempt: 1 }]);
    expect(lines[0]).not.toContain('Bot xyz');
  });

  it('redacts keys whose last word is a credential, and leaves look-alikes alone', () => {
    const { logger, records } = capture();
    logger.info('env', { DISCORD_TOKEN: 'a', discordToken: 'b', 'x-api-key': 'c', TRANSCRIBE_API_KEY: 'd', Cookie: 'e', tokenCount: 3, secretary: 'f' });
    expect(records()[0]).toMatchObject({
      DISCORD_TOKEN: '[redacted]',
      discordToken: '[redacted]',
      'x-api-key': '[redacted]',
      TRANSCRIBE_API_KEY: '[redacted]',
      Cookie: '[redacted]',
      tokenCount: 3,
      secretary: 'f',
    });
  });

  it('redacts secret values wherever they appear: message, fields, nested objects, bindings', () => {
    const { logger, lines, records } = capture({ secrets: [TOKEN, API_KEY] });
    logger.child({ url: `https://example.test/?key=${API_KEY}` }).warn(`gateway said ${TOKEN} is invalid`, {
      detail: { response: { body: `{"token":"${TOKEN}"}` } },
      list: ['x', `Bearer ${API_KEY}`],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(TOKEN);
    expect(lines[0]).not.toContain(API_KEY);
    const record = records()[0]!;
    expect(record.msg).toBe('gateway said [redacted] is invalid');
    expect(record.url).toBe('https://example.test/?key=[redacted]');
    expect(record.list).toEqual(['x', 'Bearer [redacted]']);
    expect(JSON.stringify(record.detail)).toContain('[redacted]');
  });

  it('serialises errors with name, message, code and cause, redacting secrets in them', () => {
    const { logger, lines, records } = capture({ secrets: [TOKEN] });
    const cause = new Error(`connect ECONNREFUSED with ${TOKEN}`);
    const error = new TinyscribeError('TRX_TIMEOUT', 'upload timed out', { cause });
    logger.error('upload failed', { error, plain: new RangeError('out of range') });
    expect(lines[0]).not.toContain(TOKEN);
    const record = records()[0]!;
    expect(record.error).toEqual({
      name: 'TinyscribeError[TRX_TIMEOUT]',
      message: 'upload timed out',
      code: 'TRX_TIMEOUT',
      cause: 'connect ECONNREFUSED with [redacted]',
    });
    expect(record.plain).toEqual({ name: 'RangeError', message: 'out of range' });
  });

  it('keeps a Node system error code', () => {
    const { logger, records } = capture();
    const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    logger.warn('socket', { error });
    expect(records()[0]!.error).toMatchObject({ name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' });
  });

  it('writes bigints as decimal strings', () => {
    const { logger, records } = capture();
    logger.info('perms', { permissions: 2_147_483_648n | 1024n });
    expect(records()[0]!.permissions).toBe('2147484672');
  });
});
