import { setTimeout as sleep } from 'node:timers/promises';
import type { DiscordSimulator } from '../test/sim/discord/index.js';
import { Prng } from '../test/sim/discord/prng.js';
import { converse, sayOne, UtteranceTexts, type BenchChannel, type Utterance } from './lib/Conversation.js';
import type { ScenarioContext, ScenarioDefinition } from './lib/runScenario.js';

/** Adds `n` named members to a guild, puts them in its voice channel and returns the channel to join. */
function speakersIn(sim: DiscordSimulator, guild: { id: string; textChannelId: string; voiceChannelId: string }, n: number, prefix: string): BenchChannel {
  const speakers = Array.from({ length: n }, (_, i) => {
    const name = `${prefix}${i + 1}`;
    const userId = sim.addMember(guild.id, { username: name.toLowerCase().replace(/\s+/g, ''), nick: name });
    sim.setVoiceState(guild.id, userId, guild.voiceChannelId);
    return { userId, name };
  });
  return { guildId: guild.id, textChannelId: guild.textChannelId, voiceChannelId: guild.voiceChannelId, speakers };
}

/** Seconds of the sampler clock, for marking phases. */
const at = (ctx: ScenarioContext): number => ctx.sampler.now();

/** Talking for `durationMs`; the steady window is the second half of the talk. */
async function talk(ctx: ScenarioContext, durationMs: number, seed: number, during?: (startedAt: number) => Promise<void>): Promise<{ said: Utterance[]; from: number; to: number }> {
  const from = at(ctx);
  const talking = converse(ctx.sim, ctx.channels, { durationMs, pauseMs: [1_200, 4_000], digits: [8, 14], seed });
  const ticker = setInterval(() => ctx.status(`talking, ${((durationMs / 1000) - (at(ctx) - from)).toFixed(0)}s left`), 1_000);
  try {
    await during?.(from);
    const said = await talking;
    return { said, from, to: at(ctx) };
  } finally {
    clearInterval(ticker);
  }
}

export const idle1000Guilds: ScenarioDefinition = {
  name: 'idle-1000-guilds',
  description: '1,000 GUILD_CREATEs (50 channels, 30 roles, 20 emojis, 3 voice states, 250 members each, ~28 KB); no voice session; RSS after settling.',
  simOptions: () => ({ bulkGuilds: 1000 }),
  setup: () => [],
  async run(ctx) {
    const settleS = ctx.quick ? 8 : 60;
    const start = at(ctx);
    // Wait until every GUILD_CREATE went out, then let the heap settle.
    const guildCreates = (): number => ctx.sim.records.dispatches.filter((d) => d.t === 'GUILD_CREATE').length;
    while (guildCreates() < 1001 && !ctx.botGone() && at(ctx) - start < 60) await sleep(250);
    const loaded = at(ctx);
    while (at(ctx) - loaded < settleS && !ctx.botGone()) {
      ctx.status(`settling, ${(settleS - (at(ctx) - loaded)).toFixed(0)}s left`);
      await sleep(500);
    }
    const end = at(ctx);
    return { said: [], steadyFrom: end - Math.min(20, settleS / 2), steadyTo: end, warmupSeconds: loaded + settleS / 3, cpuFrom: start };
  },
  drainMs: () => 0,
};

export const speakers10: ScenarioDefinition = {
  name: 'speakers-10',
  description: 'One voice channel, 10 speakers talking in overlapping turns (8–14 DTMF digits ≈ 2.6–4.5 s each, 1.2–4 s pauses (longer than the 800 ms silence gap both bots run with in the benchmark (SILENCE_GAP_MS=800; the default is 1000), so turns of one speaker stay apart)) for 2 minutes.',
  simOptions: () => ({}),
  setup: (sim) => [speakersIn(sim, sim.guild, 10, 'Speaker ')],
  async run(ctx) {
    const t = await talk(ctx, ctx.quick ? 16_000 : 120_000, 10);
    return { said: t.said, steadyFrom: (t.from + t.to) / 2, steadyTo: t.to, warmupSeconds: t.from + (t.to - t.from) / 3, cpuFrom: t.from };
  },
  drainMs: (quick) => (quick ? 15_000 : 30_000),
};

export const guilds5x5: ScenarioDefinition = {
  name: 'guilds-5x5',
  description: '5 guilds, a voice session in each, 5 speakers per channel talking in overlapping turns for 2 minutes.',
  simOptions: () => ({ extraGuilds: 4 }),
  setup: (sim) => [sim.guild, ...sim.extraGuilds].map((g, i) => speakersIn(sim, g, 5, `G${i + 1} Speaker `)),
  async run(ctx) {
    const t = await talk(ctx, ctx.quick ? 20_000 : 120_000, 55);
    return { said: t.said, steadyFrom: (t.from + t.to) / 2, steadyTo: t.to, warmupSeconds: t.from + (t.to - t.from) / 3, cpuFrom: t.from };
  },
  drainMs: (quick) => (quick ? 20_000 : 30_000),
};

export const outage: ScenarioDefinition = {
  name: 'outage',
  description: '4 speakers; the transcription server refuses connections for 60 s (quick: 12 s) mid-talk, then returns: segments spool to disk and drain; none may be lost.',
  simOptions: () => ({}),
  setup: (sim) => [speakersIn(sim, sim.guild, 4, 'Speaker ')],
  async run(ctx) {
    const downAfterMs = ctx.quick ? 4_000 : 10_000;
    const downForMs = ctx.quick ? 12_000 : 60_000;
    const t = await talk(ctx, downAfterMs + downForMs + (ctx.quick ? 5_000 : 20_000), 4, async () => {
      await sleep(downAfterMs);
      await ctx.whisper.down();
      ctx.status('transcription server DOWN');
      await sleep(downForMs);
      await ctx.whisper.up();
    });
    return { said: t.said, steadyFrom: (t.from + t.to) / 2, steadyTo: t.to, warmupSeconds: t.from + (t.to - t.from) / 3, cpuFrom: t.from };
  },
  drainMs: (quick) => (quick ? 30_000 : 120_000),
};

export const soak: ScenarioDefinition = {
  name: 'soak',
  description: 'One voice session, 3 speakers taking turns: one utterance every 30 s for 30 minutes; slope of RSS after a 5-minute warm-up.',
  simOptions: () => ({}),
  setup: (sim) => [speakersIn(sim, sim.guild, 3, 'Speaker ')],
  async run(ctx) {
    const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
    const texts = new UtteranceTexts(new Prng(30));
    const said: Utterance[] = [];
    const from = at(ctx);
    for (let turn = 0; at(ctx) - from < minutes * 60 && !ctx.botGone(); turn++) {
      const next = from + turn * 30;
      while (at(ctx) < next) await sleep(200);
      said.push(await sayOne(ctx.sim, ctx.channels[0]!, texts, turn, 12));
      ctx.status(`turn ${turn + 1}, ${(minutes - (at(ctx) - from) / 60).toFixed(1)} min left`);
    }
    const to = at(ctx);
    return { said, steadyFrom: from + 300, steadyTo: to, warmupSeconds: from + 300, cpuFrom: from };
  },
  drainMs: () => 30_000,
};

/** All scenarios, in run order. */
export const SCENARIOS: readonly ScenarioDefinition[] = [idle1000Guilds, speakers10, guilds5x5, outage, soak];
