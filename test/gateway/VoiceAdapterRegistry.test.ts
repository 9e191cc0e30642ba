import type { GatewayVoiceServerUpdateDispatchData, GatewayVoiceStateUpdateDispatchData } from '@discordjs/core';
import { joinVoiceChannel, VoiceConnectionStatus, type DiscordGatewayAdapterLibraryMethods } from '@discordjs/voice';
import { describe, expect, it } from 'vitest';
import { VoiceAdapterRegistry } from '../../src/gateway/VoiceAdapterRegistry.js';

const BOT_ID = '1180000000000000010';
const OTHER_USER_ID = '1180000000000000011';
const GUILD_A = '1180000000000000020';
const GUILD_B = '1180000000000000021';
const VOICE_A = '1180000000000000030';
const VOICE_B = '1180000000000000031';

/** What the voice library hands an adapter creator; records every call so routing can be checked. */
class RecordingLibraryMethods implements DiscordGatewayAdapterLibraryMethods {
  readonly states: GatewayVoiceStateUpdateDispatchData[] = [];
  readonly servers: GatewayVoiceServerUpdateDispatchData[] = [];
  destroyed = 0;

  onVoiceStateUpdate(data: GatewayVoiceStateUpdateDispatchData): void {
    this.states.push(data);
  }

  onVoiceServerUpdate(data: GatewayVoiceServerUpdateDispatchData): void {
    this.servers.push(data);
  }

  destroy(): void {
    this.destroyed++;
  }
}

/** A VOICE_STATE_UPDATE dispatch body as Discord sends it (discord-protocol.md §2.2). */
function voiceState(guildId: string | undefined, userId: string, channelId: string | null): GatewayVoiceStateUpdateDispatchData {
  return {
    ...(guildId !== undefined ? { guild_id: guildId } : {}),
    channel_id: channelId,
    user_id: userId,
    session_id: `session-${userId}`,
    deaf: false,
    mute: false,
    self_deaf: false,
    self_mute: false,
    self_video: false,
    suppress: false,
    request_to_speak_timestamp: null,
  };
}

function voiceServer(guildId: string): GatewayVoiceServerUpdateDispatchData {
  return { token: `voice-token-${guildId}`, guild_id: guildId, endpoint: '127.0.0.1:1' };
}

function setup() {
  const sent: { guildId: string; payload: unknown }[] = [];
  let accept = true;
  const registry = new VoiceAdapterRegistry((guildId, payload) => {
    sent.push({ guildId, payload });
    return accept;
  });
  registry.setBotUserId(BOT_ID);
  return {
    registry,
    sent,
    refuse: () => {
      accept = false;
    },
  };
}

describe('VoiceAdapterRegistry', () => {
  it("passes only the bot's own voice state to the adapter of that guild", () => {
    const { registry } = setup();
    const a = new RecordingLibraryMethods();
    const b = new RecordingLibraryMethods();
    registry.creatorFor(GUILD_A)(a);
    registry.creatorFor(GUILD_B)(b);

    registry.onVoiceStateUpdate(voiceState(GUILD_A, OTHER_USER_ID, VOICE_A));
    registry.onVoiceStateUpdate(voiceState(GUILD_A, BOT_ID, VOICE_A));
    registry.onVoiceStateUpdate(voiceState(undefined, BOT_ID, VOICE_A));
    registry.onVoiceStateUpdate(voiceState(GUILD_B, OTHER_USER_ID, VOICE_B));

    expect(a.states).toEqual([voiceState(GUILD_A, BOT_ID, VOICE_A)]);
    expect(b.states).toEqual([]);
  });

  it('ignores every voice state until it knows who the bot is', () => {
    const registry = new VoiceAdapterRegistry(() => true);
    const a = new RecordingLibraryMethods();
    registry.creatorFor(GUILD_A)(a);
    registry.onVoiceStateUpdate(voiceState(GUILD_A, BOT_ID, VOICE_A));
    expect(a.states).toEqual([]);
    registry.setBotUserId(BOT_ID);
    registry.onVoiceStateUpdate(voiceState(GUILD_A, BOT_ID, VOICE_A));
    expect(a.states).toHaveLength(1);
  });

  it("routes a server update to that guild's adapter only, and drops one for a guild without an adapter", () => {
    const { registry } = setup();
    const a = new RecordingLibraryMethods();
    const b = new RecordingLibraryMethods();
    registry.creatorFor(GUILD_A)(a);
    registry.creatorFor(GUILD_B)(b);

    registry.onVoiceServerUpdate(voiceServer(GUILD_B));
    registry.onVoiceServerUpdate(voiceServer('1180000000000000099'));

    expect(a.servers).toEqual([]);
    expect(b.servers).toEqual([voiceServer(GUILD_B)]);
  });

  it('forwards sendPayload with the guild id and returns what the gateway said', () => {
    const { registry, sent, refuse } = setup();
    const adapterA = registry.creatorFor(GUILD_A)(new RecordingLibraryMethods());
    const adapterB = registry.creatorFor(GUILD_B)(new RecordingLibraryMethods());
    const join = { op: 4, d: { guild_id: GUILD_A, channel_id: VOICE_A, self_mute: false, self_deaf: false } };
    const leave = { op: 4, d: { guild_id: GUILD_B, channel_id: null, self_mute: false, self_deaf: false } };

    expect(adapterA.sendPayload(join)).toBe(true);
    refuse();
    expect(adapterB.sendPayload(leave)).toBe(false);
    expect(sent).toEqual([
      { guildId: GUILD_A, payload: join },
      { guildId: GUILD_B, payload: leave },
    ]);
  });

  it('destroy removes only its own adapter, not a newer one for the same guild or another guild', () => {
    const { registry } = setup();
    const first = new RecordingLibraryMethods();
    const second = new RecordingLibraryMethods();
    const other = new RecordingLibraryMethods();
    const oldAdapter = registry.creatorFor(GUILD_A)(first);
    // A rejoin created a new adapter for the same guild before the old one was destroyed.
    const newAdapter = registry.creatorFor(GUILD_A)(second);
    registry.creatorFor(GUILD_B)(other);
    expect(registry.size).toBe(2);

    oldAdapter.destroy();
    expect(registry.size).toBe(2);
    registry.onVoiceServerUpdate(voiceServer(GUILD_A));
    expect(second.servers).toHaveLength(1);
    expect(first.servers).toHaveLength(0);

    newAdapter.destroy();
    expect(registry.size).toBe(1);
    registry.onVoiceServerUpdate(voiceServer(GUILD_A));
    registry.onVoiceStateUpdate(voiceState(GUILD_A, BOT_ID, VOICE_A));
    expect(second.servers).toHaveLength(1);
    expect(second.states).toHaveLength(0);

    registry.onVoiceServerUpdate(voiceServer(GUILD_B));
    expect(other.servers).toHaveLength(1);
  });

  it('destroyAll tells every adapter and empties the registry', () => {
    const { registry } = setup();
    const a = new RecordingLibraryMethods();
    const b = new RecordingLibraryMethods();
    registry.creatorFor(GUILD_A)(a);
    registry.creatorFor(GUILD_B)(b);
    registry.destroyAll();
    expect([a.destroyed, b.destroyed]).toEqual([1, 1]);
    expect(registry.size).toBe(0);
    registry.onVoiceServerUpdate(voiceServer(GUILD_A));
    expect(a.servers).toEqual([]);
  });

  it('works with the real joinVoiceChannel: op 4 goes out for the guild and destroy unregisters', () => {
    const { registry, sent } = setup();
    const connection = joinVoiceChannel({
      guildId: GUILD_A,
      channelId: VOICE_A,
      selfDeaf: false,
      adapterCreator: registry.creatorFor(GUILD_A),
      group: `registry-test-${process.pid}`,
    });
    try {
      expect(registry.size).toBe(1);
      expect(sent).toEqual([
        { guildId: GUILD_A, payload: { op: 4, d: { guild_id: GUILD_A, channel_id: VOICE_A, self_deaf: false, self_mute: false } } },
      ]);
      // Someone else's voice state must not move the connection; the bot's own state is taken in.
      registry.onVoiceStateUpdate(voiceState(GUILD_A, OTHER_USER_ID, VOICE_A));
      registry.onVoiceStateUpdate(voiceState(GUILD_A, BOT_ID, VOICE_A));
      expect(connection.state.status).toBe(VoiceConnectionStatus.Signalling);
    } finally {
      connection.destroy();
    }
    expect(connection.state.status).toBe(VoiceConnectionStatus.Destroyed);
    // destroy() sends op 4 with channel_id null to leave, then destroys the adapter.
    expect(sent.at(-1)).toEqual({
      guildId: GUILD_A,
      payload: { op: 4, d: { guild_id: GUILD_A, channel_id: null, self_deaf: false, self_mute: false } },
    });
    expect(registry.size).toBe(0);
  });
});
