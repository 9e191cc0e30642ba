/**
 * A spool entry is deleted only once Discord has accepted its transcript line (at-least-once delivery of spooled
 * speech). Regression: the drainer used to delete the file as soon as the line was handed to the batched poster
 * (after a REST member lookup), so a SIGKILL while Discord answered message posts with 429 lost every spooled
 * transcript for good. Here no post can succeed while the bot is killed, so nothing may be posted twice either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import { BotProcess } from '../util/BotProcess.js';
import { padToMs, parseLine, sleep, spoolFiles, waitForSpooled } from './audioSupport.js';
import { joinVoice, rigEnv, startRig, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;
const extra: BotProcess[] = [];
afterEach(async () => {
  for (const b of extra.splice(0)) await b.dispose();
  await rig?.close();
  rig = undefined;
});

describe('spool delivery across kill -9', () => {
  it('three spooled segments, the bot SIGKILLed five times a second apart while Discord is slow to take messages: each is posted exactly once', async () => {
    rig = await startRig();
    const { sim, whisper, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
    await whisper.down();
    const says = ['123', '456', '789'];
    for (const digits of says) {
      await alice.play(padToMs(dtmfPcm(digits, { leadMs: 40 }), 600));
      await sleep(1_100);
    }
    await waitForSpooled(bot, 3, 20_000);
    bot.child.kill('SIGKILL');
    await bot.exit();
    await whisper.up();

    // Discord rate-limits the channel: message posts get 429 with Retry-After 2 s while `limiting` holds.
    let limiting = true;
    const channelPosts = { test: (s: string) => limiting && /^POST \/channels\/\d+\/messages$/.test(s) } as unknown as RegExp;
    sim.rateLimitNext(channelPosts, 2, 1_000_000);
    let current: BotProcess = bot;
    for (let i = 0; i < 5; i++) {
      current = new BotProcess({ env: rigEnv(sim, whisper), dataDir: bot.dataDir });
      extra.push(current);
      await current.waitForLog((l) => l.msg === 'tinyscribe started', 20_000);
      await sleep(1_000);
      current.child.kill('SIGKILL');
      await current.exit();
    }
    limiting = false;
    const last = new BotProcess({ env: rigEnv(sim, whisper), dataDir: bot.dataDir });
    extra.push(last);
    await last.waitForLog((l) => l.msg === 'tinyscribe started', 20_000);
    await sleep(8_000);

    const texts = transcriptLines(sim).map(parseLine).map((l) => l.text);
    expect({ texts: [...texts].sort(), spoolLeft: spoolFiles(bot.dataDir).length }).toEqual({ texts: says, spoolLeft: 0 });
  }, 120_000);
});
