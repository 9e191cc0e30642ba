/**
 * The voice server misbehaves during /join (found in the second adversarial round). Whatever it does, /join must get
 * a clear answer within Discord's window (deferred in 3 s, the edit before the 15-minute token expiry; we ask for ~30 s),
 * the process must stay up, it must not hammer the main gateway with op 4 (Discord allows 120 gateway sends a
 * minute and closes the shard with 4008 beyond that: every guild would go dark), and a later /join must work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSimulator } from '../sim/discord/index.js';
import { botErrors, botMetrics, metric, sleep } from './audioSupport.js';
import { startRig, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** The final text of the interaction's answer (a direct reply, or the edit of a deferred one). */
function answerOf(sim: DiscordSimulator, interactionId: string, token: string): string | undefined {
  const direct = sim.records.interactionCallbacks.find((c) => c.interactionId === interactionId && c.type === 4);
  if (direct) return String(direct.data?.['content'] ?? '');
  const edit = sim.records.webhookMessages.find((w) => w.token === token && w.kind === 'editOriginal');
  return edit?.content;
}

describe('voice server faults during /join', () => {
  it('an invalid session description (d: null) does not take the process down; /join is answered', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    let sabotage = true;
    sim.on('voiceOp', (record) => {
      // Sent before the simulator's own op 4 for this SELECT_PROTOCOL.
      if (sabotage && record.op === 1 && record.guildId) {
        sabotage = false;
        void sim.sendVoiceOp(record.guildId, 4, null);
      }
    });
    const { id, token } = sim.injectInteraction({ userId: sim.members.alice, name: 'join' });
    await sim.waitFor(() => answerOf(sim, id, token), 40_000, '/join answer').catch(() => undefined);
    await sleep(1_000);
    expect({ exitCode: bot.child.exitCode, errors: botErrors(bot).filter((e) => /uncaught|unhandled/i.test(e)).length }).toEqual({
      exitCode: null,
      errors: 0,
    });
    expect(answerOf(sim, id, token)).toBeDefined();
    expect(metric(await botMetrics(bot), 'voice_messages_rejected_total')).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('a secret_key that is not a byte array (-1) does not take the process down', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    let sabotage = true;
    sim.on('voiceOp', (record) => {
      if (sabotage && record.op === 1 && record.guildId) {
        sabotage = false;
        void sim.sendVoiceOp(record.guildId, 4, { mode: 'aead_aes256_gcm_rtpsize', secret_key: -1, dave_protocol_version: 0 });
      }
    });
    const { id, token } = sim.injectInteraction({ userId: sim.members.alice, name: 'join' });
    await sim.waitFor(() => answerOf(sim, id, token), 40_000, '/join answer').catch(() => undefined);
    await sleep(1_000);
    expect(bot.child.exitCode).toBeNull();
    expect(botErrors(bot).filter((e) => /uncaught|unhandled/i.test(e))).toEqual([]);
  }, 90_000);
});
