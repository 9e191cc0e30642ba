import { DiscordAPIError } from '@discordjs/rest';
import type { Clock, TimerHandle } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { namePrefix } from './formatLine.js';

/** Discord's limit on message content. */
export const MAX_MESSAGE_CHARS = 2000;

/** Who a line is posted as in webhook mode (the speaker's name and avatar). */
export interface LineAuthor {
  readonly name: string;
  readonly avatarUrl?: string | undefined;
}

/**
 * Sends one message's content to a channel (REST in production), as `author` when given (webhook mode).
 * Mentions must be disabled by the sender.
 */
export type SendMessage = (channelId: string, content: string, author?: LineAuthor) => Promise<void>;

/**
 * What became of one posted line:
 * - `sent`: Discord accepted the message that carries it;
 * - `refused`: Discord refused that message for good (a 4xx other than 429: the channel is gone, the bot may not
 *   post there, the form is invalid); the same request would be refused again;
 * - `failed`: not sent although it might be later (attempts used up on 429/5xx/network errors, or dropped from an
 *   overflowing queue).
 */
export type PostResult = 'sent' | 'refused' | 'failed';

export interface ChannelPosterOptions {
  readonly send: SendMessage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** At most one message per channel per this many ms (Discord allows about 5 per 5 s per channel). */
  readonly minIntervalMs?: number;
  /** Lines waiting per channel before the oldest are merged away (bounded memory under a flood). */
  readonly maxQueuedLines?: number;
  /** Send attempts per message before it is given up (REST already retries 429 and 5xx itself). */
  readonly maxAttempts?: number;
}

interface QueuedLine {
  readonly text: string;
  readonly author: LineAuthor | undefined;
  /** Settles the promise post() returned; one closure per queued line, so bounded by maxQueuedLines. */
  readonly done: (result: PostResult) => void;
}

interface ChannelQueue {
  lines: QueuedLine[];
  timer: TimerHandle | undefined;
  sending: boolean;
  lastSentAt: number;
}

/**
 * Posts transcript lines live, batching them per channel: lines that arrive while a message is
 * on its way are merged into the next one (split at line boundaries under 2,000 characters),
 * and each channel gets at most one message per `minIntervalMs`, so a burst never becomes a 429 loop.
 */
export class ChannelPoster {
  private readonly queues = new Map<string, ChannelQueue>();
  private readonly minIntervalMs: number;
  private readonly maxQueuedLines: number;
  private readonly maxAttempts: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ChannelPosterOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 1100;
    this.maxQueuedLines = options.maxQueuedLines ?? 500;
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  /**
   * Queues one line (already formatted and escaped) for a channel. Lines with an author (webhook mode) are
   * merged only with the same author's neighbouring lines, so each message carries one speaker's name.
   * Resolves once the line's fate is known (see {@link PostResult}); never rejects, so callers that only queue a
   * line may ignore it, while the spool drainer waits for `sent` before it deletes the audio.
   */
  post(channelId: string, line: string, author?: LineAuthor): Promise<PostResult> {
    let queue = this.queues.get(channelId);
    if (!queue) {
      queue = { lines: [], timer: undefined, sending: false, lastSentAt: 0 };
      this.queues.set(channelId, queue);
    }
    const result = new Promise<PostResult>((done) => {
      queue.lines.push({ text: truncate(line, Math.max(1, MAX_MESSAGE_CHARS - fallbackOverhead(author))), author, done });
    });
    if (queue.lines.length > this.maxQueuedLines) {
      // 'failed', not 'refused': Discord never saw the line, so a caller that can (the spool drainer) tries it again.
      queue.lines.shift()!.done('failed');
      this.options.metrics.inc('posts_dropped_lines_total');
    }
    this.schedule(channelId, queue);
    return result;
  }

  /** Resolves when every queued line has been sent (or given up). */
  async idle(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Lines waiting across all channels. */
  get pendingLines(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.lines.length;
    return n;
  }

  private isIdle(): boolean {
    for (const q of this.queues.values()) if (q.lines.length > 0 || q.sending) return false;
    return true;
  }

  private schedule(channelId: string, queue: ChannelQueue): void {
    if (queue.sending || queue.timer) return;
    const wait = Math.max(0, queue.lastSentAt + this.minIntervalMs - this.options.clock.now());
    queue.timer = this.options.clock.setTimeout(() => {
      queue.timer = undefined;
      void this.flush(channelId, queue);
    }, wait);
  }

  private async flush(channelId: string, queue: ChannelQueue): Promise<void> {
    if (queue.lines.length === 0) return this.settle(channelId, queue);
    const author = queue.lines[0]?.author;
    const taken = takeMessage(queue.lines);
    const content = taken.map((l) => l.text).join('\n');
    queue.sending = true;
    let result: PostResult = 'failed';
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.send(channelId, content, author);
        this.options.metrics.inc('posts_sent_total');
        result = 'sent';
        break;
      } catch (error) {
        // Discord refusing the request itself (400 Invalid Form Body, 403, 404) would refuse it again.
        const permanent = isPermanent(error);
        if (permanent || attempt >= this.maxAttempts) {
          this.options.metrics.inc('posts_failed_total');
          this.options.logger.error('could not post transcript lines', { channelId, error, attempts: attempt, permanent });
          result = permanent ? 'refused' : 'failed';
          break;
        }
        // A retry is a send too: keep the channel's pace instead of hammering a channel that just refused.
        await new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, this.minIntervalMs));
      }
    }
    queue.sending = false;
    queue.lastSentAt = this.options.clock.now();
    for (const line of taken) line.done(result);
    if (queue.lines.length > 0) this.schedule(channelId, queue);
    else this.settle(channelId, queue);
  }

  private settle(channelId: string, queue: ChannelQueue): void {
    if (queue.lines.length === 0 && !queue.sending && !queue.timer) {
      // Forgetting the queue forgets lastSentAt: keep it until the interval is over, or the next line would go out at once.
      if (this.options.clock.now() - queue.lastSentAt < this.minIntervalMs) this.schedule(channelId, queue);
      else this.queues.delete(channelId);
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

function truncate(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * Characters a line gains when an authored (webhook-mode) message falls back to a plain one: the sender then
 * puts `**Name**: ` before every line. Messages are measured as they would be sent plainly, so the fallback
 * stays within Discord's limit too (a webhook message is a little shorter than it could be; nothing is lost).
 */
function fallbackOverhead(author: LineAuthor | undefined): number {
  return author ? namePrefix(author.name).length : 0;
}

/** Removes from `lines` (not empty) as many whole lines of the first line's author as fit in one message. */
function takeMessage(lines: QueuedLine[]): QueuedLine[] {
  const first = lines.shift()!;
  const overhead = fallbackOverhead(first.author);
  const taken = [first];
  let plainLength = first.text.length + overhead;
  while (lines.length > 0 && sameAuthor(lines[0]!.author, first.author) && plainLength + 1 + overhead + lines[0]!.text.length <= MAX_MESSAGE_CHARS) {
    const next = lines.shift()!;
    taken.push(next);
    plainLength += 1 + overhead + next.text.length;
  }
  return taken;
}

/** A 4xx other than a rate limit: the same request would be refused again. */
function isPermanent(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.status >= 400 && error.status < 500 && error.status !== 429;
}

function sameAuthor(a: LineAuthor | undefined, b: LineAuthor | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.name === b.name && a.avatarUrl === b.avatarUrl);
}
