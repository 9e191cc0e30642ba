import type { API } from '@discordjs/core';
import { DiscordAPIError } from '@discordjs/rest';
import type { LineAuthor } from '../transcribe/ChannelPoster.js';
import type { Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';

/** Name of the webhook tinyscribe creates (and reuses) in a posting channel. */
export const WEBHOOK_NAME = 'tinyscribe';

type Hook = { readonly id: string; readonly token: string } | 'unavailable';

/**
 * Posts lines under the speaker's name and avatar through one channel webhook per posting channel, found or
 * created on first use. A channel where that is refused (no Manage Webhooks) is remembered as unavailable,
 * and the caller falls back to plain messages. Only channels of running sessions are kept.
 */
export class ChannelWebhooks {
  private readonly hooks = new Map<string, Promise<Hook>>();

  constructor(
    private readonly api: API,
    private readonly applicationId: () => string | undefined,
    private readonly logger: Logger,
  ) {}

  /** Sends `content` as `author`; resolves false when the channel has no usable webhook (send it plainly). */
  async send(channelId: string, author: LineAuthor, content: string): Promise<boolean> {
    const hook = await this.hookFor(channelId);
    if (hook === 'unavailable') return false;
    try {
      await this.api.webhooks.execute(hook.id, hook.token, {
        content,
        username: author.name.slice(0, 80),
        ...(author.avatarUrl ? { avatar_url: author.avatarUrl } : {}),
        allowed_mentions: { parse: [] },
      });
      return true;
    } catch (error) {
      if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) {
        // Deleted or taken away meanwhile: fall back for this channel.
        this.hooks.set(channelId, Promise.resolve('unavailable'));
        this.logger.warn('channel webhook is gone; posting plain messages', { channelId, error: errorMessage(error) });
        return false;
      }
      throw error;
    }
  }

  /** Forgets a channel (its session ended). */
  forget(channelId: string): void {
    this.hooks.delete(channelId);
  }

  private hookFor(channelId: string): Promise<Hook> {
    let hook = this.hooks.get(channelId);
    if (!hook) {
      hook = this.findOrCreate(channelId);
      this.hooks.set(channelId, hook);
    }
    return hook;
  }

  private async findOrCreate(channelId: string): Promise<Hook> {
    try {
      const existing = (await this.api.channels.getWebhooks(channelId)).find(
        (h) => h.name === WEBHOOK_NAME && h.token && (h.application_id ?? undefined) === this.applicationId(),
      );
      if (existing?.token) return { id: existing.id, token: existing.token };
      const created = await this.api.channels.createWebhook(channelId, { name: WEBHOOK_NAME });
      if (!created.token) return 'unavailable';
      return { id: created.id, token: created.token };
    } catch (error) {
      this.logger.warn('cannot use a webhook in this channel; posting plain messages', { channelId, error: errorMessage(error) });
      return 'unavailable';
    }
  }
}
