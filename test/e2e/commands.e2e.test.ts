import { PermissionFlagsBits } from '@discordjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './rig.js';
import { linesIn, runCommand, say, waitForLine, waitForTranscriptFiles } from './sessionsHelpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('/join refusals (bot process)', () => {
  it('refuses, ephemerally, a caller not in voice, missing permissions, and a second session (saying where)', async () => {
    rig = await startRig();
    const { sim } = rig;
    const { alice, bob, carol } = sim.members;

    const notInVoice = await runCommand(sim, carol, 'join');
    expect(notInVoice.ephemeral).toBe(true);
    expect(notInVoice.content).toContain('Join a voice channel first');

    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setVoiceState(sim.guild.id, bob, sim.guild.voiceChannelId);
    sim.setPermissionOverwrite(sim.guild.voiceChannelId, { id: sim.botUserId, type: 1, allow: '0', deny: String(PermissionFlagsBits.Connect) });
    const noConnect = await runCommand(sim, alice, 'join');
    expect(noConnect.ephemeral).toBe(true);
    expect(noConnect.content).toContain('**Connect** in <#');

    sim.setPermissionOverwrite(sim.guild.voiceChannelId, { id: sim.botUserId, type: 1, allow: '0', deny: '0' });
    sim.setPermissionOverwrite(sim.guild.textChannelId, {
      id: sim.guild.id,
      type: 0,
      allow: '0',
      deny: String(PermissionFlagsBits.AttachFiles | PermissionFlagsBits.SendMessages),
    });
    const noPost = await runCommand(sim, alice, 'join');
    expect(noPost.content).toContain(`**Send Messages, Attach Files** in <#${sim.guild.textChannelId}>`);
    sim.setPermissionOverwrite(sim.guild.voiceChannelId, { id: sim.guild.id, type: 0, allow: '0', deny: String(PermissionFlagsBits.ViewChannel) });
    const hidden = await runCommand(sim, alice, 'join');
    // Both channels are named with what is missing in each; without View Channel nothing else applies.
    expect(hidden.content).toContain(`**View Channel, Connect** in <#${sim.guild.voiceChannelId}> and **Send Messages, Attach Files** in <#`);
    sim.setPermissionOverwrite(sim.guild.voiceChannelId, { id: sim.guild.id, type: 0, allow: '0', deny: '0' });
    expect(sim.records.voiceStateRequests).toHaveLength(0);

    sim.setPermissionOverwrite(sim.guild.textChannelId, { id: sim.guild.id, type: 0, allow: '0', deny: '0' });
    const started = await runCommand(sim, alice, 'join');
    expect(started.ephemeral).toBe(false);
    expect(started.content).toContain('/optout');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');

    const second = await runCommand(sim, bob, 'join');
    expect(second.ephemeral).toBe(true);
    expect(second.content).toContain(`Already transcribing <#${sim.guild.voiceChannelId}> into <#${sim.guild.textChannelId}>`);

    const badLanguage = await runCommand(sim, bob, 'language', { options: [{ name: 'code', type: 3, value: 'de' }] });
    expect(badLanguage).toMatchObject({ ephemeral: true, content: expect.stringContaining('Manage Server') });
  });
});

describe('slow and failing work inside a command (bot process)', () => {
  it('defers when /join takes longer than 2 s and edits the answer in; a failure is still answered', async () => {
    rig = await startRig();
    const { sim } = rig;
    const { alice } = sim.members;
    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);

    sim.failNext(/^GET \/guilds\/\d+\/roles$/, 403, { code: 50001, message: 'Missing Access' });
    const failed = await runCommand(sim, alice, 'join');
    expect(failed).toMatchObject({ ephemeral: true, content: expect.stringContaining('Something went wrong') });

    sim.delayNext(/^GET \/guilds\/\d+\/roles$/, 2_600);
    const slow = await runCommand(sim, alice, 'join');
    expect(slow.deferred).toBe(true);
    expect(slow.content).toContain('Transcribing');
    const callbacks = sim.records.interactionCallbacks;
    expect(callbacks.at(-1)!.type).toBe(5);
    expect(callbacks.every((c) => c.latencyMs < 3_000)).toBe(true);
  });
});

describe('a session from /join to /leave (bot process)', () => {
  it('names speakers three ways, posts inert lines, shows /status, and posts transcript.txt and .srt on /leave', async () => {
    rig = await startRig();
    const { sim, whisper } = rig;
    const { alice, bob, carol } = sim.members;
    // Make one transcript hostile: a mass mention, a user mention and Markdown.
    whisper.answerWith(({ decodedText }) => (decodedText === '46' ? '@everyone look at *this* <@123456789012345678> `x` # title' : decodedText));

    sim.setVoiceState(sim.guild.id, alice, sim.guild.voiceChannelId);
    sim.setVoiceState(sim.guild.id, carol, sim.guild.voiceChannelId);
    const joined = await runCommand(sim, alice, 'join');
    expect(joined.content).toContain('Transcribing');
    await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
    const joinedAt = performance.now();
    // bob arrives after the session started: his name comes from the VOICE_STATE_UPDATE payload.
    sim.setVoiceState(sim.guild.id, bob, sim.guild.voiceChannelId);
    await sim.waitFor(() => sim.records.nicknames.length > 0, 5_000, 'recording nickname');
    expect(sim.records.nicknames[0]!.nick).toBe('🔴 tinyscribe');

    const speakers = {
      alice: sim.speaker({ guildId: sim.guild.id, userId: alice }),
      bob: sim.speaker({ guildId: sim.guild.id, userId: bob }),
      carol: sim.speaker({ guildId: sim.guild.id, userId: carol }),
    };
    const aliceStartedAt = performance.now() - joinedAt;
    await say(speakers.alice, '1397');
    await waitForLine(sim, sim.guild.textChannelId, '**Ally**: 1397');
    await say(speakers.bob, '2580');
    await waitForLine(sim, sim.guild.textChannelId, '**Bobby Tables**: 2580');
    await say(speakers.carol, '46');
    const hostile = await sim.waitFor(() => linesIn(sim, sim.guild.textChannelId).find((l) => l.startsWith('**carol**')), 20_000, 'carol');
    expect(hostile).toBe('**carol**: @\u200beveryone look at \\*this\\* <@\u200b123456789012345678\\> \\`x\\` \\# title');
    for (const m of sim.records.messages) expect(m.allowedMentions).toEqual({ parse: [] });

    // alice came from the interaction, bob from his voice state: only carol needed a REST lookup.
    const memberLookups = sim.records.rest.filter((r) => r.route === '/guilds/:guildId/members/:userId').map((r) => r.path.split('/').pop());
    expect(memberLookups).toContain(carol);
    expect(memberLookups).not.toContain(alice);
    expect(memberLookups).not.toContain(bob);

    const status = await runCommand(sim, bob, 'status');
    expect(status.ephemeral).toBe(true);
    expect(status.content).toContain(`<#${sim.guild.voiceChannelId}> → <#${sim.guild.textChannelId}>`);
    expect(status.content).toContain('Speakers heard: 3 · lines so far: 3');
    expect(status.content).toMatch(/Segments pending: 0 · spool depth: 0/);
    expect(status.content).toMatch(/RSS \d+\.\d MB · uptime \d+ s/);

    const refused = await runCommand(sim, bob, 'leave');
    expect(refused).toMatchObject({ ephemeral: true, content: expect.stringContaining(`Only <@${alice}>`) });
    const left = await runCommand(sim, alice, 'leave');
    expect(left.content).toContain('Stopped transcribing');
    const { content, files } = await waitForTranscriptFiles(sim, sim.guild.textChannelId);
    expect(content).toContain('stopped with /leave');
    expect([...files.keys()].sort()).toEqual(['transcript.srt', 'transcript.txt']);

    const txt = files.get('transcript.txt')!.data.toString('utf8').trimEnd().split('\n');
    expect(txt.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ''))).toEqual([
      'Ally: 1397',
      'Bobby Tables: 2580',
      'carol: @everyone look at *this* <@123456789012345678> `x` # title',
    ]);
    const srt = files.get('transcript.srt')!.data.toString('utf8');
    const cues = [...srt.matchAll(/^(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.*)$/gm)].map((m) => ({
      index: Number(m[1]),
      start: ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000 + Number(m[5]),
      end: ((Number(m[6]) * 60 + Number(m[7])) * 60 + Number(m[8])) * 1000 + Number(m[9]),
      text: m[10],
    }));
    expect(cues.map((c) => [c.index, c.text])).toEqual([
      [1, 'Ally: 1397'],
      [2, 'Bobby Tables: 2580'],
      [3, 'carol: @everyone look at *this* <@123456789012345678> `x` # title'],
    ]);
    // Timed from the session start: alice began ~100 ms (lead) after we saw voice ready; each cue lasts about its speech.
    expect(Math.abs(cues[0]!.start - aliceStartedAt - 100)).toBeLessThan(1_500);
    expect(cues[0]!.end - cues[0]!.start).toBeGreaterThan(500);
    expect(cues[0]!.end - cues[0]!.start).toBeLessThan(3_000);
    expect(cues[1]!.start).toBeGreaterThan(cues[0]!.end);
    expect(cues[2]!.start).toBeGreaterThan(cues[1]!.end);
    // The txt stamps are the SRT starts, to the second.
    expect(txt[0]!.slice(1, 9)).toBe(new Date(cues[0]!.start).toISOString().slice(11, 19));

    await sim.waitFor(() => sim.records.voiceStateRequests.some((r) => r.channelId === null), 5_000, 'bot left voice');
    await sim.waitFor(() => sim.records.nicknames.length >= 2, 5_000, 'nickname restored');
    expect(sim.records.nicknames.at(-1)!.nick).toBeNull();
  });
});
