/**
 * Issue #3 §5, inputs 5–8: unmapped SSRCs, damaged packets, speaking churn and no-speech audio, against the bot
 * as a separate process (test/e2e/rig.ts), the Discord simulator and the Whisper stand-in.
 */
import opus from '@discordjs/opus';
import { afterEach, describe, expect, it } from 'vitest';
import { concatPcm, dtmfPcm, noisePcm, silencePcm } from '../sim/audio/index.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';
import { botErrors, botMetrics, metric, padToMs, parseLine, sleep, waitForLines } from './audioSupport.js';

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** 20 ms Opus frames (48 kHz stereo, as clients send) of `pcm`. */
function opusFrames(pcm: Int16Array): Buffer[] {
  const encoder = new opus.OpusEncoder(48_000, 2);
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const frames: Buffer[] = [];
  for (let at = 0; at + 3_840 <= bytes.length; at += 3_840) frames.push(encoder.encode(bytes.subarray(at, at + 3_840)));
  return frames;
}

describe('audio path: faults on the wire (bot process)', () => {
  it('5. Ten packets from an SSRC before its op 5 mapping arrives: no crash, no misattribution', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice, sim.members.bob]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice, announce: 'manual' });
    const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob });

    // Bob is mapped and talking while ten packets of a '9' arrive from alice's not yet mapped SSRC.
    const bobPlay = bob.play(padToMs(dtmfPcm('2468', { leadMs: 40 }), 1_000));
    await sleep(200);
    const early = await alice.sendRawOpus(opusFrames(dtmfPcm('9', { toneMs: 200 })));
    expect(early.counts.sent).toBe(10);
    await bobPlay;
    await alice.announce();
    await alice.play(padToMs(dtmfPcm('1357', { leadMs: 40 }), 1_000));

    const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 20_000);
    await sleep(1_500); // anything else would have been posted by now
    // The early '9' belongs to no one: not to bob (who was talking), not to alice's later segment.
    expect(transcriptLines(sim).sort()).toEqual(['**Ally**: 1357', '**Bobby Tables**: 2468']);
    expect(lines.join('\n')).not.toContain('9');
    expect(whisper.requests.map((r) => r.decodedText).sort()).toEqual(['1357', '2468']);
    expect(bot.child.exitCode).toBeNull();
    expect(botErrors(bot)).toEqual([]);
  });

  it('6. One 40-byte random payload and one packet with a bad authentication tag in the middle of an utterance: counted, concealed, the rest of the utterance transcribed', async () => {
    rig = await startRig({ sim: { modes: ['aead_aes256_gcm_rtpsize'] } });
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    // 'plain' packets draw nothing from the PRNG, so frame 30's random payload is the first 40 bytes of seed 1:
    // it decodes "successfully" to 2.5 ms of noise, which the bot must still count as corrupt. (One random payload
    // in ~9 decodes to exactly 20 ms and cannot be told from speech.) Frame 50 fails decryption.
    const played = await alice.play(padToMs(dtmfPcm('123456789', { leadMs: 40 }), 1_500), {
      shape: 'plain',
      seed: 1,
      corruptAt: new Set([30]),
      badTagAt: new Set([50]),
    });
    expect(played.packets[30]!.corrupt).toBe(true);
    expect(played.packets[50]!.badTag).toBe(true);

    const lines = await waitForLines(sim, () => transcriptLines(sim), 1, 20_000);
    expect(lines).toEqual(['**Ally**: 123456789']);
    // One segment, exactly 75 frames long: both bad slots were concealed, nothing shifted the timeline.
    expect(whisper.requests.map((r) => Math.round((r.file?.durationSec ?? Number.NaN) * 1000))).toEqual([1_500]);
    const metrics = await botMetrics(bot);
    expect(metric(metrics, 'audio_corrupt_packets')).toBe(1);
    expect(metric(metrics, 'audio_decrypt_failures')).toBe(1);
    expect(metric(metrics, 'audio_concealed_ms')).toBe(40);
    // The library destroyed the stream on the bad tag; the bot subscribed again at once, still one live stream.
    expect(metric(metrics, 'voice_subscriptions_total')).toBe(2);
    expect(metric(metrics, 'voice_receiver_subscriptions')).toBe(1);
    expect(botErrors(bot)).toEqual([]);
  });

  it('7. Fifty speaking start/stop cycles of one user within a minute: listener and subscription counts constant, no MaxListenersExceeded warning', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    const digits = '0123456789'.repeat(5);
    let afterTen: Map<string, number> | undefined;
    const started = Date.now();
    for (let i = 0; i < 50; i++) {
      // 100 ms tone + 2 end-of-spurt frames, then 160 ms without packets: the library's speaking map ends the
      // user's speaking after 100 ms, so each cycle is one 'start' and one 'end'.
      await alice.play(dtmfPcm(digits[i]!, { toneMs: 100 }), { silenceFrames: 2 });
      await sleep(160);
      if (i === 9) afterTen = await botMetrics(bot);
    }
    expect(Date.now() - started).toBeLessThan(60_000);

    // The pauses are shorter than SILENCE_GAP_MS, so this is normally one long segment (a loaded machine may
    // stretch a pause past it and split it, which is fine); either way every cycle's onset is in the text.
    const heard = (): string => transcriptLines(sim).map((l) => parseLine(l).text).join('');
    await sim.waitFor(() => heard().length >= digits.length || undefined, 30_000, 'all 50 digits');
    await sleep(500);
    expect(heard()).toBe(digits);
    expect(new Set(transcriptLines(sim).map((l) => parseLine(l).name))).toEqual(new Set(['Ally']));
    const atEnd = await botMetrics(bot);
    expect(metric(atEnd, 'voice_subscriptions_total')).toBe(1);
    for (const name of ['voice_speaking_listeners', 'voice_stream_listeners', 'voice_receiver_subscriptions']) {
      expect(metric(afterTen!, name), name).toBeGreaterThan(0);
      expect(metric(atEnd, name), name).toBe(metric(afterTen!, name));
    }
    expect(metric(atEnd, 'voice_receiver_subscriptions')).toBe(1);
    expect(bot.stderr.join('')).not.toMatch(/MaxListenersExceeded/);
    expect(botErrors(bot)).toEqual([]);
  });

  it('8. Two seconds of digital silence and two seconds of −60 dBFS noise: no upload', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    await alice.play(silencePcm(2_000, 48_000, 2));
    await sleep(1_200);
    await alice.play(noisePcm(2_000, -60, 48_000, 2, 7));
    await sleep(1_500); // past SILENCE_GAP_MS: both are sealed (and dropped) by now
    expect(whisper.requests).toHaveLength(0);
    const metrics = await botMetrics(bot);
    expect(metric(metrics, 'segments_discarded_silence')).toBe(2);

    // The same path does upload real speech (so the silence above was heard and judged, not missed).
    await alice.play(padToMs(dtmfPcm('42', { leadMs: 40 }), 500));
    expect(await waitForLines(sim, () => transcriptLines(sim), 1, 20_000)).toEqual(['**Ally**: 42']);
    expect(whisper.requests).toHaveLength(1);
  });

  it('8. The stand-in answering "Thank you for watching!" to a quiet segment: nothing posted', async () => {
    rig = await startRig();
    const { sim, whisper } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
    whisper.answerWith('Thank you for watching!');

    // Quiet (≈ −40 dBFS, above the speech gate, below the filter's −35) and short: uploaded, answer dropped.
    await alice.play(concatPcm(silencePcm(40, 48_000, 2), dtmfPcm('5', { toneMs: 400, amplitude: 0.02 })));
    await whisper.waitForRequests(1, 20_000);
    await sleep(1_000);
    expect(whisper.requests[0]!.responseText).toContain('Thank you for watching!');
    expect(transcriptLines(sim)).toEqual([]);

    // A clear, loud two seconds answered with the same words is real speech and is posted.
    await alice.play(dtmfPcm('1397', { toneMs: 500, leadMs: 40 }));
    const lines = await waitForLines(sim, () => transcriptLines(sim), 1, 20_000);
    expect(lines).toEqual(['**Ally**: Thank you for watching!']);
    expect(whisper.requests).toHaveLength(2);
  });
});
