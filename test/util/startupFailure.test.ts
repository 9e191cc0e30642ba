import { createServer } from 'node:net';
import { DiscordAPIError } from '@discordjs/rest';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { describeStartupFailure } from '../../src/util/startupFailure.js';

/** A loopback port with nothing listening (bound, read, closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('describeStartupFailure', () => {
  it('tells a person to reset a token Discord rejected, without a stack', () => {
    const error = new DiscordAPIError({ message: '401: Unauthorized', code: 0 }, 0, 401, 'GET', 'https://discord.com/api/v10/gateway/bot', { body: undefined, files: undefined });
    const text = describeStartupFailure(error, 'https://discord.com/api');
    expect(text).toContain('Discord rejected DISCORD_TOKEN');
    expect(text).toContain('Reset Token');
    expect(text).not.toContain('    at ');
  });

  it('names the URL and the network error when Discord cannot be reached (a real undici refusal)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api`;
    const error = await request(`${url}/v10/gateway/bot`).then(() => undefined, (e: unknown) => e);
    const text = describeStartupFailure(error, url);
    expect(text).toContain(`Could not reach Discord at ${url} (ECONNREFUSED)`);
    expect(text).toContain('DISCORD_API_URL');
    expect(text).not.toContain('    at ');
  });

  it('keeps the stack of anything else, which is a bug to report', () => {
    const text = describeStartupFailure(new TypeError('boom'), undefined);
    expect(text).toMatch(/^tinyscribe crashed during start: TypeError: boom\n\s+at /);
  });
});
