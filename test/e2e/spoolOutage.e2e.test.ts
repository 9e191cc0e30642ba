/**
 * Issue #3 §5, inputs 9–11: nothing is lost when the transcription server is down, rate-limits, or the bot is
 * killed with segments in its spool. The bot is a separate process (test/e2e/rig.ts); a SIGKILL and a restart
 * on the same DATA_DIR are real.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import { BotProcess } from '../util/BotProcess.js';
import { joinVoice, rigEnv, startRig, transcriptLines, type Rig } from './rig.js';
import { botErrors, botMetrics, metric, padToMs, parseLine, sleep, spoolFiles, waitForLines, waitForSpooled } from './audioSupport.js';

let rig: Rig | undefined;
let restarted: BotProcess | undefined;

afterEach(async () => {
  await restarted?.dispose();
  restarted = undefined;
  await rig?.close();
  rig = undefined;
});

describe('audio path: nothing lost (bot process)', () => {
  it('9. The stand-in down (connection refused) for 60 s while two users talk, then back: every utterance is posted, in order per speaker, none twice', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice, sim.members.bob]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
    const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob });

    // The outage lasts 15 s, not 60 s: what matters is that it outlasts the client's retry budget (4 attempts,
    // ≤ 3.5 s of backoff), so every utterance goes to the spool and the drainer has to back off and come back.
    // Past that point a longer outage only adds idle time (and drainer backoff, up to 60 s) to the suite; the
    // assertion is the same.
    const downAt = Date.now();
    await whisper.down();
    const aliceSays = ['123', '456', '789'];
    const bobSays = ['987', '654', '321'];
    for (let i = 0; i < 3; i++) {
      // Bob starts 300 ms into alice's utterance: they overlap on the wire.
      await Promise.all([
        alice.play(padToMs(dtmfPcm(aliceSays[i]!, { leadMs: 40 }), 600)),
        sleep(300).then(() => bob.play(padToMs(dtmfPcm(bobSays[i]!, { leadMs: 40 }), 600))),
      ]);
      await sleep(1_000);
    }
    await waitForSpooled(bot, 6, 20_000);
    expect(transcriptLines(sim)).toEqual([]);
    await sleep(Math.max(0, 15_000 - (Date.now() - downAt)));
    await whisper.up();

    const lines = await waitForLines(sim, () => transcriptLines(sim), 6, 60_000);
    await sleep(1_000); // a duplicate would show up right behind
    const parsed = transcriptLines(sim).map(parseLine);
    expect(parsed).toHaveLength(6);
    expect(lines).toHaveLength(6);
    expect(parsed.filter((l) => l.name === 'Ally').map((l) => l.text)).toEqual(aliceSays);
    expect(parsed.filter((l) => l.name === 'Bobby Tables').map((l) => l.text)).toEqual(bobSays);
    // All six came from the spool, marked with the time they were said.
    expect(parsed.every((l) => l.delayed)).toBe(true);
    expect(new Set(whisper.requests.filter((r) => r.status === 200).map((r) => r.decodedText)).size).toBe(6);
    expect(botErrors(bot)).toEqual([]);
  });

  it('10. The bot killed with SIGKILL while segments sit in the spool, then restarted: those transcripts are posted after restart', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    await whisper.down();
    await alice.play(padToMs(dtmfPcm('147', { leadMs: 40 }), 600));
    await sleep(1_200);
    await alice.play(padToMs(dtmfPcm('258', { leadMs: 40 }), 600));
    await waitForSpooled(bot, 2, 20_000);
    const files = spoolFiles(bot.dataDir);
    expect(files).toHaveLength(2);

    bot.child.kill('SIGKILL');
    expect((await bot.exit()).signal).toBe('SIGKILL');
    expect(transcriptLines(sim)).toEqual([]);

    // What a kill -9 in the middle of a write leaves behind: a half-written .tmp, and (disk trouble) a truncated
    // file that sorts first. Neither may block or crash the drainer.
    const spoolDir = join(bot.dataDir, 'spool');
    const whole = readFileSync(join(spoolDir, files[1]!));
    writeFileSync(join(spoolDir, `${files[1]!.replace(/-[0-9a-f]+\.wav$/, '-0badf00d.wav')}.tmp`), whole.subarray(0, 3_000));
    const truncated = '0000000000000001-0000000000000001-deadbeef.wav';
    writeFileSync(join(spoolDir, truncated), whole.subarray(0, 200));

    await whisper.up();
    restarted = new BotProcess({ env: rigEnv(sim, whisper), dataDir: bot.dataDir });
    const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 30_000);
    const parsed = lines.map(parseLine);
    expect(parsed.map((l) => [l.name, l.text, l.delayed])).toEqual([
      ['Ally', '147', true],
      ['Ally', '258', true],
    ]);
    // The drained files are gone, the truncated one is set aside, the .tmp deleted.
    await sim.waitFor(() => spoolFiles(bot.dataDir).length === 0 || undefined, 5_000, 'spool empty');
    expect(readdirSync(spoolDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(join(spoolDir, 'quarantine')).filter((n) => n.endsWith(`-${truncated}`))).toHaveLength(1);
    expect(restarted.child.exitCode).toBeNull();
    expect(botErrors(restarted)).toEqual([]);
  });

  it('11. The stand-in returning 429 with Retry-After 2: the retry waits at least that long; nothing is lost', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    whisper.failNext(1, { status: 429, retryAfterSeconds: 2 });
    await alice.play(padToMs(dtmfPcm('3690', { leadMs: 40 }), 800));

    const lines = await waitForLines(sim, () => transcriptLines(sim), 1, 20_000);
    expect(lines).toEqual(['**Ally**: 3690']);
    const [limited, retried] = whisper.requests;
    expect(whisper.requests).toHaveLength(2);
    expect(limited!.status).toBe(429);
    expect(retried!.status).toBe(200);
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(2_000);
    // The same bytes went out again (rebuilt from the pool), and the segment never needed the spool.
    expect(retried!.bytes).toBe(limited!.bytes);
    const metrics = await botMetrics(bot);
    expect(metric(metrics, 'segments_spooled')).toBe(0);
    expect(metric(metrics, 'transcribe_rate_limited')).toBe(1);
  });
});
