import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import { BotProcess } from '../util/BotProcess.js';
import { joinVoice, rigEnv, startRig, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;
let restarted: BotProcess | undefined;

afterEach(async () => {
  await restarted?.dispose();
  restarted = undefined;
  await rig?.close();
  rig = undefined;
});

const ALICE = '13579135';
const BOB = '24680246';
// kill_timeout in fly.toml is 35 s and the bot's own deadline 30 s; a drain here is far shorter.
const DRAIN_BUDGET_MS = 30_000;

/** Both speakers talk (Bob 300 ms after Alice); SIGTERM arrives `afterMs` into Alice's utterance. */
async function talkAndTerminate(r: Rig, afterMs: number): Promise<{ code: number | null; signal: string | null; drainMs: number }> {
  const { sim, bot } = r;
  const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
  const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob });
  const speech = Promise.all([
    alice.play(dtmfPcm(ALICE, { leadMs: 60 })),
    new Promise((res) => setTimeout(res, 300)).then(() => bob.play(dtmfPcm(BOB, { leadMs: 60 }))),
  ]);
  await new Promise((res) => setTimeout(res, afterMs));
  const sentAt = Date.now();
  const exit = await bot.stop('SIGTERM', DRAIN_BUDGET_MS + 5_000);
  const drainMs = Date.now() - sentAt;
  await speech;
  return { ...exit, drainMs };
}

/** The texts of a speaker's posted lines (a line from the spool carries a "said at" note after the name). */
function digitsOf(lines: readonly string[], name: string): string[] {
  const re = new RegExp(`^\\*\\*${name}\\*\\*(?: _\\(said at [^)]*\\)_)?: (.*)$`);
  return lines.flatMap((l) => re.exec(l)?.[1] ?? []);
}

describe('SIGTERM during speech (bot process)', () => {
  it('leaves voice, uploads what was being said, posts every line and the transcript files, exits 0', async () => {
    // A slow API: uploads are still in flight when the signal comes.
    rig = await startRig({ whisper: { latencyMs: 1_000 } });
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice, sim.members.bob]);
    const { code, drainMs } = await talkAndTerminate(rig, 900);
    expect(code).toBe(0);
    expect(drainMs).toBeLessThan(DRAIN_BUDGET_MS);
    expect(bot.lines.some((l) => l.msg === 'shutdown complete')).toBe(true);
    expect(bot.lines.filter((l) => l.msg === 'shutdown step failed')).toEqual([]);

    // Both utterances were cut short; what had been said by then was sealed, uploaded and posted.
    const answered = whisper.requests.filter((r) => r.outcome === 'answered' && r.status === 200);
    expect(answered.length).toBeGreaterThanOrEqual(2);
    const lines = transcriptLines(sim);
    const ally = digitsOf(lines, 'Ally');
    const bobby = digitsOf(lines, 'Bobby Tables');
    expect(ally.join('').length).toBeGreaterThan(0);
    expect(bobby.join('').length).toBeGreaterThan(0);
    expect(ALICE.startsWith(ally.join(''))).toBe(true);
    expect(BOB.startsWith(bobby.join(''))).toBe(true);
    expect(ally.join('').length).toBeLessThan(ALICE.length);
    // Every transcript the API returned was posted, none twice; nothing was left in the spool.
    const heard = answered.map((r) => r.decodedText).filter((t) => t !== '');
    expect([...ally, ...bobby].sort()).toEqual([...heard].sort());
    expect(readdirSync(join(bot.dataDir, 'spool')).filter((f) => f.endsWith('.wav'))).toEqual([]);
    // The bot left the voice channel (op 4 with channel null) and posted the session's transcript file.
    expect(sim.records.voiceStateRequests.at(-1)).toMatchObject({ guildId: sim.guild.id, channelId: null });
    const txt = sim.records.messages.flatMap((m) => m.files).find((f) => f.name.endsWith('.txt'));
    expect(txt).toBeDefined();
    const fileText = Buffer.from(txt!.data).toString('utf8');
    for (const said of [...ally, ...bobby]) expect(fileText).toContain(said);
  });

  it('with the API down, spools what was being said; a restart posts it', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice, sim.members.bob]);
    await whisper.down();
    const { code, drainMs } = await talkAndTerminate(rig, 900);
    expect(code).toBe(0);
    expect(drainMs).toBeLessThan(DRAIN_BUDGET_MS);
    expect(transcriptLines(sim)).toEqual([]);
    const spooled = readdirSync(join(bot.dataDir, 'spool')).filter((f) => f.endsWith('.wav'));
    expect(spooled.length).toBeGreaterThanOrEqual(2);

    // Same volume, API back: the drainer sends every spooled segment, each line says when it was spoken.
    await whisper.up();
    restarted = new BotProcess({ env: rigEnv(sim, whisper), dataDir: bot.dataDir });
    const lines = await sim.waitFor(
      () => {
        const l = transcriptLines(sim);
        return digitsOf(l, 'Ally').length > 0 && digitsOf(l, 'Bobby Tables').length > 0 ? l : undefined;
      },
      30_000,
      'lines from the spool',
    );
    expect(ALICE.startsWith(digitsOf(lines, 'Ally').join(''))).toBe(true);
    expect(BOB.startsWith(digitsOf(lines, 'Bobby Tables').join(''))).toBe(true);
    expect(lines.every((l) => l.includes('delayed'))).toBe(true);
  });

  it('a second signal exits at once', async () => {
    rig = await startRig({ whisper: { latencyMs: 10_000 } });
    const { sim, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    await sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice }).play(dtmfPcm('12', { leadMs: 60 }));
    // Wait until the upload is in flight (the stand-in holds it 10 s), so the drain would take that long.
    await new Promise((r) => setTimeout(r, 1_200));
    bot.child.kill('SIGTERM');
    await bot.waitForLog((l) => l.msg === 'shutting down', 5_000);
    const sentAt = Date.now();
    const exit = await bot.stop('SIGINT', 5_000);
    expect(exit.code).toBe(1);
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    expect(bot.lines.some((l) => l.msg === 'second signal; exiting now')).toBe(true);
  });
});
