/**
 * The voice server sends a malformed session description during /join (found in the second adversarial round).
 * @discordjs/voice parses it without checks and threw inside its WebSocket callback, which ended the process. Now the
 * message is dropped and counted, the process stays up and /join still gets an answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { botErrors, botMetrics, metric, sleep } from './audioSupport.js';
import { answerOf, startRig, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('voice server faults during /join', () => {
  it.each([
    ['an invalid session description (d: null)', null],
    ['a secret_key that is not a byte array (-1)', { mode: 'aead_aes256_gcm_rtpsize', secret_key: -1, dave_protocol_version: 0 }],
  ] as const)('%s does not take the process down; /join is answered', async (_name, payload) => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    let sabotage = true;
    sim.on('voiceOp', (record) => {
      // Sent before the simulator's own op 4 for this SELECT_PROTOCOL.
      if (sabotage && record.op === 1 && record.guildId) {
        sabotage = false;
        void sim.sendVoiceOp(record.guildId, 4, payload);
      }
    });
    const { id, token } = sim.injectInteraction({ userId: sim.members.alice, name: 'join' });
    await sim.waitFor(() => answerOf(sim, id, token), 40_000, '/join answer').catch(() => undefined);
    await sleep(1_000);
    expect(bot.child.exitCode).toBeNull();
    expect(botErrors(bot).filter((e) => /uncaught|unhandled/i.test(e))).toEqual([]);
    expect(answerOf(sim, id, token)).toBeDefined();
    expect(metric(await botMetrics(bot), 'voice_messages_rejected_total')).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
