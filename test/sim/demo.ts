/**
 * `npm run demo`: the whole pipeline on this machine, no Discord account needed. A loopback Discord
 * (gateway, REST, voice over TLS, encrypted RTP over UDP), a Whisper-compatible stand-in that
 * "transcribes" DTMF digits honestly, and the real bot as its own process, started as production starts it.
 * Three simulated members speak digit strings, partly at the same time; the transcripts print as the
 * bot posts them. Exit code 0 only if every utterance came back exactly, attributed to its speaker.
 */
import { performance } from 'node:perf_hooks';
import { concatPcm, dtmfPcm, silencePcm } from './audio/index.js';
import type { ChannelMessageRecord, InteractionCallbackRecord, WebhookMessageRecord } from './discord/index.js';
import { joinVoice, startRig, transcriptLines } from '../e2e/rig.js';

/** Who says what, when (ms after the bot is in voice). Digits are what the stand-in can hear. */
const SCRIPT = [
  { who: 'alice', name: 'Ally', digits: '2468', atMs: 0 },
  { who: 'bob', name: 'Bobby Tables', digits: '13579', atMs: 700 },
  { who: 'carol', name: 'carol', digits: '0#0*', atMs: 3_000 },
  { who: 'alice', name: 'Ally', digits: '911', atMs: 5_000 },
] as const;

const t0 = performance.now();
const say = (line: string) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const unescape = (text: string) => text.replace(/\\(.)/g, '$1');

async function demo(): Promise<number> {
  say('starting a loopback Discord, a Whisper stand-in and the bot (node dist/src/main.js) …');
  const rig = await startRig({ env: { LOG_LEVEL: 'info' } });
  const { sim } = rig;
  try {
    say(`bot is online in "${sim.guild.name}" (gateway, intents GUILDS | GUILD_VOICE_STATES)`);
    sim.on('message', (m: ChannelMessageRecord) => {
      for (const line of m.content.split('\n')) say(`#text  ${unescape(line)}`);
    });
    sim.on('interactionResponse', (r: InteractionCallbackRecord | WebhookMessageRecord) => {
      const content = r.kind === 'callback' ? r.data?.['content'] : r.content;
      if (typeof content !== 'string') return;
      const named = content.replaceAll(`<#${sim.guild.voiceChannelId}>`, '🔊voice').replaceAll(`<#${sim.guild.textChannelId}>`, '#text');
      say(`bot replies: ${unescape(named)}`);
    });

    say('Ally, Bobby Tables and carol join the voice channel; Ally runs /join');
    await joinVoice(rig, [sim.members.alice, sim.members.bob, sim.members.carol]);
    const mode = sim.voiceConnection(sim.guild.id)?.mode ?? '?';
    say(`bot joined voice (encryption ${mode}, DAVE offered: max version ${sim.voiceConnection(sim.guild.id)?.maxDaveVersion ?? '?'})`);

    const speakers = {
      alice: sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice }),
      bob: sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob }),
      carol: sim.speaker({ guildId: sim.guild.id, userId: sim.members.carol }),
    };
    const start = performance.now();
    await Promise.all(
      SCRIPT.map(async (turn) => {
        await new Promise((r) => setTimeout(r, Math.max(0, turn.atMs - (performance.now() - start))));
        say(`${turn.name} speaks the tones "${turn.digits}"`);
        await speakers[turn.who].play(concatPcm(dtmfPcm(turn.digits, { leadMs: 80 }), silencePcm(100, 48_000, 2)), { shape: 'mixed' });
      }),
    );

    const expected = SCRIPT.map((t) => `**${t.name}**: ${t.digits}`);
    const heard = () => transcriptLines(sim).map(unescape);
    await sim.waitFor(() => expected.every((e) => heard().includes(e)), 20_000, 'every transcript').catch(() => undefined);
    const missing = expected.filter((e) => !heard().includes(e));

    say('Ally runs /leave');
    sim.injectInteraction({ userId: sim.members.alice, name: 'leave' });
    await sim.waitFor(() => sim.records.voiceStateRequests.some((r) => r.channelId === null), 10_000, 'bot leaves voice').catch(() => undefined);
    const { code } = await rig.bot.stop('SIGTERM');
    say(`bot stopped on SIGTERM with exit code ${code}`);

    if (missing.length === 0) {
      say(`all ${expected.length} utterances were transcribed exactly and attributed to the right speaker.`);
      return 0;
    }
    say(`MISSING: ${missing.join(' | ')}`);
    return 1;
  } finally {
    await rig.close();
  }
}

demo().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
