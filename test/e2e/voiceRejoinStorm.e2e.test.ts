/**
 * The voice server keeps refusing (4016 / a silent voice server; found in the second adversarial round), during /join
 * or mid-session. Whatever it does, /join must get a clear answer within Discord's window (deferred in 3 s, the edit
 * before the 15-minute token expiry; we ask for ~30 s), the process must stay up, it must not hammer the main gateway with op 4 (Discord allows 120 gateway sends a
 * minute and closes the shard with 4008 beyond that: every guild would go dark), and a later /join must work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSimulator } from '../sim/discord/index.js';
import { sleep } from './audioSupport.js';
import { answerOf, startRig, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Runs /join as alice (who is in voice) and waits up to `ms` for its answer. */
async function join(sim: DiscordSimulator, ms: number): Promise<{ answer: string; tookMs: number }> {
  const started = Date.now();
  const { id, token } = sim.injectInteraction({ userId: sim.members.alice, name: 'join' });
  const answer = await sim.waitFor(() => answerOf(sim, id, token), ms, '/join answer');
  return { answer, tookMs: Date.now() - started };
}

/** Op 4 requests that asked to be IN a channel (joins and rejoins), from index `from` on. */
function joinRequests(sim: DiscordSimulator, from = 0): number {
  return sim.records.voiceStateRequests.slice(from).filter((r) => r.channelId !== null).length;
}

describe('a voice server that keeps refusing', () => {
  it('the voice server closes with 4016 (unknown encryption mode) after SELECT_PROTOCOL: /join fails clearly, without an op 4 storm', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    let reject = true;
    sim.on('voiceOp', (record) => {
      if (reject && record.op === 1 && record.guildId) sim.closeVoice(record.guildId, 4016, 'Unknown encryption mode');
    });
    const from = sim.records.voiceStateRequests.length;
    const { answer, tookMs } = await join(sim, 40_000);
    const opFours = joinRequests(sim, from);
    expect(answer).toMatch(/could not join/i);
    expect(tookMs).toBeLessThan(30_000);
    expect(bot.child.exitCode).toBeNull();
    // One join plus a handful of rejoins is fine; hundreds in 20 s would get the whole shard closed with 4008.
    expect(opFours).toBeLessThanOrEqual(10);

    reject = false;
    await sleep(500);
    const again = await join(sim, 30_000);
    expect(again.answer).toMatch(/Transcribing/);
  }, 90_000);

  it('the voice server never answers IDENTIFY: /join says it could not join within ~30 s, the bot leaves, and a later /join works', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    // The simulator's voice server is internal; silence its identify handler for this test only.
    const voice = Reflect.get(sim, 'voice') as { onIdentify: (...args: unknown[]) => void };
    const original = voice.onIdentify;
    voice.onIdentify = () => undefined;
    const from = sim.records.voiceStateRequests.length;
    const { answer, tookMs } = await join(sim, 45_000);
    expect(answer).toMatch(/could not join/i);
    expect(tookMs).toBeLessThan(30_000);
    expect(bot.child.exitCode).toBeNull();
    // It asked to leave the channel again (not left sitting in voice, unusable).
    await sleep(500);
    expect(sim.records.voiceStateRequests.slice(from).at(-1)?.channelId).toBeNull();
    voice.onIdentify = original;
    const again = await join(sim, 30_000);
    expect(again.answer).toMatch(/Transcribing/);
  }, 90_000);

  it('mid-session: the session ends with a notice instead of an op 4 storm, and the bot stays up', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    const first = await join(sim, 30_000);
    expect(first.answer).toMatch(/Transcribing/);
    const messagesBefore = sim.records.messages.length;
    sim.on('voiceOp', (record) => {
      if (record.op === 1 && record.guildId) sim.closeVoice(record.guildId, 4016, 'Unknown encryption mode');
    });
    const from = sim.records.voiceStateRequests.length;
    sim.closeVoice(sim.guild.id, 4016, 'Unknown encryption mode');
    await sleep(8_000);
    expect(bot.child.exitCode).toBeNull();
    // A handful of rejoins, then a leave: not hundreds of op 4 in a few seconds.
    expect(joinRequests(sim, from)).toBeLessThanOrEqual(10);
    expect(sim.records.voiceStateRequests.at(-1)?.channelId).toBeNull();
    // People in the channel are told the session ended (the end notice with the transcript files).
    expect(sim.records.messages.length).toBeGreaterThan(messagesBefore);
    expect(transcriptLines(sim)).toEqual([]);
  }, 60_000);
});
