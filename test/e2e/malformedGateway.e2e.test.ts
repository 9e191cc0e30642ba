/**
 * Gateway payloads that are valid JSON but not the shape the types promise (found by an adversarial test run):
 * they once killed the bot process (a TypeError in parseInteraction / VoiceOccupancy, thrown from a gateway
 * listener with no handler). Each must now cost a log line and a count, never the process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './rig.js';
import { sleep } from './audioSupport.js';
import { runCommand } from './sessionsHelpers.js';
import { healthPort, sample, scrape } from '../health/botHealth.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Fails with the bot's stderr if the process is gone after a moment. */
async function stillAlive(rig: Rig): Promise<void> {
  await sleep(1_000);
  if (rig.bot.child.exitCode !== null || rig.bot.child.signalCode !== null) {
    throw new Error(`bot died (code ${rig.bot.child.exitCode}):\n${rig.bot.stderr.join('').slice(0, 1500)}`);
  }
}

describe('malformed gateway payloads', () => {
  it('a command whose options array holds null gets an ephemeral error, and the bot goes on answering', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    const port = await healthPort(bot);
    const answer = await runCommand(sim, sim.members.alice, 'join', { options: [null as never] });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/could not read this command \(malformed options\)/);
    await stillAlive(rig);
    // Still serving commands afterwards.
    expect((await runCommand(sim, sim.members.alice, 'leave')).content).not.toBe('');
    const metrics = await scrape(port);
    expect(sample(metrics, 'interactions_malformed_total')).toBe(1);
    expect(sample(metrics, 'gateway_dispatch_errors_total')).toBe(0);
    expect(bot.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('GUILD_CREATE with null members and voice states skips and counts those entries', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    const port = await healthPort(bot);
    sim.dispatch('GUILD_CREATE', { id: '123456789012345678', name: 'x', channels: [], members: [null], voice_states: [null, { channel_id: '1' }] });
    await stillAlive(rig);
    const metrics = await scrape(port);
    expect(sample(metrics, 'gateway_entries_skipped_total')).toBe(3);
    expect(sample(metrics, 'gateway_dispatch_errors_total')).toBe(0);
    expect(bot.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a listener that still throws on an odd payload is logged with the event name and counted, not fatal', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    const port = await healthPort(bot);
    // No object at all where the voice-server routing expects one.
    sim.dispatch('VOICE_SERVER_UPDATE', null);
    await stillAlive(rig);
    const failure = await bot.waitForLog((l) => l.msg === 'gateway event handler failed', 5_000);
    expect(failure.event).toBe('VOICE_SERVER_UPDATE');
    expect(String(failure.stack)).toMatch(/TypeError/);
    expect(sample(await scrape(port), 'gateway_dispatch_errors_total')).toBe(1);
    expect((await runCommand(sim, sim.members.alice, 'leave')).content).not.toBe('');
  });

  it('VOICE_STATE_UPDATE for an unknown guild / null channel / no member and repeated /leave are harmless', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    sim.dispatch('VOICE_STATE_UPDATE', { guild_id: '999999999999999999', user_id: sim.members.alice, channel_id: null, session_id: 'x' });
    sim.dispatch('VOICE_STATE_UPDATE', { guild_id: sim.guild.id, user_id: sim.botUserId, channel_id: null, session_id: 'x' });
    sim.dispatch('VOICE_SERVER_UPDATE', { guild_id: sim.guild.id, token: 't', endpoint: null });
    sim.injectInteraction({ userId: sim.members.alice, name: 'leave' });
    sim.injectInteraction({ userId: sim.members.alice, name: 'leave' });
    await stillAlive(rig);
    expect(bot.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
