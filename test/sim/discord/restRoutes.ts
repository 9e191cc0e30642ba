import type { Emit } from './events.js';
import type { InteractionRegistry } from './InteractionRegistry.js';
import type { ParsedBody } from './httpBody.js';
import {
  applicationPayload,
  baseVoiceStatePayload,
  channelPayload,
  commandPayload,
  memberPayload,
  messagePayload,
  rolePayload,
  userPayload,
  type StoredAttachment,
} from './payloads.js';
import type { ReceivedFile, SimRecords } from './records.js';
import { ChannelKind, randomHex, type SimChannel, type SimMessage, type SimWebhook, type SimWorld } from './SimWorld.js';

/** What a route handler sees. */
export interface RouteContext {
  readonly params: Readonly<Record<string, string>>;
  readonly body: ParsedBody;
  readonly query: URLSearchParams;
}

/** What a route handler answers: a JSON body (any status) or nothing (204). */
export interface RouteResult {
  readonly status: number;
  readonly json?: unknown;
}

/** One REST route. `auth: 'bot'` routes need `Authorization: Bot <token>`; webhook-token routes need none. */
export interface RestRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly route: string;
  readonly pattern: RegExp;
  readonly auth: 'bot' | 'none';
  handle(ctx: RouteContext): RouteResult;
}

/** State the routes read and write. */
export interface RestRouteDeps {
  readonly world: SimWorld;
  readonly records: SimRecords;
  readonly emit: Emit;
  readonly interactions: InteractionRegistry;
  /** ws://127.0.0.1:PORT of the gateway. */
  readonly gatewayUrl: () => string;
  /** http://127.0.0.1:PORT, used in attachment URLs. */
  readonly origin: () => string;
  /** Discord refuses an initial interaction response after 3 s; set false to accept late ones. */
  readonly enforceInteractionDeadline: boolean;
}

/** A Discord JSON error (`DiscordAPIError` on the client side). */
export function discordError(status: number, code: number, message: string, errors?: unknown): RouteResult {
  return { status, json: errors === undefined ? { code, message } : { code, message, errors } };
}

const MAX_CONTENT = 2000;
const ATTACHMENT_SIZE_LIMIT = 10_485_760;
const MANAGE_WEBHOOKS = 1n << 29n;

/** Turns "/channels/:channelId/messages" into an anchored regex with named groups. */
function compile(route: string): RegExp {
  const source = route
    .split('/')
    .map((part) => {
      if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const name = part.slice(1);
      // IDs are snowflakes, tokens are opaque, @me/@original are literal elsewhere in the table
      return name.endsWith('Id') ? `(?<${name}>\\d{1,20})` : `(?<${name}>[^/]+)`;
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The 50035 "Invalid Form Body" error for over-long content, as Discord words it. */
function contentTooLong(): RouteResult {
  return discordError(400, 50035, 'Invalid Form Body', {
    content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_CONTENT} or fewer in length.` }] },
  });
}

/** Validates message content and attachments the way Discord does for bots. */
function checkMessage(
  payload: Record<string, unknown>,
  files: readonly ReceivedFile[],
  requireSomething: boolean,
  perFileLimit = ATTACHMENT_SIZE_LIMIT,
): RouteResult | undefined {
  const content = payload['content'];
  if (typeof content === 'string' && content.length > MAX_CONTENT) return contentTooLong();
  if (files.some((f) => f.data.length > perFileLimit)) return discordError(413, 40005, 'Request entity too large');
  const total = files.reduce((sum, f) => sum + f.data.length, 0);
  if (total > ATTACHMENT_SIZE_LIMIT) return discordError(413, 40005, 'Request entity too large');
  const embeds = payload['embeds'];
  const hasEmbeds = Array.isArray(embeds) && embeds.length > 0;
  const hasContent = typeof content === 'string' && content.length > 0;
  if (requireSomething && !hasContent && !hasEmbeds && files.length === 0 && payload['components'] === undefined) {
    return discordError(400, 50006, 'Cannot send an empty message');
  }
  return undefined;
}

/** Builds the route table. Order matters only where a literal (@me, @original) could match a parameter. */
export function createRestRoutes(deps: RestRouteDeps): RestRoute[] {
  const { world, records, emit, interactions } = deps;
  const bot = world.botUser;

  const attachmentsOf = (files: readonly ReceivedFile[]): StoredAttachment[] =>
    files.map((f) => ({ id: world.ids.next(), filename: f.name, size: f.data.length, contentType: f.contentType }));

  const render = (message: SimMessage, options: { webhook?: boolean; interactionId?: string; edited?: boolean } = {}) =>
    messagePayload({
      id: message.id,
      channelId: message.channelId,
      guildId: message.guildId,
      author: bot,
      content: message.content,
      attachments: message.attachments,
      cdnBase: deps.origin(),
      webhookId: options.webhook ? world.applicationId : undefined,
      interactionId: options.interactionId,
      edited: options.edited,
    });

  const createMessage = (channelId: string, guildId: string | undefined, payload: Record<string, unknown>, files: readonly ReceivedFile[], webhookToken?: string): SimMessage => {
    const message: SimMessage = {
      id: world.ids.next(),
      channelId,
      guildId,
      content: typeof payload['content'] === 'string' ? payload['content'] : '',
      attachments: attachmentsOf(files),
      webhookToken,
    };
    world.messages.set(message.id, message);
    return message;
  };

  const editMessage = (message: SimMessage, payload: Record<string, unknown>, files: readonly ReceivedFile[]): void => {
    if (typeof payload['content'] === 'string') message.content = payload['content'];
    if (files.length > 0) message.attachments = [...message.attachments, ...attachmentsOf(files)];
    if (Array.isArray(payload['attachments']) && files.length === 0) {
      // keep only the attachments the edit lists by ID (how a bot removes files)
      const keep = new Set(payload['attachments'].map((a) => String(asRecord(a)['id'])));
      message.attachments = message.attachments.filter((a) => keep.has(a.id));
    }
  };

  const registerCommands = (scope: string, guildId: string | null, body: unknown): RouteResult => {
    if (!Array.isArray(body)) return discordError(400, 50035, 'Invalid Form Body');
    const commands = body.map(asRecord);
    const stored = world.overwriteCommands(scope, commands);
    const record = { scope: guildId ? ('guild' as const) : ('global' as const), guildId, commands, at: performance.now() };
    records.commands.push(record);
    emit('commands', record);
    return { status: 200, json: stored.map((c) => commandPayload(c.body, c.id, world.applicationId, guildId)) };
  };

  const listCommands = (scope: string, guildId: string | null): RouteResult => ({
    status: 200,
    json: [...(world.commands.get(scope)?.values() ?? [])].map((c) => commandPayload(c.body, c.id, world.applicationId, guildId)),
  });

  const webhookInteraction = (params: Readonly<Record<string, string>>) => {
    const interaction = interactions.withToken(params['token'] ?? '');
    if (!interaction || params['applicationId'] !== world.applicationId) return undefined;
    return interaction;
  };

  /** Whether the bot may manage webhooks in a channel: @everyone's permissions, then the channel's overwrites for @everyone and the bot. */
  const botMayManageWebhooks = (guildId: string, channel: SimChannel): boolean => {
    const guild = world.guild(guildId);
    let perms = BigInt(guild?.roles.find((r) => r.id === guildId)?.permissions ?? '0');
    for (const o of channel.permissionOverwrites ?? []) {
      if (o.id === guildId || o.id === bot.id) perms = (perms & ~BigInt(o.deny)) | BigInt(o.allow);
    }
    return (perms & MANAGE_WEBHOOKS) !== 0n;
  };

  const webhookPayload = (hook: SimWebhook, withToken: boolean) => ({
    id: hook.id,
    type: 1,
    guild_id: hook.guildId,
    channel_id: hook.channelId,
    name: hook.name,
    avatar: null,
    application_id: world.applicationId,
    user: userPayload(bot),
    ...(withToken ? { token: hook.token } : {}),
  });

  const executeChannelWebhook = (hook: SimWebhook, body: ParsedBody, query: URLSearchParams): RouteResult => {
    const payload = asRecord(body.json);
    const invalid = checkMessage(payload, body.files, true, world.attachmentSizeLimit);
    if (invalid) return invalid;
    const username = typeof payload['username'] === 'string' ? payload['username'] : undefined;
    if (username !== undefined && (username.length > 80 || /discord|clyde/i.test(username))) return discordError(400, 50035, 'Invalid Form Body');
    const message = createMessage(hook.channelId, hook.guildId, payload, body.files);
    const embeds = payload['embeds'];
    const record = {
      id: message.id,
      channelId: hook.channelId,
      content: message.content,
      allowedMentions: payload['allowed_mentions'],
      embeds: Array.isArray(embeds) ? embeds : [],
      files: body.files,
      payload,
      multipart: body.multipart,
      at: performance.now(),
      webhook: { id: hook.id, username, avatarUrl: typeof payload['avatar_url'] === 'string' ? payload['avatar_url'] : undefined },
    };
    records.messages.push(record);
    emit('message', record);
    return query.get('wait') === 'true' ? { status: 200, json: render(message, { webhook: true }) } : { status: 204 };
  };

  const routes: Omit<RestRoute, 'pattern'>[] = [
    {
      method: 'GET',
      route: '/gateway/bot',
      auth: 'bot',
      handle: () => ({
        status: 200,
        json: {
          url: deps.gatewayUrl(),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 14_400_000, max_concurrency: 1 },
        },
      }),
    },
    { method: 'GET', route: '/gateway', auth: 'none', handle: () => ({ status: 200, json: { url: deps.gatewayUrl() } }) },
    { method: 'GET', route: '/applications/@me', auth: 'bot', handle: () => ({ status: 200, json: applicationPayload(world.applicationId, bot) }) },
    {
      method: 'GET',
      route: '/users/@me',
      auth: 'bot',
      handle: () => ({ status: 200, json: { ...userPayload(bot), verified: true, mfa_enabled: false, flags: 0 } }),
    },
    {
      method: 'PUT',
      route: '/applications/:applicationId/commands',
      auth: 'bot',
      handle: ({ params, body }) =>
        params['applicationId'] !== world.applicationId
          ? discordError(403, 50001, 'Missing Access')
          : registerCommands('', null, body.json),
    },
    {
      method: 'GET',
      route: '/applications/:applicationId/commands',
      auth: 'bot',
      handle: () => listCommands('', null),
    },
    {
      method: 'PUT',
      route: '/applications/:applicationId/guilds/:guildId/commands',
      auth: 'bot',
      handle: ({ params, body }) => {
        const guildId = params['guildId'] ?? '';
        if (params['applicationId'] !== world.applicationId || !world.guild(guildId)) {
          return discordError(403, 50001, 'Missing Access');
        }
        return registerCommands(guildId, guildId, body.json);
      },
    },
    {
      method: 'GET',
      route: '/applications/:applicationId/guilds/:guildId/commands',
      auth: 'bot',
      handle: ({ params }) => listCommands(params['guildId'] ?? '', params['guildId'] ?? null),
    },
    {
      method: 'POST',
      route: '/interactions/:interactionId/:token/callback',
      auth: 'none',
      handle: ({ params, body, query }) => {
        const interaction = interactions.get(params['interactionId'] ?? '');
        if (!interaction || interaction.token !== params['token']) return discordError(404, 10062, 'Unknown interaction');
        const now = performance.now();
        const latencyMs = now - interaction.createdAt;
        if (interaction.callbackType !== undefined) {
          return discordError(400, 40060, 'Interaction has already been acknowledged.');
        }
        if (deps.enforceInteractionDeadline && latencyMs > 3000) return discordError(404, 10062, 'Unknown interaction');
        const payload = asRecord(body.json);
        const type = typeof payload['type'] === 'number' ? payload['type'] : -1;
        const data = payload['data'] === undefined ? undefined : asRecord(payload['data']);
        if (data) {
          const invalid = checkMessage(data, body.files, false);
          if (invalid) return invalid;
        }
        interaction.callbackType = type;
        let message: SimMessage | undefined;
        if (type === 4 || type === 5) {
          message = createMessage(interaction.channelId, interaction.guildId, type === 4 ? data ?? {} : {}, body.files, interaction.token);
          interaction.originalMessageId = message.id;
        }
        const withResponse = query.get('with_response') === 'true';
        const record = {
          kind: 'callback' as const,
          interactionId: interaction.id,
          token: interaction.token,
          type,
          data,
          files: body.files,
          withResponse,
          latencyMs,
          at: now,
        };
        records.interactionCallbacks.push(record);
        emit('interactionResponse', record);
        if (!withResponse) return { status: 204 };
        return {
          status: 200,
          json: {
            interaction: {
              id: interaction.id,
              type: 2,
              response_message_id: message?.id,
              response_message_loading: type === 5,
              response_message_ephemeral: (Number(data?.['flags'] ?? 0) & 64) !== 0,
            },
            resource: { type, ...(message ? { message: render(message, { webhook: true, interactionId: interaction.id }) } : {}) },
          },
        };
      },
    },
    {
      method: 'PATCH',
      route: '/webhooks/:applicationId/:token/messages/@original',
      auth: 'none',
      handle: ({ params, body }) => {
        const interaction = webhookInteraction(params);
        if (!interaction) return discordError(404, 10015, 'Unknown Webhook');
        const message = interaction.originalMessageId ? world.messages.get(interaction.originalMessageId) : undefined;
        if (!message) return discordError(404, 10008, 'Unknown Message');
        const payload = asRecord(body.json);
        const invalid = checkMessage(payload, body.files, false);
        if (invalid) return invalid;
        editMessage(message, payload, body.files);
        const record = {
          kind: 'editOriginal' as const,
          applicationId: world.applicationId,
          token: interaction.token,
          interactionId: interaction.id,
          messageId: message.id,
          content: typeof payload['content'] === 'string' ? payload['content'] : undefined,
          files: body.files,
          payload,
          at: performance.now(),
        };
        records.webhookMessages.push(record);
        emit('interactionResponse', record);
        return { status: 200, json: render(message, { webhook: true, interactionId: interaction.id, edited: true }) };
      },
    },
    {
      method: 'DELETE',
      route: '/webhooks/:applicationId/:token/messages/@original',
      auth: 'none',
      handle: ({ params }) => {
        const interaction = webhookInteraction(params);
        if (!interaction) return discordError(404, 10015, 'Unknown Webhook');
        const id = interaction.originalMessageId;
        if (!id || !world.messages.delete(id)) return discordError(404, 10008, 'Unknown Message');
        interaction.originalMessageId = undefined;
        const record = {
          kind: 'deleteOriginal' as const,
          applicationId: world.applicationId,
          token: interaction.token,
          interactionId: interaction.id,
          messageId: id,
          content: undefined,
          files: [],
          payload: {},
          at: performance.now(),
        };
        records.webhookMessages.push(record);
        emit('interactionResponse', record);
        return { status: 204 };
      },
    },
    {
      method: 'PATCH',
      route: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: 'none',
      handle: ({ params, body }) => {
        const interaction = webhookInteraction(params);
        if (!interaction) return discordError(404, 10015, 'Unknown Webhook');
        const message = world.messages.get(params['messageId'] ?? '');
        if (!message || message.webhookToken !== interaction.token) return discordError(404, 10008, 'Unknown Message');
        const payload = asRecord(body.json);
        const invalid = checkMessage(payload, body.files, false);
        if (invalid) return invalid;
        editMessage(message, payload, body.files);
        const record = {
          kind: 'editMessage' as const,
          applicationId: world.applicationId,
          token: interaction.token,
          interactionId: interaction.id,
          messageId: message.id,
          content: typeof payload['content'] === 'string' ? payload['content'] : undefined,
          files: body.files,
          payload,
          at: performance.now(),
        };
        records.webhookMessages.push(record);
        emit('interactionResponse', record);
        return { status: 200, json: render(message, { webhook: true, edited: true }) };
      },
    },
    {
      method: 'POST',
      route: '/webhooks/:applicationId/:token',
      auth: 'none',
      handle: ({ params, body, query }) => {
        const hook = world.webhooks.get(params['applicationId'] ?? '');
        if (hook && hook.token === params['token']) return executeChannelWebhook(hook, body, query);
        const interaction = webhookInteraction(params);
        if (!interaction) return discordError(404, 10015, 'Unknown Webhook');
        if (interaction.callbackType === undefined) return discordError(404, 10015, 'Unknown Webhook');
        const payload = asRecord(body.json);
        const invalid = checkMessage(payload, body.files, true);
        if (invalid) return invalid;
        const message = createMessage(interaction.channelId, interaction.guildId, payload, body.files, interaction.token);
        const record = {
          kind: 'followUp' as const,
          applicationId: world.applicationId,
          token: interaction.token,
          interactionId: interaction.id,
          messageId: message.id,
          content: message.content,
          files: body.files,
          payload,
          at: performance.now(),
        };
        records.webhookMessages.push(record);
        emit('interactionResponse', record);
        return query.get('wait') === 'true' ? { status: 200, json: render(message, { webhook: true }) } : { status: 204 };
      },
    },
    {
      method: 'GET',
      route: '/channels/:channelId',
      auth: 'bot',
      handle: ({ params }) => {
        const found = world.channel(params['channelId'] ?? '');
        return found ? { status: 200, json: channelPayload(found.channel, found.guild.id) } : discordError(404, 10003, 'Unknown Channel');
      },
    },
    {
      method: 'POST',
      route: '/channels/:channelId/messages',
      auth: 'bot',
      handle: ({ params, body }) => {
        const found = world.channel(params['channelId'] ?? '');
        if (!found) return discordError(404, 10003, 'Unknown Channel');
        if (found.channel.type === ChannelKind.Category) return discordError(400, 50008, 'Cannot send messages in a non-text channel');
        const payload = asRecord(body.json);
        const invalid = checkMessage(payload, body.files, true, world.attachmentSizeLimit);
        if (invalid) return invalid;
        const message = createMessage(found.channel.id, found.guild.id, payload, body.files);
        const embeds = payload['embeds'];
        const record = {
          id: message.id,
          channelId: found.channel.id,
          content: message.content,
          allowedMentions: payload['allowed_mentions'],
          embeds: Array.isArray(embeds) ? embeds : [],
          files: body.files,
          payload,
          multipart: body.multipart,
          at: performance.now(),
        };
        records.messages.push(record);
        emit('message', record);
        return { status: 200, json: render(message) };
      },
    },
    {
      method: 'POST',
      route: '/channels/:channelId/webhooks',
      auth: 'bot',
      handle: ({ params, body }) => {
        const found = world.channel(params['channelId'] ?? '');
        if (!found) return discordError(404, 10003, 'Unknown Channel');
        if (!botMayManageWebhooks(found.guild.id, found.channel)) return discordError(403, 50013, 'Missing Permissions');
        const name = asRecord(body.json)['name'];
        if (typeof name !== 'string' || name.length === 0 || name.length > 80) return discordError(400, 50035, 'Invalid Form Body');
        const hook: SimWebhook = { id: world.ids.next(), token: randomHex(68), channelId: found.channel.id, guildId: found.guild.id, name };
        world.webhooks.set(hook.id, hook);
        return { status: 200, json: webhookPayload(hook, true) };
      },
    },
    {
      method: 'GET',
      route: '/channels/:channelId/webhooks',
      auth: 'bot',
      handle: ({ params }) => {
        const found = world.channel(params['channelId'] ?? '');
        if (!found) return discordError(404, 10003, 'Unknown Channel');
        if (!botMayManageWebhooks(found.guild.id, found.channel)) return discordError(403, 50013, 'Missing Permissions');
        return { status: 200, json: [...world.webhooks.values()].filter((h) => h.channelId === found.channel.id).map((h) => webhookPayload(h, true)) };
      },
    },
    {
      method: 'PATCH',
      route: '/channels/:channelId/messages/:messageId',
      auth: 'bot',
      handle: ({ params, body }) => {
        const message = world.messages.get(params['messageId'] ?? '');
        if (!message || message.channelId !== params['channelId'] || message.webhookToken) {
          return discordError(404, 10008, 'Unknown Message');
        }
        const payload = asRecord(body.json);
        const invalid = checkMessage(payload, body.files, false);
        if (invalid) return invalid;
        editMessage(message, payload, body.files);
        const record = {
          channelId: message.channelId,
          messageId: message.id,
          content: typeof payload['content'] === 'string' ? payload['content'] : undefined,
          files: body.files,
          payload,
          at: performance.now(),
        };
        records.messageEdits.push(record);
        emit('messageEdit', record);
        return { status: 200, json: render(message, { edited: true }) };
      },
    },
    {
      method: 'DELETE',
      route: '/channels/:channelId/messages/:messageId',
      auth: 'bot',
      handle: ({ params }) => {
        const message = world.messages.get(params['messageId'] ?? '');
        if (!message || message.channelId !== params['channelId']) return discordError(404, 10008, 'Unknown Message');
        world.messages.delete(message.id);
        return { status: 204 };
      },
    },
    {
      method: 'PATCH',
      route: '/guilds/:guildId/members/@me',
      auth: 'bot',
      handle: ({ params, body }) => {
        const guild = world.guild(params['guildId'] ?? '');
        const member = guild?.members.get(bot.id);
        if (!guild || !member) return discordError(404, 10004, 'Unknown Guild');
        const nick = asRecord(body.json)['nick'];
        if (nick !== undefined && nick !== null && typeof nick !== 'string') return discordError(400, 50035, 'Invalid Form Body');
        if (typeof nick === 'string' && nick.length > 32) return discordError(400, 50035, 'Invalid Form Body');
        member.nick = typeof nick === 'string' && nick.length > 0 ? nick : null;
        const record = { guildId: guild.id, nick: member.nick, at: performance.now() };
        records.nicknames.push(record);
        return { status: 200, json: memberPayload(member) };
      },
    },
    {
      method: 'GET',
      route: '/guilds/:guildId/members/:userId',
      auth: 'bot',
      handle: ({ params }) => {
        const guild = world.guild(params['guildId'] ?? '');
        if (!guild) return discordError(404, 10004, 'Unknown Guild');
        const member = guild.members.get(params['userId'] ?? '');
        return member ? { status: 200, json: memberPayload(member) } : discordError(404, 10007, 'Unknown Member');
      },
    },
    {
      // Get User Voice State (GET /guilds/{guild.id}/voice-states/{user.id}); 10065 when the user is not in voice.
      method: 'GET',
      route: '/guilds/:guildId/voice-states/:userId',
      auth: 'bot',
      handle: ({ params }) => {
        const guild = world.guild(params['guildId'] ?? '');
        if (!guild) return discordError(404, 10004, 'Unknown Guild');
        const state = guild.voiceStates.get(params['userId'] ?? '');
        return state ? { status: 200, json: { ...baseVoiceStatePayload(state), guild_id: guild.id } } : discordError(404, 10065, 'Unknown Voice State');
      },
    },
    {
      method: 'GET',
      route: '/guilds/:guildId/roles',
      auth: 'bot',
      handle: ({ params }) => {
        const guild = world.guild(params['guildId'] ?? '');
        return guild ? { status: 200, json: guild.roles.map(rolePayload) } : discordError(404, 10004, 'Unknown Guild');
      },
    },
    {
      method: 'GET',
      route: '/guilds/:guildId/channels',
      auth: 'bot',
      handle: ({ params }) => {
        const guild = world.guild(params['guildId'] ?? '');
        return guild
          ? { status: 200, json: guild.channels.map((c) => channelPayload(c, guild.id)) }
          : discordError(404, 10004, 'Unknown Guild');
      },
    },
  ];
  return routes.map((r) => ({ ...r, pattern: compile(r.route) }));
}
