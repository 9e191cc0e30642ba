import { ApplicationCommandOptionType, ApplicationCommandType, InteractionType, type APIGuildMember, type APIUser } from '@discordjs/core';

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

/** Where to send an error reply for a command whose payload could not be used (it had an id and a token). */
export interface AnswerableInteraction {
  readonly interactionId: string;
  readonly token: string;
}

/**
 * Why an interaction is not one we handle. `answerTo` is set when it is a chat command we cannot read
 * (malformed), so the person gets an error instead of Discord's "The application did not respond".
 */
export type ParseResult =
  | { ok: true; invocation: CommandInvocation }
  | { ok: false; reason: string; answerTo?: AnswerableInteraction };

type JsonObject = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The option types whose `value` is a scalar we keep (subcommands and attachments are not used). */
const SCALAR_OPTION_TYPES: ReadonlySet<unknown> = new Set([
  ApplicationCommandOptionType.String,
  ApplicationCommandOptionType.Channel,
  ApplicationCommandOptionType.User,
  ApplicationCommandOptionType.Integer,
  ApplicationCommandOptionType.Boolean,
]);

/**
 * Checks an INTERACTION_CREATE payload at the boundary; nothing deeper sees unvalidated data. Takes `unknown`
 * because the gateway's JSON is only typed, not checked: any field can be missing or of another shape.
 */
export function parseInteraction(raw: unknown): ParseResult {
  if (!isObject(raw)) return { ok: false, reason: 'not an object' };
  if (raw['type'] !== InteractionType.ApplicationCommand) return { ok: false, reason: 'not a command' };
  const data = raw['data'];
  if (!isObject(data) || data['type'] !== ApplicationCommandType.ChatInput) return { ok: false, reason: 'not a chat command' };
  const { id, token, application_id: applicationId } = raw;
  if (!isString(id) || !isString(token) || !isString(applicationId)) return { ok: false, reason: 'missing id or token' };
  const answerTo: AnswerableInteraction = { interactionId: id, token };

  const guildId = raw['guild_id'];
  const member = raw['member'];
  if (!isString(guildId) || member === undefined || member === null) return { ok: false, reason: 'not in a guild' };
  if (!isObject(member) || !isObject(member['user']) || !isString(member['user']['id'])) {
    return { ok: false, reason: 'malformed member', answerTo };
  }
  const channel = raw['channel'];
  const channelId = isObject(channel) && isString(channel['id']) ? channel['id'] : raw['channel_id'];
  if (!isString(channelId)) return { ok: false, reason: 'no channel', answerTo };
  const name = data['name'];
  if (!isString(name)) return { ok: false, reason: 'malformed command name', answerTo };
  const options = parseOptions(data['options']);
  if (!options) return { ok: false, reason: 'malformed options', answerTo };

  const nick = member['nick'];
  return {
    ok: true,
    invocation: {
      interactionId: id,
      token,
      applicationId,
      name,
      guildId,
      channelId,
      userId: member['user']['id'],
      member: { nick: typeof nick === 'string' ? nick : null, user: userOf(member['user'], member['user']['id']) },
      memberPermissions: toBig(member['permissions']) ?? 0n,
      appPermissions: toBig(raw['app_permissions']),
      attachmentSizeLimit: positiveInt(raw['attachment_size_limit']),
      options,
    },
  };
}

/** Options as a name → value map; undefined when the list is not an array of `{ name: string, type, value? }`. */
function parseOptions(raw: unknown): Map<string, string | number | boolean> | undefined {
  const options = new Map<string, string | number | boolean>();
  if (raw === undefined || raw === null) return options;
  if (!Array.isArray(raw)) return undefined;
  for (const option of raw as unknown[]) {
    if (!isObject(option) || !isString(option['name']) || typeof option['type'] !== 'number') return undefined;
    if (!SCALAR_OPTION_TYPES.has(option['type'])) continue;
    const value = option['value'];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
    options.set(option['name'], value);
  }
  return options;
}

/** The user fields display names and avatars are built from, each only when it has the documented type. */
function userOf(raw: JsonObject, id: string): APIUser {
  const text = (key: string): string | null => (typeof raw[key] === 'string' ? raw[key] : null);
  return {
    id,
    username: text('username') ?? '',
    discriminator: text('discriminator') ?? '0',
    global_name: text('global_name'),
    avatar: text('avatar'),
    ...(typeof raw['bot'] === 'boolean' ? { bot: raw['bot'] } : {}),
  };
}

function toBig(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return BigInt(value);
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
