import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API, type APIInteraction } from '@discordjs/core';
import { REST } from '@discordjs/rest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CommandRouter, type CommandHandler } from '../../src/commands/CommandRouter.js';
import { systemClock } from '../../src/util/Clock.js';
import { createLogger } from '../../src/util/logger.js';
import { Metrics } from '../../src/util/Metrics.js';

const APP_ID = '1180000000000000001';
const GUILD_ID = '1180000000000000002';
const CHANNEL_ID = '1180000000000000003';
const USER_ID = '1180000000000000004';

interface RecordedRequest {
  readonly method: string;
  /** Path as sent, before URL-decoding (so `%40original` stays visible). */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  /** Milliseconds since the test's interaction was handed to the router. */
  readonly at: number;
}

/**
 * A loopback stand-in for Discord's REST API: records each request and answers the two interaction routes
 * the router uses (204 for callbacks, 200 + message JSON for editing @original), 404 for anything else.
 */
class FakeDiscordRest {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private startedAt = performance.now();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '';
        this.requests.push({
          method: req.method ?? '',
          path,
          headers: req.headers,
          body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
          at: performance.now() - this.startedAt,
        });
        if (req.method === 'POST' && /^\/api\/v10\/interactions\/\d+\/[^/]+\/callback$/.test(path)) {
          res.writeHead(204).end();
          return;
        }
        const edit = /^\/api\/v10\/webhooks\/(\d+)\/[^/]+\/messages\/%40original$/.exec(path);
        if (req.method === 'PATCH' && edit) {
          const body = JSON.parse(raw) as { content?: string };
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              id: '1180000000000000999',
              channel_id: CHANNEL_ID,
              author: { id: edit[1], username: 'tinyscribe', discriminator: '0', avatar: null, global_name: null, bot: true },
              content: body.content ?? '',
              timestamp: new Date().toISOString(),
              edited_timestamp: null,
              tts: false,
              mention_everyone: false,
              mentions: [],
              mention_roles: [],
              attachments: [],
              embeds: [],
              pinned: false,
              type: 20,
            }),
          );
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, message: '404: Not Found' }));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api`;
  }

  /** Forgets earlier requests and restarts the request clock. */
  reset(): void {
    this.requests.length = 0;
    this.startedAt = performance.now();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let interactionCounter = 0;

/** A guild chat-command INTERACTION_CREATE (discord-protocol.md §2.2) with a fresh id and token. */
function interaction(name: string): { payload: APIInteraction; id: string; token: string } {
  interactionCounter++;
  const id = `11800000000000${String(10_000 + interactionCounter)}`;
  const token = `interaction-token-${interactionCounter}`;
  const payload = {
    id,
    application_id: APP_ID,
    type: 2,
    token,
    version: 1,
    guild_id: GUILD_ID,
    channel_id: CHANNEL_ID,
    channel: { id: CHANNEL_ID, type: 0 },
    member: {
      user: { id: USER_ID, username: 'alice', discriminator: '0', global_name: 'Alice', avatar: null },
      roles: [],
      permissions: '2147483647',
      joined_at: '2024-01-01T00:00:00.000Z',
      deaf: false,
      mute: false,
    },
    data: { id: '1180000000000000050', name, type: 1 },
    app_permissions: '2147483647',
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
    attachment_size_limit: 10_485_760,
  };
  return { payload: JSON.parse(JSON.stringify(payload)) as APIInteraction, id, token };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('CommandRouter against a real REST client on loopback', () => {
  const discord = new FakeDiscordRest();
  let rest: REST;
  let api: API;
  let metrics: Metrics;
  let logs: { level: string; msg: string; [key: string]: unknown }[];

  beforeAll(async () => {
    const base = await discord.listen();
    rest = new REST({ api: base, retries: 0, timeout: 5000 }).setToken('bot-token-not-used-by-interaction-routes');
    api = new API(rest);
  });

  afterAll(async () => {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
    await discord.close();
  });

  beforeEach(() => {
    discord.reset();
    metrics = new Metrics();
    logs = [];
  });

  function router(deferAfterMs = 2000): CommandRouter {
    return new CommandRouter({
      api,
      clock: systemClock,
      metrics,
      deferAfterMs,
      logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as (typeof logs)[number]) }),
    });
  }

  it('answers a quick handler with one type 4 callback and no mentions', async () => {
    const seen: string[] = [];
    const handler: CommandHandler = async (inv) => {
      seen.push(`${inv.name} by ${inv.userId} in ${inv.guildId}`);
      return { content: 'Joined **General**; transcript goes here. @everyone' };
    };
    const { payload, id, token } = interaction('join');
    await router().register('join', handler).handle(payload);

    expect(seen).toEqual([`join by ${USER_ID} in ${GUILD_ID}`]);
    expect(discord.requests).toHaveLength(1);
    const [request] = discord.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/api/v10/interactions/${id}/${token}/callback`);
    // Interaction callbacks are authenticated by their token, not the bot token.
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.body).toEqual({
      type: 4,
      data: { content: 'Joined **General**; transcript goes here. @everyone', allowed_mentions: { parse: [] } },
    });
    expect(metrics.get('commands_total')).toBe(1);
    expect(metrics.get('commands_failed_total')).toBe(0);
  });

  it('marks an ephemeral reply with flags 64', async () => {
    const { payload } = interaction('leave');
    await router()
      .register('leave', async () => ({ content: 'I am not in a voice channel.', ephemeral: true }))
      .handle(payload);
    expect(discord.requests.map((r) => r.body)).toEqual([
      { type: 4, data: { content: 'I am not in a voice channel.', allowed_mentions: { parse: [] }, flags: 64 } },
    ]);
  });

  it('defers a slow handler first, then edits the original reply with the result', async () => {
    const { payload, id, token } = interaction('join');
    let handlerDoneAt = 0;
    const started = performance.now();
    await router(50)
      .register('join', async () => {
        await sleep(200);
        handlerDoneAt = performance.now() - started;
        return { content: 'Joined after a while.' };
      })
      .handle(payload);

    expect(discord.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /api/v10/interactions/${id}/${token}/callback`,
      `PATCH /api/v10/webhooks/${APP_ID}/${token}/messages/%40original`,
    ]);
    const [defer, edit] = discord.requests;
    expect(defer!.body).toEqual({ type: 5, data: {} });
    // The defer went out while the handler was still working, not after it.
    expect(defer!.at).toBeLessThan(handlerDoneAt);
    expect(defer!.at).toBeGreaterThanOrEqual(45);
    expect(edit!.body).toEqual({ content: 'Joined after a while.', allowed_mentions: { parse: [] } });
    expect(edit!.headers.authorization).toBeUndefined();
    expect(metrics.get('commands_failed_total')).toBe(0);
  });

  it('turns a throwing handler into an ephemeral error reply and counts it', async () => {
    const { payload } = interaction('join');
    await router()
      .register('join', async () => {
        throw new Error('You are not in a voice channel I can see');
      })
      .handle(payload);
    expect(discord.requests).toHaveLength(1);
    const body = discord.requests[0]!.body as { type: number; data: { content: string; flags?: number; allowed_mentions: unknown } };
    expect(body.type).toBe(4);
    expect(body.data.flags).toBe(64);
    expect(body.data.allowed_mentions).toEqual({ parse: [] });
    expect(body.data.content).toContain('You are not in a voice channel I can see');
    expect(metrics.get('commands_failed_total')).toBe(1);
    expect(logs.some((l) => l.level === 'error' && l.command === 'join' && l.guildId === GUILD_ID)).toBe(true);
  });

  it('reports an error from a slow handler by editing the deferred reply', async () => {
    const { payload, token } = interaction('join');
    await router(50)
      .register('join', async () => {
        await sleep(150);
        throw new Error('voice connection timed out');
      })
      .handle(payload);
    expect(discord.requests.map((r) => r.method)).toEqual(['POST', 'PATCH']);
    expect(discord.requests[1]!.path).toBe(`/api/v10/webhooks/${APP_ID}/${token}/messages/%40original`);
    expect((discord.requests[1]!.body as { content: string }).content).toContain('voice connection timed out');
    expect(metrics.get('commands_failed_total')).toBe(1);
  });

  it('answers an unknown command with an ephemeral message', async () => {
    const { payload } = interaction('dance');
    await router().register('join', async () => ({ content: 'never' })).handle(payload);
    expect(discord.requests).toHaveLength(1);
    const body = discord.requests[0]!.body as { type: number; data: { content: string; flags?: number } };
    expect(body.type).toBe(4);
    expect(body.data.flags).toBe(64);
    expect(body.data.content).toContain('/dance');
  });

  it('refuses commands after stopAccepting() without running the handler', async () => {
    let ran = false;
    const r = router().register('join', async () => {
      ran = true;
      return { content: 'joined' };
    });
    r.stopAccepting();
    const { payload } = interaction('join');
    await r.handle(payload);
    expect(ran).toBe(false);
    expect(discord.requests).toHaveLength(1);
    const body = discord.requests[0]!.body as { type: number; data: { content: string; flags?: number } };
    expect(body.type).toBe(4);
    expect(body.data.flags).toBe(64);
    expect(body.data.content).toMatch(/restarting/);
  });

  it('sends nothing for an interaction it does not handle (autocomplete)', async () => {
    const { payload } = interaction('join');
    const autocomplete = { ...payload, type: 4 } as unknown as APIInteraction;
    await router().register('join', async () => ({ content: 'never' })).handle(autocomplete);
    expect(discord.requests).toEqual([]);
    expect(metrics.get('commands_total')).toBe(0);
  });

  it('answers a command whose options it cannot read with an ephemeral error, without running the handler', async () => {
    let ran = false;
    const { payload, id, token } = interaction('join');
    const malformed = { ...payload, data: { ...payload.data, options: [null] } };
    await router()
      .register('join', async () => ((ran = true), { content: 'joined' }))
      .handle(malformed);
    expect(ran).toBe(false);
    expect(discord.requests.map((r) => r.path)).toEqual([`/api/v10/interactions/${id}/${token}/callback`]);
    const body = discord.requests[0]!.body as { type: number; data: { content: string; flags?: number } };
    expect(body.type).toBe(4);
    expect(body.data.flags).toBe(64);
    expect(body.data.content).toContain('malformed options');
    expect(metrics.get('interactions_malformed_total')).toBe(1);
    expect(logs.some((l) => l.level === 'warn' && l.msg === 'malformed interaction' && l.reason === 'malformed options')).toBe(true);
  });

  it('never rejects, even when reading the payload throws', async () => {
    const hostile = {
      get type(): number {
        throw new TypeError('boom while reading type');
      },
    };
    await expect(router().handle(hostile)).resolves.toBeUndefined();
    expect(discord.requests).toEqual([]);
    expect(metrics.get('commands_failed_total')).toBe(1);
    expect(logs.some((l) => l.level === 'error' && l.msg === 'interaction handling failed')).toBe(true);
  });
});

