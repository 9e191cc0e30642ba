import type { Clock, TimerHandle } from '../util/Clock.js';
import { systemClock } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { segmentRejectionReason } from './failureText.js';
import { isRetryable, isServiceFault } from './isRetryable.js';
import { ServiceFaultNotice } from './ServiceFaultNotice.js';
import type { Spool, SpoolEntry } from './Spool.js';
import type { SpoolFileSegment } from './SpoolFileSegment.js';
import type { Transcriber } from './Transcriber.js';
import type { HallucinationCheck, PipelineWarning, Transcript, TranscriptListener, WarningListener } from './TranscriptEvents.js';

/** Defaults of {@link SpoolDrainerOptions}. */
export const SPOOL_DRAINER_DEFAULTS = {
  initialBackoffMs: 2_000,
  /** A dead server costs one request a minute; a kick() from a live success ends the wait at once. */
  maxBackoffMs: 60_000,
  maxStrikes: 3,
  closeDeadlineMs: 5_000,
} as const;

export interface SpoolDrainerOptions {
  readonly spool: Spool;
  readonly transcriber: Transcriber;
  /**
   * Same callback as the live pipeline's; called with `fromSpool: true` and the original startedAt. The entry is
   * deleted only once the promise it returns resolves (the line is in Discord, or dropped on purpose).
   */
  readonly onTranscript: TranscriptListener;
  /** Returns true for texts to drop. Default: keep everything that is not blank. */
  readonly isHallucination?: HallucinationCheck;
  readonly onWarning?: WarningListener;
  /** Told of service faults and successes; pass the pipeline's so that both make one episode. Default: a private one. */
  readonly serviceNotice?: Pick<ServiceFaultNotice, 'report' | 'recovered'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** First wait after a failed upload; doubles per failure. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * An entry that fails retryably this many times although the server proved healthy in between (a live
   * upload succeeded: kick()) is quarantined, so one poisonous file cannot block the queue forever.
   */
  readonly maxStrikes?: number;
}

type Outcome = 'next' | 'backoff' | 'stopped';

/** A transcript handed over but not delivered yet, kept so that a retry neither re-uploads the audio nor re-appends the file. */
interface Undelivered {
  readonly name: string;
  readonly transcript: Transcript;
}

const noop = (): void => {};

/*
 * Design note, the life of a spool entry (see also Spool.ts):
 *
 *   oldest entry ─▶ transcribe ─┬─ failed (outage, service fault) ──▶ kept, backoff (2 s doubling to 60 s)
 *                               ├─ rejected (400, 413…) ─────────────▶ deleted, warned
 *                               ├─ blank / hallucination ────────────▶ deleted (dropped on purpose)
 *                               └─ text ─▶ onTranscript(…) ─▶ promise ─┬─ resolved: Discord accepted the message
 *                                                                      │  carrying the line, or it was dropped on
 *                                                                      │  purpose (opted-out speaker, channel that
 *                                                                      │  refuses it for good) ──▶ deleted
 *                                                                      └─ rejected: not posted (yet) ──▶ kept, the
 *                                                                         text cached, backoff; the retry re-posts
 *                                                                         the cached text (no new upload) marked
 *                                                                         `redelivered`, so the transcript file
 *                                                                         gets the line once
 *
 * At-least-once: the file is deleted only AFTER Discord took the line. A crash (SIGKILL, OOM) between Discord's
 * answer and the unlink, or a shutdown that gives up waiting for a rate-limited channel while the message still goes
 * out, leaves the entry on disk, and the next process posts that line a second time. A line posted twice is the
 * accepted price; a line lost is not. Such a repeat reaches the channel only: after a restart the session (and its
 * transcript file) is gone, and spooled lines of finished sessions are only posted.
 */

/**
 * Uploads spooled segments one at a time, oldest first: at start(), when told something was spooled
 * (notify(), after the current backoff), and immediately when a live upload succeeds (kick()).
 * While uploads fail it backs off exponentially (capped) on the injected clock. On success it hands the
 * transcript to `onTranscript` (fromSpool: true) and deletes the entry once that delivered it (see the design
 * note above). A service fault (rejected key, wrong URL, unparseable answer) keeps the entry and backs off like an
 * outage, so fixing the setup transcribes the backlog; it is reported to the ServiceFaultNotice. Only a failure
 * about the recording itself (400, 413…) deletes the entry (counted and warned), since sending it again cannot help.
 */
export class SpoolDrainer {
  private readonly spool: Spool;
  private readonly transcriber: Transcriber;
  private readonly onTranscript: TranscriptListener;
  private readonly isHallucination: HallucinationCheck;
  private readonly onWarning: WarningListener;
  private readonly serviceNotice: Pick<ServiceFaultNotice, 'report' | 'recovered'>;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxStrikes: number;

  private failures = 0;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private closed = false;
  private kickedSinceFailure = false;
  private strikeName: string | undefined;
  private strikes = 0;
  /** One slot: entries are delivered one at a time, so at most one transcript waits for Discord. */
  private undelivered: Undelivered | undefined;

  constructor(options: SpoolDrainerOptions) {
    this.spool = options.spool;
    this.transcriber = options.transcriber;
    this.onTranscript = options.onTranscript;
    this.isHallucination = options.isHallucination ?? (() => false);
    this.onWarning = options.onWarning ?? noop;
    this.serviceNotice = options.serviceNotice ?? new ServiceFaultNotice({ onWarning: this.onWarning, logger: options.logger });
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.initialBackoffMs = options.initialBackoffMs ?? SPOOL_DRAINER_DEFAULTS.initialBackoffMs;
    this.maxBackoffMs = options.maxBackoffMs ?? SPOOL_DRAINER_DEFAULTS.maxBackoffMs;
    this.maxStrikes = options.maxStrikes ?? SPOOL_DRAINER_DEFAULTS.maxStrikes;
    const m = this.metrics;
    m.define('spool_uploaded_total', 'counter', 'Spooled segments uploaded and delivered (or filtered)');
    m.define('spool_upload_failures_total', 'counter', 'Failed upload attempts of spooled segments');
    m.define('segments_filtered_total', 'counter', 'Transcripts dropped as hallucinations or blank');
    m.define('segments_failed_total', 'counter', 'Segments the server rejected for good (not retried)');
    m.define('spool_delivery_failures_total', 'counter', 'Spooled transcripts Discord did not take; their entries were kept');
  }

  /** Starts draining now (what an earlier process left, after a crash or redeploy). */
  start(): void {
    this.runNow();
  }

  /** A live upload succeeded: the server answers again, so forget the backoff and drain now. */
  kick(): void {
    if (this.closed) return;
    this.kickedSinceFailure = true;
    this.failures = 0;
    this.runNow();
  }

  /** Something was spooled: make sure a drain is scheduled (after the current backoff, the server may be down). */
  notify(): void {
    if (this.closed || this.running !== undefined || this.timer !== undefined) return;
    this.schedule();
  }

  /** Whether an upload is under way. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * Stops: no new uploads; the one under way may finish until `deadlineMs` from now, then it is aborted
   * (its entry stays in the spool for the next start). Resolves when it finished, or at the deadline even
   * if the transcriber ignores the abort.
   */
  async close(deadlineMs: number = SPOOL_DRAINER_DEFAULTS.closeDeadlineMs): Promise<void> {
    this.stopScheduling();
    const running = this.running;
    if (running === undefined) return;
    await new Promise<void>((resolve) => {
      const deadline = this.clock.setTimeout(() => {
        this.abort?.abort();
        resolve();
      }, deadlineMs);
      void running.then(() => {
        this.clock.clearTimeout(deadline);
        resolve();
      });
    });
  }

  /** Stops now, aborting the upload under way (its entry stays in the spool). */
  destroy(): void {
    this.stopScheduling();
    this.abort?.abort();
  }

  private stopScheduling(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private runNow(): void {
    if (this.closed || this.running !== undefined) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private schedule(): void {
    // initial, 2×, 4×… after consecutive failures; no jitter: there is one drainer per process.
    const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(Math.max(0, this.failures - 1), 30));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.runNow();
    }, delay);
    this.timer.unref?.();
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const entry = this.spool.oldest();
      if (entry === undefined) return; // idle until notify() or kick()
      let outcome: Outcome;
      try {
        outcome = await this.uploadOne(entry);
      } catch (error) {
        // uploadOne handles everything it knows; this is a bug, so pause rather than spin.
        this.logger.error('spool drainer: unexpected error', { error, file: entry.name });
        outcome = 'backoff';
      }
      if (outcome === 'stopped') return;
      if (outcome === 'backoff') {
        this.failures++;
        if (!this.closed) this.schedule();
        return;
      }
      this.failures = 0;
    }
  }

  private async uploadOne(entry: SpoolEntry): Promise<Outcome> {
    const cached = this.undelivered;
    // Transcribed already, Discord did not take it: post the same text again rather than upload the audio again.
    if (cached?.name === entry.name) return this.deliver(entry, cached.transcript);
    let segment: SpoolFileSegment;
    try {
      segment = await this.spool.open(entry);
    } catch (error) {
      if (this.spool.has(entry)) {
        this.metrics.inc('spool_corrupt_files_total');
        await this.spool.quarantine(entry, error);
      }
      return 'next';
    }
    const meta = segment.meta;
    const abort = new AbortController();
    this.abort = abort;
    let text: string;
    try {
      const result = await this.transcriber.transcribe({
        audio: segment,
        language: meta.language,
        prompt: meta.prompt,
        signal: abort.signal,
      });
      this.strikeName = undefined;
      this.serviceNotice.recovered();
      text = result.text.trim();
      const info = { durationMs: meta.durationMs, rmsDbfs: meta.rmsDbfs, speechMs: meta.speechMs, noSpeechProb: result.noSpeechProb };
      if (text.length === 0 || this.isHallucination(text, info)) {
        // Dropped on purpose (blank or a hallucination): nothing to deliver, the entry goes.
        this.metrics.inc('segments_filtered_total');
        this.logger.debug('spool drainer: transcript filtered', { file: entry.name, text });
        this.metrics.inc('spool_uploaded_total');
        await this.spool.remove(entry);
        return 'next';
      }
    } catch (error) {
      if (abort.signal.aborted || this.closed) return 'stopped';
      this.metrics.inc('spool_upload_failures_total');
      if (!this.spool.has(entry)) return 'next'; // dropped by the size cap while we were uploading it
      if (!isRetryable(error)) {
        this.metrics.inc('segments_failed_total');
        this.logger.warn('spool drainer: segment rejected, deleting it', { file: entry.name, error });
        // The logged error carries the response body; the channel gets the status only (see failureText.ts).
        this.warn(`A stored recording could not be transcribed and was deleted: ${segmentRejectionReason(error)}.`, {
          code: 'SEGMENT_FAILED',
          segment: meta,
          file: entry.name,
          error,
        });
        await this.spool.remove(entry);
        return 'next';
      }
      // Kept, like an outage: the same key or URL fails for every entry, so backing off (rather than going on
      // with the next) costs one request per backoff step, and a fixed setup finds the whole backlog still there.
      if (isServiceFault(error)) this.serviceNotice.report(error, meta, entry.name);
      if (this.countStrike(entry)) {
        this.logger.error('spool drainer: segment keeps failing while live uploads succeed; quarantining', { file: entry.name, error });
        await this.spool.quarantine(entry, error);
        return 'next';
      }
      this.logger.info('spool drainer: upload failed, backing off', { file: entry.name, failures: this.failures + 1, error });
      return 'backoff';
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    return this.deliver(entry, { meta, text, fromSpool: true });
  }

  /**
   * Hands a transcript to `onTranscript` and deletes the entry only once that says the line is delivered (or
   * dropped on purpose); otherwise keeps the entry and the text for a retry after the backoff.
   */
  private async deliver(entry: SpoolEntry, transcript: Transcript): Promise<Outcome> {
    // Cached before the hand-over: whatever happens next, a retry of this entry in this process is a redelivery.
    this.undelivered = { name: entry.name, transcript: { ...transcript, redelivered: true } };
    const abort = new AbortController();
    this.abort = abort;
    let delivered: Promise<void>;
    try {
      delivered = Promise.resolve(this.onTranscript(transcript));
    } catch (error) {
      // A listener bug: keeping the audio (and backing off) is safer than deleting speech nobody saw.
      delivered = Promise.reject(error);
    }
    try {
      const settled = await untilAborted(delivered, abort.signal);
      if (settled === 'aborted') {
        // Shutting down while Discord has not taken the line: the entry stays for the next start. Should the line
        // still go out before this process exits, delete the entry after all (if the exit comes first, the line is
        // posted twice: the at-least-once trade-off).
        delivered.then(
          () => this.spool.remove(entry),
          () => undefined,
        );
        return 'stopped';
      }
    } catch (error) {
      if (this.closed) return 'stopped';
      this.metrics.inc('spool_delivery_failures_total');
      this.logger.warn('spool drainer: transcript not delivered, keeping the entry', { file: entry.name, failures: this.failures + 1, error });
      return 'backoff';
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    if (this.undelivered?.name === entry.name) this.undelivered = undefined;
    this.metrics.inc('spool_uploaded_total');
    await this.spool.remove(entry);
    return 'next';
  }

  /** Records a retryable failure of `entry`; true once it has failed `maxStrikes` times with the server healthy in between. */
  private countStrike(entry: SpoolEntry): boolean {
    if (this.strikeName !== entry.name) {
      this.strikeName = entry.name;
      this.strikes = 0;
    }
    if (this.kickedSinceFailure) this.strikes++;
    this.kickedSinceFailure = false;
    return this.strikes >= this.maxStrikes;
  }

  private warn(message: string, warning: PipelineWarning): void {
    try {
      this.onWarning(message, warning);
    } catch (error) {
      this.logger.error('onWarning listener threw', { error });
    }
  }
}

/** Waits for `promise` (its rejection is thrown) unless `signal` aborts first, which yields 'aborted'. */
async function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<'done' | 'aborted'> {
  if (signal.aborted) return 'aborted';
  let onAbort: () => void = noop;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise.then(() => 'done' as const), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
