/**
 * Issue #3 §5, inputs 1–4: segments follow the audio's own RTP timeline. The bot runs as a separate process
 * (test/e2e/rig.ts) against the Discord simulator and the Whisper stand-in; segments are observed as the
 * stand-in's requests (one per uploaded segment, with the WAV's exact duration) and as posted lines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import type { WhisperRequestRecord } from '../sim/whisper/types.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';
import { botErrors, botMetrics, metric, botRssBytes, padToMs, sleep, waitForLines } from './audioSupport.js';

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Duration of each uploaded WAV, in ms. */
function uploadedMs(requests: readonly WhisperRequestRecord[]): number[] {
  return requests.map((r) => Math.round((r.file?.durationSec ?? Number.NaN) * 1000));
}

describe('audio path: segments on the audio timeline (bot process)', () => {
  it('1. Speak 2 s, silence 1.5 s, speak 2 s: two segments, one live subscription for the user, no unhandled stream error', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    // Real clients stop sending during silence (5 end-of-spurt frames, then nothing), as play() does.
    await alice.play(padToMs(dtmfPcm('1234567890', { toneMs: 120, gapMs: 80, leadMs: 40 }), 2_000));
    await sleep(1_500);
    await alice.play(padToMs(dtmfPcm('0987654321', { toneMs: 120, gapMs: 80, leadMs: 40 }), 2_000));

    const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 20_000);
    expect(lines).toEqual(['**Ally**: 1234567890', '**Ally**: 0987654321']);
    expect(whisper.requests.map((r) => r.decodedText)).toEqual(['1234567890', '0987654321']);
    // End-of-spurt silence frames are trimmed: each segment is exactly its 100 audio frames.
    expect(uploadedMs(whisper.requests)).toEqual([2_000, 2_000]);

    const metrics = await botMetrics(bot);
    expect(metric(metrics, 'voice_subscriptions_total')).toBe(1);
    expect(metric(metrics, 'voice_receiver_subscriptions')).toBe(1);
    expect(metric(metrics, 'audio_decrypt_failures')).toBe(0);
    expect(bot.child.exitCode).toBeNull();
    expect(botErrors(bot)).toEqual([]);
  });

  it('2. A 300 ms word 400 ms after a previous utterance: transcribed, and its segment starts at the first packet that was sent', async () => {
    // A 300 ms silence gap makes the 400 ms pause end the first segment, so the word gets a segment of its own
    // and its start can be checked (with the rig's 800 ms both would share one segment, the word still whole).
    rig = await startRig({ env: { SILENCE_GAP_MS: '300' } });
    const { sim, whisper } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    const first = await alice.play(padToMs(dtmfPcm('2468', { leadMs: 20 }), 1_000));
    await sleep(400 - 5 * 20); // play() already sent 100 ms of end-of-spurt frames: 400 ms without speech in all
    // The word's very first frame is already tone: a lost onset would shorten the upload and may lose the digit.
    const word = await alice.play(dtmfPcm('7', { toneMs: 300 }));
    expect(word.packets[0]!.silence).toBe(false);
    expect(first.counts.sent).toBe(55);

    const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 20_000);
    expect(lines).toEqual(['**Ally**: 2468', '**Ally**: 7']);
    // 15 audio frames sent, 15 in the segment: it starts at the first packet (and ends at the last).
    expect(uploadedMs(whisper.requests)).toEqual([1_000, 300]);
  });

  describe.each([
    { name: 'plain', seqStart: 1_000, timestampStart: 123_456 },
    // The u16 sequence wraps on the first packet after the gap (65 486 + 50 = 65 536 → 0).
    { name: 'across a sequence wrap', seqStart: 0x10000 - 50, timestampStart: 7_000_000 },
    // The u32 timestamp wraps in the middle of the 2 s gap (frame 100 has timestamp 0).
    { name: 'across a timestamp wrap', seqStart: 30_000, timestampStart: 0x100000000 - 100 * 960 },
  ])('3. 1 s of speech, then no packets with the RTP timestamp jumping 2 s, then 1 s of speech ($name)', ({ seqStart, timestampStart }) => {
    it('3. two segments, or one with ~2 s of silence if the gap is under the split threshold', async () => {
      rig = await startRig();
      const { sim, whisper } = rig;
      await joinVoice(rig, [sim.members.alice]);
      const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

      // Frames 0–49 speech, 50–149 not sent (DTX: the timestamp runs on, the sequence does not), 150–199 speech.
      const clip = new Int16Array(4_000 * 96);
      clip.set(padToMs(dtmfPcm('13579', { leadMs: 40 }), 1_000), 0);
      clip.set(padToMs(dtmfPcm('80642', { leadMs: 40 }), 1_000), 3_000 * 96);
      const dropFrames = new Set(Array.from({ length: 100 }, (_, i) => 50 + i));
      const played = await alice.play(clip, { seqStart, timestampStart, dropFrames, shape: 'mixed' });
      const afterGap = played.packets[150]!;
      expect(afterGap.sequence).toBe((seqStart + 50) & 0xffff);
      expect((afterGap.timestamp - played.packets[49]!.timestamp) >>> 0).toBe(101 * 960);

      const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 20_000);
      // The 2 s gap is longer than SILENCE_GAP_MS (800 ms): two segments, each exactly its own second of audio,
      // so nothing proportional to the jump (nor a 2^32-sized "gap" at the wrap) was inserted.
      expect(lines).toEqual(['**Ally**: 13579', '**Ally**: 80642']);
      expect(uploadedMs(whisper.requests)).toEqual([1_000, 1_000]);
    });
  });

  it('4. A speaker leaves and comes back 5 s later on a new SSRC with a timestamp about 2^31 away: at most the capped silence is inserted; RSS grows by less than 5 MB', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    const before = await alice.play(padToMs(dtmfPcm('1470', { leadMs: 40 }), 1_000));
    await waitForLines(sim, () => transcriptLines(sim), 1, 20_000);
    const rssBefore = botRssBytes(bot);

    await alice.leave();
    await sleep(5_000);
    const oldSsrc = alice.ssrc;
    await alice.rejoin();
    expect(alice.ssrc).not.toBe(oldSsrc);
    const timestampStart = (before.packets[0]!.timestamp + 0x80000000 + 12_345) >>> 0;
    await alice.play(padToMs(dtmfPcm('2581', { leadMs: 40 }), 1_000), { timestampStart });

    const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 20_000);
    expect(lines).toEqual(['**Ally**: 1470', '**Ally**: 2581']);
    // The new SSRC starts a new segment: no silence at all is inserted for the jump (the cap is 1 s at most).
    expect(uploadedMs(whisper.requests)).toEqual([1_000, 1_000]);
    const metrics = await botMetrics(bot);
    expect(metric(metrics, 'audio_inserted_silence_ms')).toBeLessThanOrEqual(1_000);
    expect(botRssBytes(bot) - rssBefore).toBeLessThan(5 * 1024 * 1024);
  });
});
