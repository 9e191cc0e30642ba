import { API, PermissionFlagsBits } from '@discordjs/core';
import { REST } from '@discordjs/rest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChannelWebhooks } from '../../src/voice/ChannelWebhooks.js';
import { createLogger } from '../../src/util/logger.js';
import { DiscordSimulator } from '../sim/discord/index.js';

/** ChannelWebhooks with the real REST client against the loopback Discord (which refuses names as Discord does). */
describe('ChannelWebhooks against the simulator', () => {
  let sim: DiscordSimulator;
  let rest: REST;
  let lines: Record<string, unknown>[];
  let webhooks: ChannelWebhooks;

  beforeAll(async () => {
    sim = await DiscordSimulator.start();
    rest = new REST({ api: sim.apiUrl, version: '10', retries: 0 }).setToken(sim.token);
    sim.setPermissionOverwrite(sim.guild.textChannelId, { id: sim.botUserId, type: 1, allow: String(PermissionFlagsBits.ManageWebhooks), deny: '0' });
  });

  afterAll(async () => {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
    await sim.close();
  });

  beforeEach(() => {
    lines = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    webhooks = new ChannelWebhooks(new API(rest), () => sim.applicationId, logger);
  });

  const executes = () => sim.records.rest.filter((r) => r.method === 'POST' && /^\/webhooks\/\d+\/[^/]+$/.test(r.path));

  it('posts a speaker named like Discord under a name Discord accepts', async () => {
    const before = sim.records.messages.length;
    await expect(webhooks.send(sim.guild.textChannelId, { name: 'Discord Dan' }, 'hello')).resolves.toBe(true);
    const posted = sim.records.messages.slice(before);
    expect(posted.map((m) => m.content)).toEqual(['hello']);
    expect(posted[0]?.webhook?.username).toBe('Disc\u043erd Dan');
  });

  it('answers false for a message the webhook refuses (400), without retrying it, and keeps the hook', async () => {
    await webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'warm-up');
    const tried = executes().length;
    sim.failNext(/^\/webhooks\/\d+\/[^/]+$/, 400, { code: 50035, message: 'Invalid Form Body' });
    await expect(webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'refused')).resolves.toBe(false);
    expect(executes().length - tried).toBe(1);
    expect(lines.find((l) => l.msg === 'webhook refused a message; posting it plainly')).toMatchObject({ status: 400, code: 50035 });
    // The next message still goes through the same webhook.
    await expect(webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'after')).resolves.toBe(true);
    expect(sim.records.messages.at(-1)?.webhook?.username).toBe('Ally');
  });

  it('gives the channel up on 404 (webhook deleted) and rethrows a server error for the caller to retry', async () => {
    await webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'warm-up');
    sim.failNext(/^\/webhooks\/\d+\/[^/]+$/, 500, { code: 0, message: 'boom' });
    await expect(webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'x')).rejects.toBeDefined();
    sim.failNext(/^\/webhooks\/\d+\/[^/]+$/, 404, { code: 10015, message: 'Unknown Webhook' });
    await expect(webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'y')).resolves.toBe(false);
    const tried = executes().length;
    await expect(webhooks.send(sim.guild.textChannelId, { name: 'Ally' }, 'z')).resolves.toBe(false);
    expect(executes().length).toBe(tried);
  });
});
