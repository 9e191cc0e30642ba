import type {
  APIApplicationCommand,
  APIAttachment,
  APIEmoji,
  APIGuildMember,
  APIInteractionGuildMember,
  APIMessage,
  APIRole,
  APIUser,
  APIVoiceState,
  ApplicationFlags,
  GatewayGuildCreateDispatchData,
  GatewayReadyDispatchData,
  GuildMemberFlags,
  GuildSystemChannelFlags,
  RoleFlags,
  UserFlags,
} from '@discordjs/core'; // core re-exports discord-api-types/v10 (types only: nothing is loaded at run time)
import { ChannelKind, type SimChannel, type SimEmoji, type SimGuild, type SimMember, type SimRole, type SimUser, type SimVoiceState } from './SimWorld.js';

// Serializers from the world model to wire payloads. They are typed against discord-api-types (the copy the
// libraries were built with) so a missing or misspelled field fails the typecheck instead of a test run.

/** Wire user object. */
export function userPayload(user: SimUser): APIUser {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.globalName,
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
    public_flags: 0 as UserFlags,
    primary_guild: null,
    avatar_decoration_data: null,
    collectibles: null,
  };
}

/** Guild member as in GUILD_CREATE, VOICE_STATE_UPDATE.member and GET /guilds/{g}/members/{u}. */
export function memberPayload(member: SimMember): APIGuildMember {
  return {
    user: userPayload(member.user),
    nick: member.nick,
    avatar: null,
    banner: null,
    roles: [...member.roles],
    joined_at: member.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

/** Member inside an interaction: the same plus the resolved permission string. */
export function interactionMemberPayload(member: SimMember): APIInteractionGuildMember {
  return { ...memberPayload(member), permissions: member.permissions };
}

/** Channel object (GUILD_CREATE.channels and GET /channels/{id}). */
export function channelPayload(channel: SimChannel, guildId: string): Record<string, unknown> {
  const base = {
    id: channel.id,
    type: channel.type,
    name: channel.name,
    guild_id: guildId,
    position: channel.position,
    parent_id: channel.parentId,
    permission_overwrites: channel.permissionOverwrites ?? [],
    flags: 0,
  };
  switch (channel.type) {
    case ChannelKind.Text:
      return { ...base, topic: channel.topic ?? null, nsfw: false, last_message_id: null, rate_limit_per_user: 0 };
    case ChannelKind.Voice:
    case ChannelKind.Stage:
      return {
        ...base,
        bitrate: 64_000,
        user_limit: 0,
        rtc_region: null,
        video_quality_mode: 1,
        nsfw: false,
        last_message_id: null,
        rate_limit_per_user: 0,
      };
    case ChannelKind.Category:
      return base;
  }
}

/** Role object. */
export function rolePayload(role: SimRole): APIRole {
  return {
    id: role.id,
    name: role.name,
    color: role.color,
    colors: { primary_color: role.color, secondary_color: null, tertiary_color: null },
    hoist: role.hoist,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions,
    managed: role.managed,
    mentionable: role.mentionable,
    flags: 0 as RoleFlags,
  };
}

/** Custom emoji object. */
export function emojiPayload(emoji: SimEmoji): APIEmoji {
  return {
    id: emoji.id,
    name: emoji.name,
    roles: [...emoji.roles],
    require_colons: true,
    managed: false,
    animated: emoji.animated,
    available: true,
  };
}

/** Voice state as in GUILD_CREATE.voice_states (no guild_id, no member inside). */
export function baseVoiceStatePayload(state: SimVoiceState): Omit<APIVoiceState, 'guild_id' | 'member'> {
  return {
    channel_id: state.channelId,
    user_id: state.userId,
    session_id: state.sessionId,
    deaf: state.deaf,
    mute: state.mute,
    self_deaf: state.selfDeaf,
    self_mute: state.selfMute,
    self_stream: state.selfStream,
    self_video: state.selfVideo,
    suppress: state.suppress,
    request_to_speak_timestamp: null,
  };
}

/**
 * VOICE_STATE_UPDATE dispatch data. A leave is the previous state with channel_id null, as Discord sends it.
 */
export function voiceStateUpdatePayload(
  guildId: string,
  userId: string,
  state: SimVoiceState | null,
  previous: SimVoiceState | undefined,
  member: SimMember | undefined,
): APIVoiceState {
  const source = state ?? previous;
  return {
    guild_id: guildId,
    channel_id: state ? state.channelId : null,
    user_id: userId,
    ...(member ? { member: memberPayload(member) } : {}),
    session_id: source?.sessionId ?? '',
    deaf: source?.deaf ?? false,
    mute: source?.mute ?? false,
    self_deaf: source?.selfDeaf ?? false,
    self_mute: source?.selfMute ?? false,
    self_stream: source?.selfStream ?? false,
    self_video: source?.selfVideo ?? false,
    suppress: source?.suppress ?? false,
    request_to_speak_timestamp: null,
  };
}

/**
 * GUILD_CREATE dispatch data. Like Discord, a guild above `largeThreshold` members is `large` and only lists
 * the members it must (the bot and everyone in voice); smaller guilds list every member.
 */
export function guildCreatePayload(
  guild: SimGuild,
  options: { largeThreshold: number; applicationId: string; botUserId: string },
): GatewayGuildCreateDispatchData {
  const large = guild.memberCount > options.largeThreshold;
  const members: APIGuildMember[] = [];
  for (const member of guild.members.values()) {
    if (!large || member.user.id === options.botUserId || guild.voiceStates.has(member.user.id)) {
      members.push(memberPayload(member));
    }
  }
  const systemChannel = guild.channels.find((c) => c.type === ChannelKind.Text);
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    region: 'deprecated',
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 1,
    default_message_notifications: 1,
    explicit_content_filter: 2,
    roles: guild.roles.map(rolePayload),
    emojis: guild.emojis.map(emojiPayload),
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: systemChannel?.id ?? null,
    system_channel_flags: 0 as GuildSystemChannelFlags,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US' as GatewayGuildCreateDispatchData['preferred_locale'],
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: guild.joinedAt,
    large,
    unavailable: false,
    member_count: guild.memberCount,
    voice_states: [...guild.voiceStates.values()].map(baseVoiceStatePayload),
    members,
    channels: guild.channels.map((c) => channelPayload(c, guild.id)) as unknown as GatewayGuildCreateDispatchData['channels'],
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** READY dispatch data. */
export function readyPayload(options: {
  botUser: SimUser;
  guildIds: Iterable<string>;
  sessionId: string;
  resumeGatewayUrl: string;
  applicationId: string;
}): GatewayReadyDispatchData & Record<string, unknown> {
  return {
    v: 10,
    user: { ...userPayload(options.botUser), verified: true, mfa_enabled: false, flags: 0 as UserFlags, email: null },
    guilds: [...options.guildIds].map((id) => ({ id, unavailable: true })),
    session_id: options.sessionId,
    resume_gateway_url: options.resumeGatewayUrl,
    shard: [0, 1],
    application: { id: options.applicationId, flags: 565248 as ApplicationFlags, flags_new: '565248' },
    // Fields real READYs carry for bots; no library reads them.
    session_type: 'normal',
    presences: [],
    private_channels: [],
    relationships: [],
    guild_join_requests: [],
    user_settings: {},
    geo_ordered_rtc_regions: ['simulator'],
    _trace: ['["tinyscribe-sim-gateway",{"micros":0}]'],
  };
}

/** An attachment stored with a message. */
export interface StoredAttachment {
  readonly id: string;
  readonly filename: string;
  readonly size: number;
  readonly contentType: string;
}

/** Message object returned by message-creating routes. */
export function messagePayload(options: {
  id: string;
  channelId: string;
  guildId?: string | undefined;
  author: SimUser;
  content: string;
  attachments: readonly StoredAttachment[];
  cdnBase: string;
  webhookId?: string | undefined;
  interactionId?: string | undefined;
  flags?: number | undefined;
  edited?: boolean;
}): APIMessage {
  const attachments: APIAttachment[] = options.attachments.map((a) => ({
    id: a.id,
    filename: a.filename,
    size: a.size,
    url: `${options.cdnBase}/attachments/${options.channelId}/${a.id}/${encodeURIComponent(a.filename)}`,
    proxy_url: `${options.cdnBase}/attachments/${options.channelId}/${a.id}/${encodeURIComponent(a.filename)}`,
    content_type: a.contentType,
  }));
  return {
    id: options.id,
    channel_id: options.channelId,
    ...(options.guildId ? { guild_id: options.guildId } : {}),
    author: userPayload(options.author),
    content: options.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: options.edited ? new Date().toISOString() : null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments,
    embeds: [],
    pinned: false,
    type: options.interactionId ? 20 : 0,
    flags: options.flags ?? 0,
    components: [],
    ...(options.webhookId ? { webhook_id: options.webhookId, application_id: options.webhookId } : {}),
  };
}

/** Application command object returned by the registration routes. */
export function commandPayload(
  command: Record<string, unknown>,
  id: string,
  applicationId: string,
  guildId: string | null,
): APIApplicationCommand {
  return {
    // What the bot sent, then the fields Discord fills in.
    ...(command as Partial<APIApplicationCommand>),
    id,
    application_id: applicationId,
    ...(guildId ? { guild_id: guildId } : {}),
    name: String(command['name'] ?? ''),
    description: String(command['description'] ?? ''),
    type: typeof command['type'] === 'number' ? (command['type'] as APIApplicationCommand['type']) : 1,
    version: id,
    default_member_permissions:
      typeof command['default_member_permissions'] === 'string' ? command['default_member_permissions'] : null,
    nsfw: command['nsfw'] === true,
    integration_types: [0],
    contexts: [0],
  } as APIApplicationCommand;
}

/** One option of a chat-input command as the test describes it (same shape as on the wire). */
export interface InteractionOptionInput {
  readonly name: string;
  /** ApplicationCommandOptionType: 1 subcommand, 2 group, 3 string, 4 integer, 5 boolean, 6 user, 7 channel… */
  readonly type: number;
  readonly value?: string | number | boolean;
  readonly options?: readonly InteractionOptionInput[];
  readonly focused?: boolean;
}

/** INTERACTION_CREATE data for a guild chat-input command (type 2), shaped like Discord's. */
export function interactionPayload(options: {
  id: string;
  token: string;
  applicationId: string;
  guildId: string;
  channel: SimChannel;
  member: SimMember;
  commandId: string;
  commandName: string;
  commandOptions: readonly InteractionOptionInput[];
  appPermissions: string;
  locale: string;
  attachmentSizeLimit?: number;
}): Record<string, unknown> {
  return {
    id: options.id,
    application_id: options.applicationId,
    type: 2,
    token: options.token,
    version: 1,
    guild_id: options.guildId,
    guild: { id: options.guildId, locale: options.locale, features: [] },
    channel_id: options.channel.id,
    channel: {
      id: options.channel.id,
      type: options.channel.type,
      name: options.channel.name,
      guild_id: options.guildId,
      parent_id: options.channel.parentId,
      position: options.channel.position,
      permissions: options.member.permissions,
      flags: 0,
      last_message_id: null,
      nsfw: false,
      rate_limit_per_user: 0,
      topic: null,
    },
    member: interactionMemberPayload(options.member),
    data: {
      id: options.commandId,
      name: options.commandName,
      type: 1,
      guild_id: options.guildId,
      ...(options.commandOptions.length > 0 ? { options: options.commandOptions } : {}),
    },
    app_permissions: options.appPermissions,
    locale: options.locale,
    guild_locale: options.locale,
    entitlements: [],
    entitlement_sku_ids: [],
    authorizing_integration_owners: { '0': options.guildId },
    context: 0,
    attachment_size_limit: options.attachmentSizeLimit ?? 10_485_760,
  };
}

/** GET /applications/@me. */
export function applicationPayload(applicationId: string, botUser: SimUser): Record<string, unknown> {
  return {
    id: applicationId,
    name: botUser.username,
    icon: null,
    description: 'tinyscribe (simulated)',
    summary: '',
    type: null,
    bot_public: false,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: 565248,
    owner: { id: botUser.id, username: 'owner', discriminator: '0', global_name: null, avatar: null },
    bot: userPayload(botUser),
    team: null,
    approximate_guild_count: 1,
    interactions_endpoint_url: null,
    redirect_uris: [],
    integration_types_config: { '0': {} },
  };
}
