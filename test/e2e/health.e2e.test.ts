import { afterEach, describe, expect, it } from 'vitest';
import { concatPcm, dtmfPcm, silencePcm } from '../sim/audio/index.js';
import { healthPort, sample, scrape, waitForHealth } from '../health/botHealth.js';
import type { Family } from '../health/parsePrometheus.js';
import type { BotProcess } from '../util/BotProcess.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const ok = (a: { status: number }): boolean => a.status === 200;

/** Scrapes until a sample reaches `atLeast`; returns that scrape. */
async function waitForSample(port: number, name: string, atLeast: number, bot: BotProcess, timeoutMs = 20_000): Promise<Map<string, Family>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const families = await scrape(port);
    if (sample(families, name) >= atLeast) return families;
    if (Date.now() > deadline) throw new Error(`${name} stayed below ${atLeast}:\n${bot.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('/healthz of the bot process follows the gateway', () => {
  it('goes 503 when the simulator drops the gateway or stops acking heartbeats, and 200 again after the resume', async () => {
    // A short heartbeat interval lets the zombie detection (one missed ack) happen within the test.
    rig = await startRig({ sim: { heartbeatIntervalMs: 400 } });
    const { sim, bot } = rig;
    const port = await healthPort(bot);
    expect((await waitForHealth(port, ok, 10_000, '200 after READY')).body).toBe('ok');
    const before = await scrape(port);
    expect(sample(before, 'gateway_ready')).toBe(1);
    expect(sample(before, 'gateway_reconnects_total')).toBe(0);

    // 1. The socket is dropped (resumable 4000): the library waits 500 ms, reconnects and resumes.
    sim.dropGateway(4000);
    const down = await waitForHealth(port, (a) => a.status !== 200, 5_000, 'non-200 after the drop');
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/^gateway reconnecting for [\d.]+ s \(close code 4000\)$/);
    await waitForHealth(port, ok, 10_000, '200 after the resume');
    expect(sim.records.resumes.length).toBe(1);
    expect(sim.records.identifies.length).toBe(1);
    const afterDrop = await scrape(port);
    expect(sample(afterDrop, 'gateway_reconnects_total')).toBe(1);
    expect(sample(afterDrop, 'gateway_ready')).toBe(1);

    // 2. A zombie connection: heartbeats go unanswered; the library notices at the next beat and resumes.
    sim.setHeartbeatAcks(false);
    await waitForHealth(port, (a) => a.status === 503, 5_000, 'non-200 on a zombie connection');
    sim.setHeartbeatAcks(true);
    await waitForHealth(port, ok, 10_000, '200 once heartbeats are acked again');
    const resumes = sim.records.resumes.length;
    expect(resumes).toBeGreaterThanOrEqual(2);
    // Stays healthy over several heartbeats now.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await waitForHealth(port, () => true, 1_000, 'an answer')).status).toBe(200);
    expect(sim.records.resumes.length).toBe(resumes);
    // Every reconnect ended in a resume.
    expect(sample(await scrape(port), 'gateway_reconnects_total')).toBe(resumes);
  });
});

describe('/metrics of the bot process', () => {
  it('parses as Prometheus text, and its counters move in an end-to-end run', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    const port = await healthPort(bot);
    const idle = await scrape(port);
    // Every family the issue names is there from the first scrape, at zero.
    for (const name of [
      'segments_uploaded_total',
      'segments_failed_total',
      'segments_spooled_total',
      'transcribe_latency_seconds_count',
      'spool_segments',
      'audio_dropped_ms_total',
      'audio_concealed_ms_total',
      'gateway_reconnects_total',
      'voice_reconnects_total',
      'sessions_active',
      'speakers_active',
    ]) {
      expect(sample(idle, name), name).toBe(0);
    }
    expect(sample(idle, 'process_resident_memory_bytes')).toBeGreaterThan(20 * 1024 * 1024);
    expect(sample(idle, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024);

    await joinVoice(rig, [sim.members.alice, sim.members.bob]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
    // 1. A clean utterance: one segment uploaded, one line posted.
    await alice.play(dtmfPcm('1357', { leadMs: 100 }));
    await sim.waitFor(() => transcriptLines(sim).includes('**Ally**: 1357'), 15_000, 'first line');
    expect(sample(await scrape(port), 'segments_uploaded_total')).toBe(1);
    // 2. The API fails every attempt at the next segment (503 × the client's 4 attempts): it is spooled, and
    // the drainer sends it later.
    whisper.failNext(4, { status: 503 });
    await alice.play(dtmfPcm('2580', { leadMs: 100 }));
    await waitForSample(port, 'segments_spooled_total', 1, bot);
    // 3. Bob's packets partly lost on the network: concealed audio; the speech still gets through.
    const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob });
    await bob.play(concatPcm(dtmfPcm('9', { leadMs: 100 }), silencePcm(200, 48_000, 2)), { lossPercent: 10, seed: 7 });

    await waitForSample(port, 'segments_uploaded_total', 2, bot);
    const after = await waitForSample(port, 'spool_uploaded_total', 1, bot);
    expect(sample(after, 'sessions_active')).toBe(1);
    expect(sample(after, 'sessions_started_total')).toBe(1);
    expect(sample(after, 'speakers_active')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'segments_spooled_total')).toBe(1);
    expect(sample(after, 'transcribe_failures_total')).toBe(1);
    expect(sample(after, 'spool_uploaded_total')).toBe(1);
    expect(sample(after, 'spool_segments')).toBe(0);
    expect(sample(after, 'segments_failed_total')).toBe(0);
    expect(sample(after, 'transcribe_retries_total')).toBe(3);
    // One latency observation per successful call: Ally's two straight uploads, Bobby's, and the spooled one.
    expect(sample(after, 'transcribe_latency_seconds_count')).toBe(sample(after, 'segments_uploaded_total') + 1);
    expect(sample(after, 'transcribe_latency_seconds_sum')).toBeGreaterThan(0);
    expect(sample(after, 'audio_concealed_ms_total')).toBeGreaterThan(0);
    expect(sample(after, 'posts_sent_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'commands_total')).toBe(1);
    expect(sample(after, 'voice_reconnects_total')).toBe(0);

    // 4. The voice server closes the socket with a resumable code: the library resumes, which counts as a reconnect.
    const resumedBefore = sim.records.voiceOps.filter((op) => op.op === 7).length;
    sim.closeVoice(sim.guild.id, 4015);
    await waitForSample(port, 'voice_reconnects_total', 1, bot);
    await sim.waitFor(() => sim.records.voiceOps.filter((op) => op.op === 7).length > resumedBefore, 10_000, 'voice resume (op 7)');
  });
});
