import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/definitions.js';
import { DiscordSimulator } from '../sim/discord/index.js';

const run = promisify(execFile);
const REGISTER = resolve(import.meta.dirname, '../../dist/src/commands/register.js');

/** Runs `npm run register`'s entry point as its own process, as a user does. */
function register(env: Record<string, string>) {
  return run(process.execPath, [REGISTER], { env: { PATH: process.env.PATH ?? '', ...env } });
}

describe('npm run register (separate process against the simulator)', () => {
  let sim: DiscordSimulator;
  beforeAll(async () => {
    sim = await DiscordSimulator.start();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('overwrites guild commands with exactly COMMANDS, discovering the application id', async () => {
    const { stdout } = await register({ DISCORD_TOKEN: sim.token, DISCORD_API_URL: sim.apiUrl, REGISTER_GUILD_ID: sim.guild.id });
    const record = sim.records.commands.at(-1);
    expect(record?.guildId).toBe(sim.guild.id);
    const put = sim.records.rest.find((r) => r.method === 'PUT');
    expect(put?.path).toBe(`/applications/${sim.applicationId}/guilds/${sim.guild.id}/commands`);
    expect(record?.commands.map((c) => c['name'])).toEqual(COMMANDS.map((c) => c.name));
    expect(stdout).toContain(`for guild ${sim.guild.id}`);
  });

  it('registers global commands without REGISTER_GUILD_ID and needs no transcription key', async () => {
    const before = sim.records.commands.length;
    await register({ DISCORD_TOKEN: sim.token, DISCORD_API_URL: sim.apiUrl, DISCORD_APPLICATION_ID: sim.applicationId });
    const record = sim.records.commands[before];
    expect(record?.scope).toBe('global');
    expect(record?.commands).toHaveLength(COMMANDS.length);
  });

  it('names the missing token and exits 2', async () => {
    const failure = await register({ DISCORD_API_URL: sim.apiUrl }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('DISCORD_TOKEN is missing');
    expect(failure?.stderr).not.toContain('TRANSCRIBE_API_KEY');
  });

  it('reports a rejected token and exits 1', async () => {
    const failure = await register({ DISCORD_TOKEN: 'wrong', DISCORD_API_URL: sim.apiUrl }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/Command registration failed: .*401|Unauthorized/);
  });
});
