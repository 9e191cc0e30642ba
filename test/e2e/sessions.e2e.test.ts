import { PermissionFlagsBits } from '@discordjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from '../util/BotProcess.js';
import { rigEnv, startRig, type Rig } from './rig.js';
import { linesIn, runCommand, say, waitForLine, waitForTranscriptFiles } from './sessionsHelpers.js';

let rig: Rig | undefined;
const extraBots: BotProcess[] = [];
afterEach(async () => {
  for (const bot of extraBots.splice(0)) await bot.dispose();
  await rig?.close();
  rig = undefined;
});

describe('session lifecycle (bot process)', () => {
  it('leaves by itself when no human is left, and posts the transcript split to the attachment limit', async () => {
    rig = await startRig({ sim: { attachmentSizeLimit: 40 }, env: { AUTO_LEAVE_SECONDS: '1' } });
    const { sim } = rig;
    const { alice } = sim.members;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    await runCommand(sim, alice, 'join');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    const speaker = sim.speaker({ guildId: sim.guild.id, userId: alice });
    await say(speaker, '1397');
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 1397');
    await say(speaker, '2580');
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 2580');

    // A bot in the channel is no human: it keeps nobody there.
    const otherBot = sim.addMember(sim.guild.id, { username: 'musicbot', bot: true });
    sim.setVoiceState(sim.guild.id, otherBot, sim.guild.voiceChannelId);
    // …and bots are not transcribed (IGNORE_BOTS defaults to true): its audio is never uploaded.
    await say(sim.speaker({ guildId: sim.guild.id, userId: otherBot }), '0');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(rig.whisper.requests.map((r) => r.decodedText)).toEqual(['1397', '2580']);
    sim.setVoiceState(sim.guild.id, alice, null);
    const leftAt = performance.now();
    const { content, files } = await waitForTranscriptFiles(sim, sim.guild.textChannelId, 20_000);
    const leave = sim.records.voiceStateRequests.find((r) => r.channelId === null);
    expect(leave).toBeDefined();
    expect(leave!.at - leftAt).toBeGreaterThan(900);
    expect(leave!.at - leftAt).toBeLessThan(5_000);
    expect(content).toContain('nobody was left in the channel');
    // Each 22-byte line fits a 40-byte file alone: two txt parts and one SRT part per cue, nothing dropped.
    const txtParts = [...files.keys()].filter((n) => n.endsWith('.txt')).sort();
    expect(txtParts).toEqual(['transcript.part1.txt', 'transcript.part2.txt']);
    const txt = txtParts.map((n) => files.get(n)!.data.toString()).join('');
    expect(txt).toMatch(/^\[00:00:0\d\] Ally: 1397\n\[00:00:0\d\] Ally: 2580\n$/);
    for (const f of files.values()) expect(f.data.length).toBeLessThanOrEqual(40);
    const srt = [...files.keys()].filter((n) => n.endsWith('.srt')).sort().map((n) => files.get(n)!.data.toString()).join('');
    expect(srt.match(/-->/g)).toHaveLength(2);
  });

  it('notices a quiet channel, and on shutdown posts the transcript before exiting', async () => {
    rig = await startRig({ env: { SILENCE_NOTICE_SECONDS: '1' } });
    const { sim } = rig;
    const { alice } = sim.members;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    await runCommand(sim, alice, 'join');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    const notice = await sim.waitFor(() => sim.records.messages.find((m) => m.content.startsWith('🔇 Nothing heard')), 10_000, 'silence notice');
    expect(notice.content).toContain(`<#${sim.guild.voiceChannelId}>`);
    await say(sim.speaker({ guildId: sim.guild.id, userId: alice }), '1397');
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 1397');

    const exit = rig.bot.stop('SIGTERM');
    const { content, files } = await waitForTranscriptFiles(sim, sim.guild.textChannelId, 30_000);
    expect(content).toContain('tinyscribe is restarting');
    expect(files.get('transcript.txt')!.data.toString()).toMatch(/^\[00:00:0\d\] Ally: 1397\n$/);
    expect((await exit).code).toBe(0);
  });

  it('after a crash, the next process posts the transcript left on disk and clears the nickname marker', async () => {
    rig = await startRig();
    const { sim, whisper } = rig;
    const { alice } = sim.members;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    await runCommand(sim, alice, 'join');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    await sim.waitFor(() => sim.records.nicknames.length > 0, 5_000, 'recording nickname');
    await say(sim.speaker({ guildId: sim.guild.id, userId: alice }), '1397');
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 1397');
    await rig.bot.stop('SIGKILL');
    expect(sim.records.messages.some((m) => m.files.length > 0)).toBe(false);

    const bot = new BotProcess({ env: rigEnv(sim, whisper), dataDir: rig.bot.dataDir });
    extraBots.push(bot);
    const { content, files } = await waitForTranscriptFiles(sim, sim.guild.textChannelId, 30_000);
    expect(content).toContain('recovered transcript');
    expect(files.get('transcript.txt')!.data.toString()).toMatch(/^\[00:00:0\d\] Ally: 1397\n$/);
    await sim.waitFor(() => sim.records.nicknames.at(-1)?.nick === null, 10_000, 'marker cleared');
  });

  it('runs sessions in two guilds independently: ending one leaves the other transcribing', async () => {
    rig = await startRig({ sim: { extraGuilds: 1 } });
    const { sim } = rig;
    const { alice, bob } = sim.members;
    const g2 = sim.extraGuilds[0]!;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setVoiceState(g2.id, bob, g2.voiceChannelId);
    await runCommand(sim, alice, 'join');
    await runCommand(sim, bob, 'join', { guildId: g2.id, channelId: g2.textChannelId });
    await sim.waitFor(() => sim.records.voiceReady.length >= 2, 20_000, 'bot in both voice channels');

    const a = sim.speaker({ guildId: sim.guild.id, userId: alice });
    const b = sim.speaker({ guildId: g2.id, userId: bob });
    await Promise.all([say(a, '1397'), say(b, '2580')]);
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 1397');
    await waitForLine(sim, g2.textChannelId, '**Bobby Tables**: 2580');
    expect(linesIn(sim, sim.guild.textChannelId)).toEqual(['**Ally**: 1397']);
    expect(linesIn(sim, g2.textChannelId)).toEqual(['**Bobby Tables**: 2580']);

    // /leave in guild 1 ends only guild 1's session.
    await runCommand(sim, alice, 'leave');
    await waitForTranscriptFiles(sim, sim.guild.textChannelId);
    const status = await runCommand(sim, bob, 'status', { guildId: g2.id, channelId: g2.textChannelId });
    expect(status.content).toContain(`<#${g2.voiceChannelId}>`);
    await say(b, '46');
    await waitForLine(sim, g2.textChannelId, '**Bobby Tables**: 46');
    expect(sim.records.messages.some((m) => m.channelId === g2.textChannelId && m.content.startsWith('⏹️'))).toBe(false);
    expect(sim.records.voiceStateRequests.filter((r) => r.channelId === null).map((r) => r.guildId)).toEqual([sim.guild.id]);
  });
});

describe('webhook mode (bot process)', () => {
  it("falls back to plain messages without Manage Webhooks, and with it posts under each speaker's name and avatar", async () => {
    rig = await startRig();
    const { sim } = rig;
    const { alice, bob } = sim.members;
    const channel = sim.guild.textChannelId;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setVoiceState(sim.guild.id, bob, sim.guild.voiceChannelId);
    const webhookOption = [{ name: 'webhook', type: 5, value: true }];

    const fallback = await runCommand(sim, alice, 'join', { options: webhookOption });
    expect(fallback.content).toContain('Posting plain messages');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    await say(sim.speaker({ guildId: sim.guild.id, userId: alice }), '1397');
    await waitForLine(sim, channel, '**Ally**: 1397');
    await runCommand(sim, alice, 'leave');
    await waitForTranscriptFiles(sim, channel);

    sim.setPermissionOverwrite(channel, { id: sim.botUserId, type: 1, allow: String(PermissionFlagsBits.ManageWebhooks), deny: '0' });
    const joined = await runCommand(sim, alice, 'join', { options: webhookOption });
    expect(joined.content).not.toContain('Posting plain messages');
    await sim.waitFor(() => sim.records.voiceReady.length > 1, 20_000, 'bot in voice again');
    const a = sim.speaker({ guildId: sim.guild.id, userId: alice });
    const b = sim.speaker({ guildId: sim.guild.id, userId: bob });
    await say(a, '2580');
    await say(b, '46#');
    const hooked = await sim.waitFor(() => {
      const posts = sim.records.messages.filter((m) => m.webhook);
      return posts.length >= 2 ? posts : undefined;
    }, 20_000, 'webhook posts');
    expect(hooked.map((m) => [m.webhook!.username, m.content])).toEqual([
      ['Ally', '2580'],
      ['Bobby Tables', '46\\#'],
    ]);
    expect(hooked[0]!.webhook!.avatarUrl).toMatch(/^https:\/\/cdn\.discordapp\.com\/(embed\/)?avatars\//);
    for (const m of hooked) expect(m.allowedMentions).toEqual({ parse: [] });
    await runCommand(sim, alice, 'leave');
    await sim.waitFor(() => sim.records.messages.filter((m) => m.content.startsWith('⏹️ Stopped')).length >= 2, 30_000, 'second transcript');
    const files = sim.records.messages.filter((m) => m.content.startsWith('⏹️ Stopped')).at(-1)!.files;
    expect(files.find((f) => f.name === 'transcript.txt')!.data.toString()).toMatch(/Ally: 2580\n.*Bobby Tables: 46#\n$/s);
  });
});

describe('settings and opt-outs (bot process)', () => {
  it('keeps /language, /prompt and /optout across a restart; an opted-out speaker is never uploaded until /optin', async () => {
    rig = await startRig();
    const { sim, whisper } = rig;
    const { alice, carol } = sim.members;
    const admin = sim.addMember(sim.guild.id, {
      username: 'admin',
      permissions: String(PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages),
    });
    expect((await runCommand(sim, admin, 'language', { options: [{ name: 'code', type: 3, value: 'xx-nope' }] })).ephemeral).toBe(true);
    expect((await runCommand(sim, admin, 'language', { options: [{ name: 'code', type: 3, value: 'DE' }] })).content).toContain('**de**');
    expect((await runCommand(sim, admin, 'prompt', { options: [{ name: 'text', type: 3, value: 'Kubernetes, Grafana' }] })).content).toContain(
      'Kubernetes, Grafana',
    );
    const optedOut = await runCommand(sim, carol, 'optout');
    expect(optedOut).toMatchObject({ ephemeral: true, content: expect.stringContaining('opted out') });

    // Restart: same data dir, a new process.
    await rig.bot.stop('SIGTERM');
    const bot = new BotProcess({ env: rigEnv(sim, whisper), dataDir: rig.bot.dataDir });
    extraBots.push(bot);
    await bot.waitForLog((l) => l.msg === 'gateway ready', 20_000);

    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setVoiceState(sim.guild.id, carol, sim.guild.voiceChannelId);
    await runCommand(sim, alice, 'join');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    const a = sim.speaker({ guildId: sim.guild.id, userId: alice });
    const c = sim.speaker({ guildId: sim.guild.id, userId: carol });
    await Promise.all([say(a, '1397'), say(c, '2580')]);
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 1397');
    await new Promise((r) => setTimeout(r, 1_500)); // carol's segment would have been uploaded by now
    expect(whisper.requests.map((r) => r.decodedText)).toEqual(['1397']);
    expect(whisper.requests[0]!.fields).toMatchObject({ language: 'de', prompt: 'Kubernetes, Grafana' });

    expect((await runCommand(sim, carol, 'optin')).content).toContain('opted in again');
    await say(c, '46');
    await waitForLine(sim, sim.guild.textChannelId, '**carol**: 46');
    expect(whisper.requests.map((r) => r.decodedText)).toEqual(['1397', '46']);
    expect(linesIn(sim, sim.guild.textChannelId)).toEqual(['**Ally**: 1397', '**carol**: 46']);
  });
});
