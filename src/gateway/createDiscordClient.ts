import { REST } from '@discordjs/rest';
import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import { Client, GatewayIntentBits } from '@discordjs/core';
import type { Logger } from '../util/logger.js';

/** Only what a voice transcription bot needs: guilds (for channels) and voice states. No privileged intents. */
export const GATEWAY_INTENTS = GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates; // 129

export interface DiscordClientOptions {
  readonly token: string;
  /** Base of the REST API, e.g. https://discord.com/api (the simulator serves another). */
  readonly apiUrl: string;
  readonly logger: Logger;
}

/** The three objects that talk to Discord. Nothing here caches guilds, members or messages. */
export interface DiscordClient {
  readonly rest: REST;
  readonly gateway: WebSocketManager;
  readonly client: Client;
}

/** Builds REST + one-shard gateway + core client, uncompressed JSON, intents 129, no caches. */
export function createDiscordClient(options: DiscordClientOptions): DiscordClient {
  const rest = new REST({ version: '10', api: options.apiUrl }).setToken(options.token);
  const gateway = new WebSocketManager({
    token: options.token,
    intents: GATEWAY_INTENTS,
    rest,
    // One shard is plenty for a self-hosted bot; a large guild count changes nothing here because we keep no cache.
    shardCount: 1,
    // Ask Discord not to send member lists: we never need them.
    largeThreshold: 50,
  });
  const client = new Client({ rest, gateway });
  const log = options.logger.child({ component: 'gateway' });
  gateway.on(WebSocketShardEvents.Closed, (code: number) => log.warn('gateway closed', { code }));
  gateway.on(WebSocketShardEvents.Resumed, () => log.info('gateway resumed'));
  gateway.on(WebSocketShardEvents.Error, (error: Error) => log.error('gateway error', { error }));
  rest.on('rateLimited', (info) => log.warn('REST rate limited', { route: info.route, retryAfterMs: info.retryAfter }));
  return { rest, gateway, client };
}
