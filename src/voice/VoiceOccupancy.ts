import type { GatewayGuildCreateDispatchData, GatewayVoiceStateUpdateDispatchData } from '@discordjs/core';

interface Occupant {
  channelId: string;
  bot: boolean;
}

/**
 * Who is in which voice channel, per guild, from GUILD_CREATE and VOICE_STATE_UPDATE. Only people currently
 * in voice are kept (a user leaving voice is forgotten), so it stays small even across many guilds.
 * Used for auto-leave (is any human left?) and for ignoring bots.
 */
export class VoiceOccupancy {
  private readonly guilds = new Map<string, Map<string, Occupant>>();
  private botUserId: string | undefined;

  /** Our own user id (never counted as a human). */
  setBotUserId(id: string): void {
    this.botUserId = id;
  }

  /** Takes the guild's voice states (members tell who is a bot). */
  onGuildCreate(data: Pick<GatewayGuildCreateDispatchData, 'id' | 'voice_states' | 'members'>): void {
    const bots = new Set<string>();
    for (const member of data.members ?? []) if (member.user?.bot) bots.add(member.user.id);
    const occupants = new Map<string, Occupant>();
    for (const state of data.voice_states ?? []) {
      if (state.channel_id) occupants.set(state.user_id, { channelId: state.channel_id, bot: bots.has(state.user_id) });
    }
    if (occupants.size > 0) this.guilds.set(data.id, occupants);
    else this.guilds.delete(data.id);
  }

  /** Follows a member moving, joining or leaving voice. */
  onVoiceStateUpdate(data: Pick<GatewayVoiceStateUpdateDispatchData, 'guild_id' | 'user_id' | 'channel_id' | 'member'>): void {
    if (!data.guild_id) return;
    let occupants = this.guilds.get(data.guild_id);
    if (!data.channel_id) {
      occupants?.delete(data.user_id);
      if (occupants?.size === 0) this.guilds.delete(data.guild_id);
      return;
    }
    if (!occupants) {
      occupants = new Map();
      this.guilds.set(data.guild_id, occupants);
    }
    const known = occupants.get(data.user_id);
    occupants.set(data.user_id, { channelId: data.channel_id, bot: data.member?.user?.bot ?? known?.bot ?? false });
  }

  /** The voice channel a user is in, if we know. */
  channelOf(guildId: string, userId: string): string | undefined {
    return this.guilds.get(guildId)?.get(userId)?.channelId;
  }

  /** Whether the user is a known bot. */
  isBot(guildId: string, userId: string): boolean {
    return this.guilds.get(guildId)?.get(userId)?.bot ?? false;
  }

  /** People (not bots, not us) in a voice channel. */
  humansIn(guildId: string, channelId: string): number {
    let n = 0;
    for (const [userId, o] of this.guilds.get(guildId) ?? []) if (o.channelId === channelId && !o.bot && userId !== this.botUserId) n++;
    return n;
  }
}
