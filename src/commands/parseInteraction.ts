import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionType,
  type APIInteraction,
  type APIGuildMember,
} from '@discordjs/core';

/** A validated slash-command invocation in a guild: everything the handlers may read. */
export interface CommandInvocation {
  readonly interactionId: string;
  readonly token: string;
  readonly applicationId: string;
  readonly name: string;
  readonly guildId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly member: Pick<APIGuildMember, 'nick' | 'user'>;
  /** Member permissions in the channel, as a bitfield. */
  readonly memberPermissions: bigint;
  /** The bot's own permissions in the channel, when Discord sent them. */
  readonly appPermissions: bigint | undefined;
  /** Largest attachment the channel takes, when Discord sent it. */
  readonly attachmentSizeLimit: number | undefined;
  readonly options: ReadonlyMap<string, string | number | boolean>;
}

/** Why an interaction is not one we handle. */
export type ParseResult = { ok: true; invocation: CommandInvocation } | { ok: false; reason: string };

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Checks an INTERACTION_CREATE payload at the boundary; nothing deeper sees unvalidated data. */
export function parseInteraction(raw: APIInteraction): ParseResult {
  const data: unknown = raw;
  if (typeof data !== 'object' || data === null) return { ok: false, reason: 'not an object' };
  if (raw.type !== InteractionType.ApplicationCommand) return { ok: false, reason: 'not a command' };
  if (!raw.data || raw.data.type !== ApplicationCommandType.ChatInput) return { ok: false, reason: 'not a chat command' };
  if (!isString(raw.id) || !isString(raw.token) || !isString(raw.application_id)) return { ok: false, reason: 'missing id or token' };
  if (!isString(raw.guild_id) || !raw.member || !isString(raw.member.user?.id)) return { ok: false, reason: 'not in a guild' };
  const channelId = raw.channel?.id ?? (raw as { channel_id?: string }).channel_id;
  if (!isString(channelId)) return { ok: false, reason: 'no channel' };

  const options = new Map<string, string | number | boolean>();
  for (const option of raw.data.options ?? []) {
    if (
      option.type === ApplicationCommandOptionType.String ||
      option.type === ApplicationCommandOptionType.Channel ||
      option.type === ApplicationCommandOptionType.User ||
      option.type === ApplicationCommandOptionType.Integer ||
      option.type === ApplicationCommandOptionType.Boolean
    ) {
      options.set(option.name, option.value);
    }
  }
  const toBig = (value: unknown): bigint | undefined => {
    if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
    return BigInt(value);
  };
  return {
    ok: true,
    invocation: {
      interactionId: raw.id,
      token: raw.token,
      applicationId: raw.application_id,
      name: raw.data.name,
      guildId: raw.guild_id,
      channelId,
      userId: raw.member.user.id,
      member: { nick: raw.member.nick ?? null, user: raw.member.user },
      memberPermissions: toBig(raw.member.permissions) ?? 0n,
      appPermissions: toBig(raw.app_permissions),
      attachmentSizeLimit: positiveInt((raw as { attachment_size_limit?: unknown }).attachment_size_limit),
      options,
    },
  };
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
