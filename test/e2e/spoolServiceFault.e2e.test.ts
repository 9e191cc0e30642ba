/**
 * Regression (found by the breaker suite, test/breaker/spoolWipe): a restart with a wrong or rotated
 * TRANSCRIBE_API_KEY deleted the spooled backlog entry by entry, because a 401 counted as "this recording is
 * bad". A 401 says the service's setup is wrong, not the audio: the backlog must survive until the key is fixed,
 * and people are told once, in plain words, without the API's response body (OpenAI's echoes the masked key).
 * The bot is a separate process (test/e2e/rig.ts); the SIGKILL and both restarts on one DATA_DIR are real.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import { BotProcess } from '../util/BotProcess.js';
import { joinVoice, rigEnv, startRig, transcriptLines, type Rig } from './rig.js';
import { botErrors, botMetrics, metric, padToMs, parseLine, sleep, spoolFiles, waitForLines, waitForSpooled } from './audioSupport.js';

let rig: Rig | undefined;
const restarts: BotProcess[] = [];

afterEach(async () => {
  for (const bot of restarts.splice(0)) await bot.dispose();
  await rig?.close();
  rig = undefined;
});

/** Everything the bot posted as a warning. */
const warnings = (rig: Rig): string[] => rig.sim.records.messages.map((m) => m.content).filter((c) => c.startsWith('⚠️'));

describe('spool vs. a misconfigured transcription service (bot process)', () => {
  it('a restart with a wrong API key keeps the spooled backlog and warns once without the response body; the right key then transcribes it', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });

    // Two utterances during an outage: both end up in the spool.
    await whisper.down();
    await alice.play(padToMs(dtmfPcm('147', { leadMs: 40 }), 600));
    await sleep(1_200);
    await alice.play(padToMs(dtmfPcm('258', { leadMs: 40 }), 600));
    await waitForSpooled(bot, 2, 20_000);
    const backlog = spoolFiles(bot.dataDir);
    expect(backlog).toHaveLength(2);
    bot.child.kill('SIGKILL');
    await bot.exit();
    await whisper.up();

    // Redeploy with a rotated key: the stand-in answers 401 (OpenAI's wording) to every upload.
    const wrongKey = new BotProcess({ env: rigEnv(sim, whisper, { TRANSCRIBE_API_KEY: 'sk-rotated-old-key' }), dataDir: bot.dataDir });
    restarts.push(wrongKey);
    await wrongKey.waitForLog((l) => l.msg === 'tinyscribe started', 20_000);
    // The drainer tries at start and again after its first backoff (2 s): a second refusal must neither delete
    // anything nor post again.
    await sim.waitFor(() => whisper.requests.filter((r) => r.status === 401).length >= 2 || undefined, 15_000, 'two 401s');
    await sleep(500);
    expect(spoolFiles(bot.dataDir)).toEqual(backlog);
    expect(warnings(rig)).toEqual([
      '⚠️ The transcription service rejected the API key (HTTP 401); speech is kept on disk and will be transcribed once TRANSCRIBE_API_KEY is fixed.',
    ]);
    const posted = sim.records.messages.map((m) => m.content).join('\n');
    expect(posted).not.toContain('Incorrect API key');
    expect(posted).not.toContain('invalid_api_key');
    expect(transcriptLines(sim)).toEqual([]);
    const metrics = await botMetrics(wrongKey);
    expect(metric(metrics, 'segments_failed')).toBe(0);
    // The body is for operators: it is in the log.
    expect(wrongKey.lines.some((l) => typeof l.bodyExcerpt === 'string' && l.bodyExcerpt.includes('Incorrect API key'))).toBe(true);
    // A graceful stop (a redeploy) keeps the backlog too.
    expect((await wrongKey.stop('SIGTERM')).code).toBe(0);
    expect(spoolFiles(bot.dataDir)).toEqual(backlog);

    // The key is fixed: everything said during the outage is posted, marked with when it was said.
    const fixed = new BotProcess({ env: rigEnv(sim, whisper), dataDir: bot.dataDir });
    restarts.push(fixed);
    const lines = await waitForLines(sim, () => transcriptLines(sim), 2, 30_000);
    expect(lines.map(parseLine).map((l) => [l.name, l.text, l.delayed])).toEqual([
      ['Ally', '147', true],
      ['Ally', '258', true],
    ]);
    await sim.waitFor(() => spoolFiles(bot.dataDir).length === 0 || undefined, 5_000, 'spool empty');
    expect(warnings(rig)).toHaveLength(1);
    expect(botErrors(wrongKey)).toEqual([]);
    expect(botErrors(fixed)).toEqual([]);
  });
});
