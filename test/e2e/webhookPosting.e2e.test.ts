/**
 * Webhook mode (POST_MODE=webhook / `/join webhook:true`) once lost live lines (found by an adversarial test run):
 *  A. a speaker whose name contains "discord" or "clyde": Discord refuses such webhook usernames (400/50035),
 *     and the refusal was retried 3 times and the lines dropped;
 *  B. the plain-message fallback re-prefixed each batched line with `**Name**: ` after the batch had been cut to
 *     2,000 characters, so a full batch went over Discord's limit and was dropped.
 */
import { PermissionFlagsBits } from '@discordjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './rig.js';
import { runCommand, say } from './sessionsHelpers.js';
import { sleep } from './audioSupport.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const webhookOption = [{ name: 'webhook', type: 5, value: true }];
const MESSAGES = /^\/channels\/\d+\/messages$/;
const EXECUTE = /^\/webhooks\/\d+\/[^/]+$/;

describe('webhook mode posting', () => {
  it('A. a speaker nicknamed "Discord Dan" gets their line posted through the webhook, under a name Discord takes', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    const dan = sim.addMember(sim.guild.id, { username: 'dan', nick: 'Discord Dan' });
    sim.setVoiceState(sim.guild.id, dan, sim.guild.voiceChannelId);
    sim.setPermissionOverwrite(sim.guild.textChannelId, { id: sim.botUserId, type: 1, allow: String(PermissionFlagsBits.ManageWebhooks), deny: '0' });
    const joined = await runCommand(sim, dan, 'join', { options: webhookOption });
    expect(joined.content).not.toContain('Posting plain messages');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    await say(sim.speaker({ guildId: sim.guild.id, userId: dan }), '1397');
    const posted = await sim.waitFor(() => sim.records.messages.find((m) => m.content.includes('1397')), 15_000, 'the line');
    expect(posted.webhook?.username).toBe('Disc\u043erd Dan');
    expect(sim.records.rest.filter((r) => EXECUTE.test(r.path) && r.status >= 400)).toEqual([]);
    await sleep(1_500);
    expect(sim.records.messages.filter((m) => m.content.includes('1397'))).toHaveLength(1);
    expect(bot.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('A. a message the webhook refuses goes out as a plain message instead of being dropped', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    const { alice } = sim.members;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setPermissionOverwrite(sim.guild.textChannelId, { id: sim.botUserId, type: 1, allow: String(PermissionFlagsBits.ManageWebhooks), deny: '0' });
    await runCommand(sim, alice, 'join', { options: webhookOption });
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    sim.failNext(EXECUTE, 400, { code: 50035, message: 'Invalid Form Body' });
    await say(sim.speaker({ guildId: sim.guild.id, userId: alice }), '2468');
    const posted = await sim.waitFor(() => sim.records.messages.find((m) => m.content.includes('2468')), 15_000, 'the line');
    expect(posted.webhook).toBeUndefined();
    expect(posted.content).toBe('**Ally**: 2468');
    expect(sim.records.rest.filter((r) => EXECUTE.test(r.path)).map((r) => r.status)).toEqual([400]);
    expect(bot.lines.some((l) => l.msg === 'webhook refused a message; posting it plainly')).toBe(true);
  });

  it('B. the plain fallback of batched webhook-mode lines stays under 2,000 chars and loses no line', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    const { alice } = sim.members;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setPermissionOverwrite(sim.guild.textChannelId, { id: sim.botUserId, type: 1, allow: String(PermissionFlagsBits.ManageWebhooks), deny: '0' });
    // The channel already has Discord's maximum of webhooks: the bot falls back to plain messages.
    sim.failNext(/\/channels\/\d+\/webhooks$/, 400, { code: 30007, message: 'Maximum number of webhooks reached (15)' }, 2);
    await runCommand(sim, alice, 'join', { options: webhookOption });
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    // ~660-character transcripts: three fit in 2,000 characters without the name, not with `**Ally**: ` on each.
    whisper.answerWith(({ decodedText }) => `${decodedText} ` + 'and then we talked about it again '.repeat(19) + 'okay okay ok');
    // The first message is slow to go out, so the next lines queue up and are batched into one message.
    sim.delayNext(MESSAGES, 6_000, 1);
    const a = sim.speaker({ guildId: sim.guild.id, userId: alice });
    for (const digits of ['11', '22', '33', '44']) {
      await say(a, digits);
      await sleep(1_200);
    }
    const has = (d: string) => sim.records.messages.some((m) => m.content.split('\n').some((l) => l.startsWith(`**Ally**: ${d} `)));
    await sim.waitFor(() => ['11', '22', '33', '44'].every(has), 20_000, 'all four lines');
    const statuses = sim.records.rest.filter((r) => MESSAGES.test(r.path)).map((r) => r.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Batching did happen (fewer messages than lines), and each message kept the limit.
    const transcript = sim.records.messages.filter((m) => m.content.startsWith('**Ally**: '));
    expect(transcript.length).toBeLessThan(4);
    for (const m of transcript) expect(m.content.length).toBeLessThanOrEqual(2_000);
    expect(bot.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
