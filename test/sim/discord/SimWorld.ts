import { randomBytes } from 'node:crypto';
import { SnowflakeFactory } from './ids.js';
import type { StoredAttachment } from './payloads.js';

/** A Discord user as the simulator knows it. `globalName` null and `nick` null exercise the name fallbacks. */
export interface SimUser {
  readonly id: string;
  readonly username: string;
  readonly globalName: string | null;
  readonly bot: boolean;
}

/** A guild member. */
export interface SimMember {
  readonly user: SimUser;
  nick: string | null;
  readonly roles: string[];
  readonly joinedAt: string;
  /** Permission bitfield as a decimal string (what interactions carry). */
  readonly permissions: string;
}

/** Channel types the simulator creates (discord-api-types ChannelType values). */
export const ChannelKind = { Text: 0, Voice: 2, Category: 4, Stage: 13 } as const;
export type ChannelKind = (typeof ChannelKind)[keyof typeof ChannelKind];

export interface SimChannel {
  readonly id: string;
  readonly type: ChannelKind;
  readonly name: string;
  readonly position: number;
  readonly parentId: string | null;
  readonly topic?: string | null;
  /** Permission overwrites (Discord's shape: type 0 role, 1 member; allow/deny as decimal strings). */
  permissionOverwrites?: SimOverwrite[];
}

/** An incoming webhook of a channel (POST /channels/{id}/webhooks). */
export interface SimWebhook {
  readonly id: string;
  readonly token: string;
  readonly channelId: string;
  readonly guildId: string;
  readonly name: string;
}

/** A channel permission overwrite. */
export interface SimOverwrite {
  readonly id: string;
  readonly type: 0 | 1;
  readonly allow: string;
  readonly deny: string;
}

export interface SimRole {
  readonly id: string;
  readonly name: string;
  readonly color: number;
  readonly position: number;
  readonly permissions: string;
  readonly hoist: boolean;
  readonly mentionable: boolean;
  readonly managed: boolean;
}

export interface SimEmoji {
  readonly id: string;
  readonly name: string;
  readonly animated: boolean;
  readonly roles: string[];
}

/** A member's voice state (what GUILD_CREATE.voice_states and VOICE_STATE_UPDATE carry). */
export interface SimVoiceState {
  readonly userId: string;
  channelId: string;
  sessionId: string;
  selfDeaf: boolean;
  selfMute: boolean;
  deaf: boolean;
  mute: boolean;
  selfVideo: boolean;
  selfStream: boolean;
  suppress: boolean;
}

export interface SimGuild {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly joinedAt: string;
  readonly channels: SimChannel[];
  readonly roles: SimRole[];
  readonly emojis: SimEmoji[];
  readonly members: Map<string, SimMember>;
  readonly voiceStates: Map<string, SimVoiceState>;
  /** The member count Discord reports (may exceed the members we model, like a real large guild). */
  memberCount: number;
  /** Default text channel (where interactions come from). */
  readonly textChannelId: string;
  /** Default voice channel. */
  readonly voiceChannelId: string;
}

/** A message the bot created. */
export interface SimMessage {
  readonly id: string;
  readonly channelId: string;
  readonly guildId: string | undefined;
  content: string;
  attachments: StoredAttachment[];
  readonly webhookToken: string | undefined;
}

/** Permission strings used by default: a regular member, and what the bot was invited with. */
export const MEMBER_PERMISSIONS = '2222085186637376';
export const BOT_PERMISSIONS = '2248473465835073';

/** Caller-facing description of an extra member. */
export interface MemberSpec {
  readonly username: string;
  readonly globalName?: string | null;
  readonly nick?: string | null;
  readonly permissions?: string;
}

/**
 * The mutable state behind every payload: guilds, their channels, members and voice states. REST routes,
 * the gateway and test hooks all read and write this one object, so what GUILD_CREATE said, what
 * GET /guilds/{g}/members/{u} returns and what VOICE_STATE_UPDATE announced never disagree.
 */
export class SimWorld {
  readonly guilds = new Map<string, SimGuild>();
  readonly users = new Map<string, SimUser>();
  /** IDs for guilds, channels, roles, messages… (19 digits). */
  readonly ids = new SnowflakeFactory(Date.UTC(2024, 0, 1));
  /** Registered commands by scope ('' = global, else guild ID), then by name. */
  readonly commands = new Map<string, Map<string, { readonly id: string; readonly body: Record<string, unknown> }>>();
  /** Messages the bot created (kept small: what an edit needs). */
  readonly messages = new Map<string, SimMessage>();
  /** Channel webhooks the bot created, by id. */
  readonly webhooks = new Map<string, SimWebhook>();
  /** Largest attachment Discord accepts per file (interactions report it as attachment_size_limit). */
  attachmentSizeLimit = 10_485_760;

  constructor(readonly botUser: SimUser, readonly applicationId: string) {
    this.users.set(botUser.id, botUser);
  }

  /** Adds a user (not yet a member of anything). */
  addUser(user: SimUser): SimUser {
    this.users.set(user.id, user);
    return user;
  }

  /** Creates a guild with one category, a text and a voice channel, @everyone, and the bot as member. */
  createGuild(name: string, ownerId: string): SimGuild {
    const id = this.ids.next();
    const categoryId = this.ids.next();
    const textChannelId = this.ids.next();
    const voiceChannelId = this.ids.next();
    const joinedAt = new Date(Date.UTC(2024, 5, 1)).toISOString();
    const guild: SimGuild = {
      id,
      name,
      ownerId,
      joinedAt,
      channels: [
        { id: categoryId, type: ChannelKind.Category, name: 'General', position: 0, parentId: null },
        { id: textChannelId, type: ChannelKind.Text, name: 'general', position: 0, parentId: categoryId, topic: null },
        { id: voiceChannelId, type: ChannelKind.Voice, name: 'Voice', position: 1, parentId: categoryId },
      ],
      roles: [
        {
          id, // @everyone shares the guild's ID
          name: '@everyone',
          color: 0,
          position: 0,
          permissions: MEMBER_PERMISSIONS,
          hoist: false,
          mentionable: false,
          managed: false,
        },
      ],
      emojis: [],
      members: new Map(),
      voiceStates: new Map(),
      memberCount: 0,
      textChannelId,
      voiceChannelId,
    };
    this.guilds.set(id, guild);
    this.addMember(guild, this.botUser, null, BOT_PERMISSIONS);
    return guild;
  }

  /** Makes `user` a member of `guild`. */
  addMember(guild: SimGuild, user: SimUser, nick: string | null, permissions = MEMBER_PERMISSIONS): SimMember {
    this.users.set(user.id, user);
    const member: SimMember = { user, nick, roles: [], joinedAt: guild.joinedAt, permissions };
    if (!guild.members.has(user.id)) guild.memberCount++;
    guild.members.set(user.id, member);
    return member;
  }

  /**
   * Replaces a command scope the way a bulk overwrite does. A command keeps its ID when a command of the same
   * name existed, as on Discord.
   */
  overwriteCommands(scope: string, bodies: readonly Record<string, unknown>[]): { id: string; body: Record<string, unknown> }[] {
    const previous = this.commands.get(scope) ?? new Map();
    const next = new Map<string, { id: string; body: Record<string, unknown> }>();
    for (const body of bodies) {
      const name = String(body['name'] ?? '');
      next.set(name, { id: previous.get(name)?.id ?? this.ids.next(), body });
    }
    this.commands.set(scope, next);
    return [...next.values()];
  }

  /** ID of a registered command (guild scope first, then global). */
  commandId(guildId: string, name: string): string | undefined {
    return this.commands.get(guildId)?.get(name)?.id ?? this.commands.get('')?.get(name)?.id;
  }

  /** The guild, or undefined. */
  guild(id: string): SimGuild | undefined {
    return this.guilds.get(id);
  }

  /** Finds a channel in any guild. */
  channel(id: string): { guild: SimGuild; channel: SimChannel } | undefined {
    for (const guild of this.guilds.values()) {
      const channel = guild.channels.find((c) => c.id === id);
      if (channel) return { guild, channel };
    }
    return undefined;
  }

  /**
   * Sets (or clears, with channelId null) a member's voice state. Returns the new state, or null when it was
   * cleared. Session IDs are kept across channel moves, as Discord does.
   */
  setVoiceState(
    guild: SimGuild,
    userId: string,
    channelId: string | null,
    flags: { selfDeaf?: boolean; selfMute?: boolean; sessionId?: string } = {},
  ): SimVoiceState | null {
    if (channelId === null) {
      guild.voiceStates.delete(userId);
      return null;
    }
    const previous = guild.voiceStates.get(userId);
    const state: SimVoiceState = {
      userId,
      channelId,
      sessionId: flags.sessionId ?? previous?.sessionId ?? randomHex(16),
      selfDeaf: flags.selfDeaf ?? previous?.selfDeaf ?? false,
      selfMute: flags.selfMute ?? previous?.selfMute ?? false,
      deaf: false,
      mute: false,
      selfVideo: false,
      selfStream: false,
      suppress: false,
    };
    guild.voiceStates.set(userId, state);
    return state;
  }
}

/** Random lowercase hex string of `length` characters (session IDs, voice tokens). */
export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}
