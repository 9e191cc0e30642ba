import { afterEach, describe, expect, it } from 'vitest';
import { concatPcm, dtmfPcm, silencePcm } from '../sim/audio/index.js';
import { BotProcess } from '../util/BotProcess.js';
import { DiscordSimulator } from '../sim/discord/index.js';
import { WhisperStandIn } from '../sim/whisper/WhisperStandIn.js';
import { joinVoice, rigEnv, startRig, STANDIN_API_KEY, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe.each(['aead_aes256_gcm_rtpsize', 'aead_xchacha20_poly1305_rtpsize'] as const)('bot process end to end (%s)', (mode) => {
  it('attributes two partly overlapping speakers exactly, with real-client packet shapes', async () => {
    const other = mode === 'aead_aes256_gcm_rtpsize' ? 'aead_xchacha20_poly1305_rtpsize' : 'aead_aes256_gcm_rtpsize';
    rig = await startRig({ sim: { modes: [mode, other] } });
    const { sim } = rig;
    await joinVoice(rig, [sim.members.alice, sim.members.bob]);
    expect(sim.voiceConnection(sim.guild.id)?.mode).toBe(mode);
    const callback = await sim.waitFor(() => sim.records.interactionCallbacks[0], 5_000, '/join answer');
    expect(callback.latencyMs).toBeLessThan(3_000);

    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
    const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob });
    // bob starts ~600 ms into alice's 1.3 s utterance: the two overlap on the wire. 'mixed' sends the
    // extension, plain and padded shapes real clients send, and play() ends with 5 silence frames.
    const alicePlay = alice.play(dtmfPcm('1397', { leadMs: 100 }), { shape: 'mixed', seed: 3 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const bobPlay = bob.play(concatPcm(dtmfPcm('2580#', { leadMs: 100 }), silencePcm(100, 48_000, 2)), { shape: 'mixed', seed: 4 });
    const [a, b] = await Promise.all([alicePlay, bobPlay]);
    expect(a.maxLatenessMs).toBeLessThan(200);
    expect(b.counts.sent).toBeGreaterThan(50);

    const lines: string[] = await sim.waitFor(
      () => {
        const l = transcriptLines(sim);
        return l.some((x) => x.includes('1397')) && l.some((x) => x.includes('2580')) ? l : undefined;
      },
      20_000,
      'both transcripts',
    );
    expect(lines).toContain('**Ally**: 1397');
    // '#' goes out escaped (Discord shows `\#` as a plain '#'): transcripts never format.
    expect(lines).toContain('**Bobby Tables**: 2580\\#');
    expect(lines).toHaveLength(2);
    // Every message was sent with mentions disabled.
    for (const m of sim.records.messages) expect(m.allowedMentions).toEqual({ parse: [] });
  });
});

describe('bot process against strict DAVE', () => {
  it('identifies to voice with max_dave_protocol_version ≥ 1 and is not closed with 4017', async () => {
    rig = await startRig({ sim: { strictDave: true } });
    const { sim } = rig;
    await joinVoice(rig, [sim.members.alice]);
    expect(sim.records.voiceOps.some((op) => op.op === 0)).toBe(true);
    expect(sim.voiceConnection(sim.guild.id)?.maxDaveVersion).toBeGreaterThanOrEqual(1);
    expect(sim.records.voiceCloses.filter((c) => c.code === 4017)).toEqual([]);
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

describe('bot process that cannot reach Discord', () => {
  it('says the token was rejected, without a stack, and exits non-zero', async () => {
    const sim = await DiscordSimulator.start();
    const whisper = await WhisperStandIn.start({ apiKey: STANDIN_API_KEY });
    const bot = new BotProcess({ env: { ...rigEnv(sim, whisper), DISCORD_TOKEN: 'not-the-token' } });
    try {
      const { code } = await bot.exit(20_000);
      const stderr = bot.stderr.join('');
      expect(code).toBe(1);
      expect(stderr).toContain('Discord rejected DISCORD_TOKEN (401 Unauthorized)');
      expect(stderr).not.toContain('    at ');
      expect(stderr).not.toContain('not-the-token');
    } finally {
      await bot.dispose();
      await whisper.close();
      await sim.close();
    }
  });

  it('names the API URL when nothing answers there', async () => {
    const sim = await DiscordSimulator.start();
    const whisper = await WhisperStandIn.start({ apiKey: STANDIN_API_KEY });
    const apiUrl = sim.apiUrl;
    await sim.close();
    const bot = new BotProcess({ env: rigEnv(sim, whisper) });
    try {
      const { code } = await bot.exit(20_000);
      expect(code).toBe(1);
      expect(bot.stderr.join('')).toContain(`Could not reach Discord at ${apiUrl} (ECONNREFUSED)`);
    } finally {
      await bot.dispose();
      await whisper.close();
    }
  });
});
