import type {
  DiscordGatewayAdapterCreator,
  DiscordGatewayAdapterLibraryMethods,
} from '@discordjs/voice';
import type {
  GatewayVoiceServerUpdateDispatchData,
  GatewayVoiceStateUpdateDispatchData,
} from '@discordjs/core';

/** Sends a raw gateway payload (op 4) for a guild; returns false when it certainly failed. */
export type GatewaySender = (guildId: string, payload: unknown) => boolean;

/**
 * The voice adapter @discordjs/core does not ship: op 4 goes out through our shard, and the bot's own
 * VOICE_STATE_UPDATE and every VOICE_SERVER_UPDATE come back in. One adapter per guild with a voice
 * connection; the map shrinks when the library destroys an adapter.
 */
export class VoiceAdapterRegistry {
  private readonly adapters = new Map<string, DiscordGatewayAdapterLibraryMethods>();
  private botUserId: string | undefined;

  constructor(private readonly send: GatewaySender) {}

  /** The bot's own user id, learnt from READY; voice states of other users are not the adapter's business. */
  setBotUserId(id: string): void {
    this.botUserId = id;
  }

  /** Creates the adapter creator handed to joinVoiceChannel for `guildId`. */
  creatorFor(guildId: string): DiscordGatewayAdapterCreator {
    return (methods) => {
      this.adapters.set(guildId, methods);
      return {
        sendPayload: (payload) => this.send(guildId, payload),
        destroy: () => {
          if (this.adapters.get(guildId) === methods) this.adapters.delete(guildId);
        },
      };
    };
  }

  /** Routes a VOICE_STATE_UPDATE; only the bot's own state matters to the voice library. */
  onVoiceStateUpdate(data: GatewayVoiceStateUpdateDispatchData): void {
    if (!data.guild_id || data.user_id !== this.botUserId) return;
    this.adapters.get(data.guild_id)?.onVoiceStateUpdate(data);
  }

  /** Routes a VOICE_SERVER_UPDATE. */
  onVoiceServerUpdate(data: GatewayVoiceServerUpdateDispatchData): void {
    this.adapters.get(data.guild_id)?.onVoiceServerUpdate(data);
  }

  /** Tells every adapter the gateway is gone (the library then disconnects its connections). */
  destroyAll(): void {
    for (const methods of [...this.adapters.values()]) methods.destroy();
    this.adapters.clear();
  }

  get size(): number {
    return this.adapters.size;
  }
}
