/**
 * A speaker who leaves the session's channel is dropped (their segment sealed first, their receive stream and sink
 * freed), so per-speaker state follows who is in the channel, not who ever spoke. Runs the real VoiceSession on the
 * unmodified @discordjs libraries against the loopback Discord simulator, in-process; the sink is a recording fake.
 */
import tls from 'node:tls';
import { Client, GatewayDispatchEvents, GatewayIntentBits } from '@discordjs/core';
import { REST } from '@discordjs/rest';
import { getVoiceConnection } from '@discordjs/voice';
import { WebSocketManager, type SessionInfo } from '@discordjs/ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VoiceAdapterRegistry } from '../../src/gateway/VoiceAdapterRegistry.js';
import type { RtpPosition, SpeakerAudioSink } from '../../src/voice/SpeakerAudioSink.js';
import { VoiceSession, type VoiceSessionTarget } from '../../src/voice/VoiceSession.js';
import { systemClock } from '../../src/util/Clock.js';
import { createLogger } from '../../src/util/logger.js';
import { Metrics } from '../../src/util/Metrics.js';
import { DiscordSimulator } from '../sim/discord/index.js';
import { toneBurst } from '../sim/audio/signals.js';

/** Records what the session does to one speaker's sink, in order. */
class RecordingSink implements SpeakerAudioSink {
  readonly events: string[] = [];
  packets = 0;
  constructor(readonly userId: string) {}
  onPacket(_opus: Buffer, _rtp: RtpPosition | null): void {
    this.packets++;
  }
  onLostPacket(): void {}
  checkIdle(): void {}
  flush(): void {
    this.events.push(`flush after ${this.packets} packets`);
  }
  close(): void {
    this.events.push('close');
  }
}

interface Bot {
  readonly gateway: WebSocketManager;
  readonly client: Client;
  readonly adapters: VoiceAdapterRegistry;
}

function createBot(sim: DiscordSimulator): Bot {
  const rest = new REST({ api: sim.apiUrl, version: '10' }).setToken(sim.token);
  const sessions = new Map<number, SessionInfo>();
  const gateway = new WebSocketManager({
    token: sim.token,
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates,
    rest,
    retrieveSessionInfo: (shardId) => sessions.get(shardId) ?? null,
    updateSessionInfo: (shardId, info) => void (info ? sessions.set(shardId, info) : sessions.delete(shardId)),
  });
  const client = new Client({ rest, gateway });
  const adapters = new VoiceAdapterRegistry((_guildId, payload) => (void gateway.send(0, payload as never), true));
  client.on(GatewayDispatchEvents.Ready, ({ data }) => adapters.setBotUserId(data.user.id));
  client.on(GatewayDispatchEvents.VoiceServerUpdate, ({ data }) => adapters.onVoiceServerUpdate(data));
  return { gateway, client, adapters };
}

describe('VoiceSession drops speakers who leave', () => {
  let sim: DiscordSimulator;
  let bot: Bot;
  let session: VoiceSession | undefined;
  let sinks: RecordingSink[];
  let metrics: Metrics;
  const pcm = toneBurst([440], 200, { sampleRate: 48_000, channels: 2, amplitude: 0.3 });

  beforeAll(async () => {
    sim = await DiscordSimulator.start();
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.caCert]);
    bot = createBot(sim);
    // Like main.ts: the adapter sees the bot's state, the session every member's.
    bot.client.on(GatewayDispatchEvents.VoiceStateUpdate, ({ data }) => {
      bot.adapters.onVoiceStateUpdate(data);
      session?.onMemberVoiceState(data.user_id, data.channel_id);
    });
    await bot.gateway.connect();
    await sim.waitFor(() => sim.records.identifies.length > 0, 5_000, 'identify');
  });

  afterAll(async () => {
    await bot?.gateway.destroy();
    await sim?.close();
  });

  afterEach(async () => {
    session?.close();
    session = undefined;
    await sim.waitFor(() => sim.records.voiceStateRequests.at(-1)?.channelId === null, 3_000, 'op 4 leave');
    for (const id of [sim.members.alice, sim.members.bob]) sim.setVoiceState(sim.guild.id, id, null);
  });

  async function startSession(): Promise<VoiceSession> {
    sinks = [];
    metrics = new Metrics();
    const target: VoiceSessionTarget = {
      sessionId: 's1',
      guildId: sim.guild.id,
      voiceChannelId: sim.guild.voiceChannelId,
      textChannelId: sim.guild.textChannelId,
      startedBy: sim.members.alice,
      language: undefined,
      prompt: undefined,
    };
    session = new VoiceSession(target, {
      adapterCreator: bot.adapters.creatorFor(sim.guild.id),
      createSink: (userId) => {
        const sink = new RecordingSink(userId);
        sinks.push(sink);
        return sink;
      },
      shouldReceive: () => true,
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
      metrics,
    });
    await session.start();
    for (const id of [sim.members.alice, sim.members.bob]) sim.setVoiceState(sim.guild.id, id, sim.guild.voiceChannelId);
    return session;
  }

  const subscriptions = (): number => getVoiceConnection(sim.guild.id)!.receiver.subscriptions.size;

  async function speak(userId: string): Promise<void> {
    const before = sinks.filter((s) => s.userId === userId).reduce((n, s) => n + s.packets, 0);
    const result = await sim.speaker({ guildId: sim.guild.id, userId }).play(pcm, { keepPackets: false });
    await sim.waitFor(
      () => sinks.filter((s) => s.userId === userId).reduce((n, s) => n + s.packets, 0) - before >= result.counts.sent,
      3_000,
      'packets at the sink',
    );
  }

  it('a member who leaves voice: segment sealed, then sink closed, stream unsubscribed; others stay; a return gets a new speaker', async () => {
    const s = await startSession();
    await speak(sim.members.alice);
    await speak(sim.members.bob);
    expect({ speakers: s.speakerCount, active: metrics.get('speakers_active'), subscriptions: subscriptions() }).toEqual({ speakers: 2, active: 2, subscriptions: 2 });

    sim.setVoiceState(sim.guild.id, sim.members.alice, null);
    await sim.waitFor(() => s.speakerCount === 1, 3_000, 'alice dropped');
    const alice = sinks.find((k) => k.userId === sim.members.alice)!;
    expect(alice.events).toEqual([`flush after ${alice.packets} packets`, 'close']);
    expect({ active: metrics.get('speakers_active'), subscriptions: subscriptions() }).toEqual({ active: 1, subscriptions: 1 });
    expect(sinks.find((k) => k.userId === sim.members.bob)!.events).toEqual([]);

    // A voice state change inside the channel (mute) is not a departure.
    sim.setVoiceState(sim.guild.id, sim.members.bob, sim.guild.voiceChannelId, { selfMute: true });
    await speak(sim.members.bob);
    expect(s.speakerCount).toBe(1);

    // Back in the channel: a fresh speaker on the next speaking start.
    sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId);
    await speak(sim.members.alice);
    expect(sinks.filter((k) => k.userId === sim.members.alice)).toHaveLength(2);
    expect({ speakers: s.speakerCount, subscriptions: subscriptions() }).toEqual({ speakers: 2, subscriptions: 2 });
  }, 20_000);

  it('a member moved to another channel is dropped; voice op 13 alone (no gateway update) drops too', async () => {
    const s = await startSession();
    await speak(sim.members.alice);
    await speak(sim.members.bob);
    // What main.ts forwards for a VOICE_STATE_UPDATE naming another channel of the guild.
    s.onMemberVoiceState(sim.members.alice, '100000000000000999');
    expect(s.speakerCount).toBe(1);
    expect(sinks.find((k) => k.userId === sim.members.alice)!.events.at(-1)).toBe('close');

    await sim.sendVoiceOp(sim.guild.id, 13, { user_id: sim.members.bob });
    await sim.waitFor(() => s.speakerCount === 0, 3_000, 'bob dropped on op 13');
    expect(sinks.find((k) => k.userId === sim.members.bob)!.events).toEqual([`flush after ${sinks.find((k) => k.userId === sim.members.bob)!.packets} packets`, 'close']);
    expect({ active: metrics.get('speakers_active'), subscriptions: subscriptions() }).toEqual({ active: 0, subscriptions: 0 });
  }, 20_000);
});
