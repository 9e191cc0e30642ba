/**
 * Per-speaker state under many distinct speakers (regression tests; found as adversarial round 2, item 1).
 * (a) More than 32 people (DecoderPool's old maxDecoders) talking within ten seconds: nobody's speech may be lost.
 *     Decoders were held 10 s after a speaker stopped; now they go back at the silence seal.
 * (b) People who speak once and leave the channel: their per-speaker state (SpeakerReceiver, segmenter with its
 *     preallocated ~14 KB of frame arrays, receive subscription) must be released, not kept for the whole session,
 *     and what they said before leaving must still be transcribed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import { botMetrics, metric, padToMs, sleep } from './audioSupport.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** A distinct 3-digit DTMF code per index with no repeated neighbours (the stand-in needs gaps for repeats). */
function codeFor(i: number): string {
  const digits = '0123456789';
  const a = digits[Math.floor(i / 9) % 10]!;
  let b = digits[(i % 9) + 1]!;
  if (b === a) b = 'A';
  return `${a}${b}D`;
}

describe('many speakers', () => {
  it('40 members each say one short code within a few seconds: all 40 are transcribed (no decoder starvation)', async () => {
    rig = await startRig({ env: { MAX_UPLOADS: '4' } });
    const { sim, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const n = 40;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = sim.addMember(sim.guild.id, { username: `user${i}`, globalName: `U${i}` });
      sim.setVoiceState(sim.guild.id, id, sim.guild.voiceChannelId);
      ids.push(id);
    }
    await sleep(300);
    // Staggered by 100 ms: at most ~4 s from the first to the last speaker, all well inside decoderIdleMs (10 s).
    await Promise.all(
      ids.map(async (id, i) => {
        await sleep(i * 100);
        const speaker = sim.speaker({ guildId: sim.guild.id, userId: id });
        await speaker.play(padToMs(dtmfPcm(codeFor(i), { leadMs: 40 }), 700), { keepPackets: false });
      }),
    );
    await sim.waitFor(() => (transcriptLines(sim).length >= n ? true : undefined), 60_000, `${n} lines`).catch(() => undefined);
    const metrics = await botMetrics(bot);
    const lines = transcriptLines(sim);
    const expected = ids.map((_, i) => `**U${i}**: ${codeFor(i)}`).sort();
    expect({
      lines: [...lines].sort(),
      decoderUnavailable: metric(metrics, 'audio_decoder_unavailable'),
      droppedMs: metric(metrics, 'audio_dropped_ms'),
    }).toEqual({ lines: expected, decoderUnavailable: 0, droppedMs: 0 });
  }, 120_000);

  it('150 members who each speak once and then leave the channel: their speaker state is released', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const n = 150;
    const clip = padToMs(dtmfPcm("1D", { leadMs: 40 }), 300);
    // In waves of 10 at once, like a busy public channel over an evening.
    for (let wave = 0; wave < n / 10; wave++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          const id = sim.addMember(sim.guild.id, { username: `w${wave}u${k}` });
          sim.setVoiceState(sim.guild.id, id, sim.guild.voiceChannelId);
          const speaker = sim.speaker({ guildId: sim.guild.id, userId: id });
          await speaker.play(clip, { keepPackets: false });
          await sleep(100);
          sim.setVoiceState(sim.guild.id, id, null); // VOICE_STATE_UPDATE channel null + op 13 on the voice socket
        }),
      );
    }
    await sleep(2_000);
    // Dropping a speaker seals their open segment first: everyone's "1D" arrives.
    await sim.waitFor(() => (transcriptLines(sim).length >= n ? true : undefined), 30_000, `${n} lines`).catch(() => undefined);
    expect(transcriptLines(sim).filter((line) => line.endsWith(': 1D'))).toHaveLength(n);
    const metrics = await botMetrics(bot);
    expect(bot.child.exitCode).toBeNull();
    // Nobody but alice (who never spoke) is in the channel any more. voice_receiver_subscriptions is sampled when a
    // subscription is made, so it shows the peak; speakers_active is 'Speakers being received now'.
    expect({
      speakersActive: metric(metrics, 'speakers_active'),
      subscriptionsAtLastSample: metric(metrics, 'voice_receiver_subscriptions'),
    }).toEqual({ speakersActive: 0, subscriptionsAtLastSample: expect.any(Number) });
    expect(metric(metrics, 'voice_receiver_subscriptions')).toBeLessThanOrEqual(10);
  }, 120_000);
});

