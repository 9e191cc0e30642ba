import type { API } from '@discordjs/core';
import { DiscordAPIError } from '@discordjs/rest';
import type { LineAuthor } from '../transcribe/ChannelPoster.js';
import type { Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';
import { webhookUsername } from './webhookUsername.js';

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

  /**
   * Sends `content` as `author`; resolves false when it should be sent plainly instead: the channel has no
   * usable webhook, or Discord refused this one message (a 4xx other than a rate limit). Refused messages are
   * not retried through the webhook, since the same request would be refused again.
   */
  async send(channelId: string, author: LineAuthor, content: string): Promise<boolean> {
    const hook = await this.hookFor(channelId);
    if (hook === 'unavailable') return false;
    try {
      await this.api.webhooks.execute(hook.id, hook.token, {
        content,
        username: webhookUsername(author.name),
        ...(author.avatarUrl ? { avatar_url: author.avatarUrl } : {}),
        allowed_mentions: { parse: [] },
      });
      return true;
    } catch (error) {
      if (!(error instanceof DiscordAPIError) || error.status < 400 || error.status >= 500 || error.status === 429) throw error;
      if (error.status === 404 || error.status === 403 || error.status === 401) {
        // Deleted or taken away meanwhile: fall back for this channel.
        this.hooks.set(channelId, Promise.resolve('unavailable'));
        this.logger.warn('channel webhook is gone; posting plain messages', { channelId, error: errorMessage(error) });
        return false;
      }
      // Something in this message (a name, an avatar URL) was refused: this batch goes out plainly, the hook stays.
      this.logger.warn('webhook refused a message; posting it plainly', { channelId, status: error.status, code: error.code, error: errorMessage(error) });
      return false;
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
