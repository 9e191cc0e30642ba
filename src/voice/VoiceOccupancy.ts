import type { GatewayVoiceStateUpdateDispatchData } from '@discordjs/core';
import type { Metrics } from '../util/Metrics.js';

interface Occupant {
  channelId: string;
  bot: boolean;
}

export interface VoiceOccupancyOptions {
  /** Counts gateway entries skipped for lacking the fields used (`gateway_entries_skipped_total`). */
  readonly metrics?: Metrics;
}

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Who is in which voice channel, per guild, from GUILD_CREATE and VOICE_STATE_UPDATE. Only people currently
 * in voice are kept (a user leaving voice is forgotten), so it stays small even across many guilds.
 * Used for auto-leave (is any human left?) and for ignoring bots.
 */
export class VoiceOccupancy {
  private readonly guilds = new Map<string, Map<string, Occupant>>();
  private botUserId: string | undefined;

  constructor(private readonly options: VoiceOccupancyOptions = {}) {}

  /** Our own user id (never counted as a human). */
  setBotUserId(id: string): void {
    this.botUserId = id;
  }

  /**
   * Takes the guild's voice states (members tell who is a bot). The payload is checked here, where it enters:
   * gateway JSON is typed but not validated, and one odd entry must not cost the whole guild (or the process).
   * Entries without the fields used are skipped and counted.
   */
  onGuildCreate(data: unknown): void {
    if (!isObject(data) || !isId(data['id'])) return this.skipped(1);
    const bots = new Set<string>();
    for (const member of listOf(data['members'])) {
      const user = isObject(member) ? member['user'] : undefined;
      if (!isObject(user) || !isId(user['id'])) this.skipped(1);
      else if (user['bot'] === true) bots.add(user['id']);
    }
    const occupants = new Map<string, Occupant>();
    for (const state of listOf(data['voice_states'])) {
      const channelId = isObject(state) ? state['channel_id'] : undefined;
      if (!isObject(state) || !isId(state['user_id']) || (channelId !== null && channelId !== undefined && !isId(channelId))) this.skipped(1);
      else if (isId(channelId)) occupants.set(state['user_id'], { channelId, bot: bots.has(state['user_id']) });
    }
    if (occupants.size > 0) this.guilds.set(data['id'], occupants);
    else this.guilds.delete(data['id']);
  }

  /** Follows a member moving, joining or leaving voice (a payload without a usable user or channel id is skipped). */
  onVoiceStateUpdate(data: Pick<GatewayVoiceStateUpdateDispatchData, 'guild_id' | 'user_id' | 'channel_id' | 'member'>): void {
    if (!data.guild_id) return;
    if (!isId(data.user_id) || (data.channel_id !== null && !isId(data.channel_id))) return this.skipped(1);
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
    const user: unknown = isObject(data.member) ? data.member.user : undefined;
    const bot = isObject(user) && typeof user['bot'] === 'boolean' ? user['bot'] : undefined;
    occupants.set(data.user_id, { channelId: data.channel_id, bot: bot ?? known?.bot ?? false });
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

  private skipped(count: number): void {
    this.options.metrics?.inc('gateway_entries_skipped_total', count);
  }
}

/** An array field as a list; anything else (absent, null, an object) as empty. */
function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
