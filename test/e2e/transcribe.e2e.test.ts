import { afterEach, describe, expect, it } from 'vitest';
import { DiscordSimulator } from '../sim/discord/index.js';
import { WhisperStandIn } from '../sim/whisper/WhisperStandIn.js';
import { concatPcm, dtmfPcm, silencePcm } from '../sim/audio/index.js';
import { BotProcess } from '../util/BotProcess.js';

/** Everything one end-to-end run owns, closed after each test. */
interface Rig {
  sim: DiscordSimulator;
  whisper: WhisperStandIn;
  bot: BotProcess;
}

let rig: Rig | undefined;

afterEach(async () => {
  if (!rig) return;
  await rig.bot.dispose();
  await rig.whisper.close();
  await rig.sim.close();
  rig = undefined;
});

async function startRig(simOptions: Parameters<typeof DiscordSimulator.start>[0] = {}): Promise<Rig> {
  const sim = await DiscordSimulator.start(simOptions);
  const whisper = await WhisperStandIn.start({ apiKey: 'sk-test' });
  const bot = new BotProcess({
    env: {
      DISCORD_TOKEN: sim.token,
      DISCORD_API_URL: sim.apiUrl,
      TRANSCRIBE_BASE_URL: whisper.baseUrl,
      TRANSCRIBE_API_KEY: 'sk-test',
      NODE_EXTRA_CA_CERTS: sim.caCertPath,
      SILENCE_GAP_MS: '800',
    },
  });
  rig = { sim, whisper, bot };
  await sim.waitFor(() => sim.records.identifies.length > 0, 20_000, 'bot identify');
  await bot.waitForLog((l) => l.msg === 'gateway ready', 20_000);
  return rig;
}

/** alice and bob enter the voice channel, alice runs /join, the bot connects. */
async function joinWithTwoSpeakers(r: Rig) {
  const { sim } = r;
  sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
  sim.setVoiceState(sim.guild.id, sim.members.bob, sim.guild.voiceChannelId);
  sim.injectInteraction({ userId: sim.members.alice, name: 'join' });
  await sim.waitFor(() => sim.records.voiceReady.length > 0, 20_000, 'bot in voice');
  const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
  const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob });
  return { alice, bob };
}

function transcriptLines(sim: DiscordSimulator): string[] {
  return sim.records.messages
    .filter((m) => m.channelId === sim.guild.textChannelId)
    .flatMap((m) => m.content.split('\n'))
    .filter((line) => line.startsWith('**'));
}

describe.each(['aead_aes256_gcm_rtpsize', 'aead_xchacha20_poly1305_rtpsize'] as const)('bot process end to end (%s)', (mode) => {
  it('attributes two partly overlapping speakers exactly, with real-client packet shapes', async () => {
    const other = mode === 'aead_aes256_gcm_rtpsize' ? 'aead_xchacha20_poly1305_rtpsize' : 'aead_aes256_gcm_rtpsize';
    const r = await startRig({ modes: [mode, other] });
    const { alice, bob } = await joinWithTwoSpeakers(r);
    expect(r.sim.voiceConnection(r.sim.guild.id)?.mode).toBe(mode);
    const callback = await r.sim.waitFor(() => r.sim.records.interactionCallbacks[0], 5_000, '/join answer');
    expect(callback.latencyMs).toBeLessThan(3_000);

    // bob starts ~600 ms into alice's 1.3 s utterance: the two overlap on the wire.
    const alicePlay = alice.play(dtmfPcm('1397', { leadMs: 100 }), { shape: 'mixed', seed: 3 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const bobPlay = bob.play(concatPcm(dtmfPcm('2580#', { leadMs: 100 }), silencePcm(100, 48_000, 2)), { shape: 'mixed', seed: 4 });
    await Promise.all([alicePlay, bobPlay]);

    const lines: string[] = await r.sim.waitFor(
      () => {
        const l = transcriptLines(r.sim);
        return l.some((x) => x.includes('1397')) && l.some((x) => x.includes('2580')) ? l : undefined;
      },
      20_000,
      'both transcripts',
    );
    expect(lines).toContain('**Ally**: 1397');
    // '#' goes out escaped (Discord shows `\#` as a plain '#'): transcripts never format.
    expect(lines).toContain('**Bobby Tables**: 2580\\#');
    // Every message was sent with mentions disabled.
    for (const m of r.sim.records.messages) expect(m.allowedMentions).toEqual({ parse: [] });
  });
});

describe('bot process against strict DAVE', () => {
  it('identifies to voice with max_dave_protocol_version ≥ 1 and is not closed with 4017', async () => {
    const r = await startRig({ strictDave: true });
    await joinWithTwoSpeakers(r);
    const identify = r.sim.records.voiceOps.find((op) => op.op === 0);
    expect(identify).toBeDefined();
    expect(r.sim.voiceConnection(r.sim.guild.id)?.maxDaveVersion).toBeGreaterThanOrEqual(1);
    expect(r.sim.records.voiceCloses.filter((c) => c.code === 4017)).toEqual([]);
  });
});

describe('bot process without configuration', () => {
  it('names every missing variable and exits non-zero', async () => {
    const bot = new BotProcess({ env: {} });
    try {
      const { code } = await bot.exit(20_000);
      const stderr = bot.stderr.join('');
      expect(code).not.toBe(0);
      expect(stderr).toContain('DISCORD_TOKEN is missing');
      expect(stderr).toContain('TRANSCRIBE_API_KEY is missing');
    } finally {
      await bot.dispose();
    }
  });
});
