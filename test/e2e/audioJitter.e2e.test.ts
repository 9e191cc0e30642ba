/**
 * Network jitter reorders packets: with the simulator's 60 ms of per-packet jitter about a quarter of them arrive
 * after a later one. The bot (a separate process, test/e2e/rig.ts) must put them back in RTP sequence order
 * (src/audio/ReorderBuffer.ts) instead of concealing their slot and dropping them as late.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import type { PlayedPacket } from '../sim/discord/index.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';
import { botErrors, botMetrics, metric, padToMs, waitForLines } from './audioSupport.js';

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Packets put on the wire after one with a higher sequence (the loopback socket keeps this order to the bot). */
function overtaken(sent: readonly PlayedPacket[]): number {
  let highest = -1;
  let count = 0;
  for (const p of sent) {
    const seq = p.sequence!; // no wrap within one short play from the simulator's start sequence
    if (seq < highest) count++;
    else highest = seq;
  }
  return count;
}

describe('audio path: jitter (bot process)', () => {
  it('60 ms of jitter: overtaken packets are put back in order; digits exact, upload true-length, nothing concealed or dropped', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    const played = await alice.play(padToMs(dtmfPcm('1234567890', { toneMs: 80, gapMs: 60, leadMs: 40 }), 2_000), { jitterMs: 60, seed: 7 });
    const reordered = overtaken(played.sent);
    // The first packet sets the sequence the bot expects; with this seed it is not itself overtaken (if it were,
    // the one before it would count as late: the buffer cannot know a stream's first sequence).
    expect(played.sent[0]!.index).toBe(0);
    expect(played.counts.sent).toBe(105); // 100 audio frames + 5 end-of-spurt silence frames, none lost
    expect(reordered).toBeGreaterThan(10); // the test means something only if jitter really reordered
    // Without the reorder buffer (before it existed) this run posted '12456790': 22 late packets, 440 ms of PLC.

    const lines = await waitForLines(sim, () => transcriptLines(sim), 1, 20_000);
    const metrics = await botMetrics(bot);
    expect(lines).toEqual(['**Ally**: 1234567890']);
    expect(whisper.requests.map((r) => Math.round((r.file?.durationSec ?? Number.NaN) * 1000))).toEqual([2_000]);
    expect(metric(metrics, 'audio_reordered_packets')).toBe(reordered);
    expect(metric(metrics, 'audio_late_packets')).toBe(0);
    expect(metric(metrics, 'audio_concealed_ms')).toBe(0);
    expect(botErrors(bot)).toEqual([]);
  });
});
