import type { Segment, SegmentMeta } from '../audio/Segment.js';
import type { Clock, TimerHandle } from '../util/Clock.js';
import { systemClock } from '../util/Clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import type { DeliverySlot } from './InOrderDelivery.js';
import { InOrderDelivery } from './InOrderDelivery.js';
import { segmentRejectionReason } from './failureText.js';
import { isRetryable, isServiceFault } from './isRetryable.js';
import { ServiceFaultNotice } from './ServiceFaultNotice.js';
import type { Spool } from './Spool.js';
import type { SpoolDrainer } from './SpoolDrainer.js';
import type { Transcriber, TranscriptionResult } from './Transcriber.js';
import type {
  HallucinationCheck,
  PipelineWarning,
  Transcript,
  TranscriptListener,
  WarningListener,
} from './TranscriptEvents.js';

/** Defaults of {@link TranscriptionPipelineOptions}. */
export const TRANSCRIPTION_PIPELINE_DEFAULTS = {
  maxConcurrentUploads: 2,
  /** Part of close()'s deadline kept for writing aborted uploads to the spool. */
  closeSpoolReserveMs: 500,
} as const;

export interface TranscriptionPipelineOptions {
  readonly transcriber: Transcriber;
  /** Where segments go when they cannot be uploaded now (only `write` is used). */
  readonly spool: Pick<Spool, 'write'>;
  /** Gets every transcript, per speaker in startedAt order (see the class comment for spooled ones). */
  readonly onTranscript: TranscriptListener;
  /** Returns true for texts to drop. Default: keep everything that is not blank. */
  readonly isHallucination?: HallucinationCheck;
  readonly onWarning?: WarningListener;
  /** Kicked after each live success (the server answers), notified after each spool write. */
  readonly drainer?: Pick<SpoolDrainer, 'kick' | 'notify'>;
  /** Told of service faults and successes; pass the drainer's so that both make one episode. Default: a private one. */
  readonly serviceNotice?: Pick<ServiceFaultNotice, 'report' | 'recovered'>;
  readonly maxConcurrentUploads?: number;
  readonly closeSpoolReserveMs?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock?: Clock;
}

interface Job {
  readonly segment: Segment;
  readonly meta: SegmentMeta;
  readonly slot: DeliverySlot;
  /** queued → uploading → done; `done` is set as soon as the job's fate is decided (delivered, dropped, spooling). */
  state: 'queued' | 'uploading' | 'done';
  abort: AbortController | undefined;
  /** The segment is free to release once both are true (a spool write and an abandoned upload may both read it). */
  uploadSettled: boolean;
  storageSettled: boolean;
}

const noop = (): void => {};

/**
 * Live path from sealed segments to transcripts:
 *
 *   submit() → FIFO queue → ≤ maxConcurrentUploads uploads → filter → in-order delivery per speaker
 *                  │                     │ retryable failure
 *                  └─ onPoolPressure() ──┴─ close() ──→ Spool (drained later by SpoolDrainer)
 *
 * - submit() never throws and never waits; the queue needs no bound of its own because every queued
 *   segment holds slabs of the fixed PCM pool, and the audio side calls onPoolPressure() when it runs short.
 * - Per speaker (guild + user) transcripts are handed out in startedAt order: one that completes early waits
 *   for earlier ones still uploading. A segment that goes to the spool (or is filtered, or fails) gives its
 *   place up at once, so it never holds later speech back; its transcript arrives later through the drainer,
 *   marked fromSpool with its original startedAt, i.e. possibly after the speaker's later lines.
 * - A segment is released as soon as its audio is no longer needed: right after a successful upload (before
 *   it waits for its turn, so waiting transcripts hold no slabs), after a rejected one, or once it is on disk.
 * - Retryable failures (TranscribeError.retryable, after the client's own retries) and unknown errors go to
 *   the spool, and so do service faults (rejected key, wrong URL, unparseable answer: the service's setup, not
 *   the audio), which are also reported to the ServiceFaultNotice (one warning per episode). Only failures about
 *   the recording itself (400, 413…) are counted, warned about and released. If the spool cannot take a segment
 *   (disk full), it is counted as lost and warned about loudly.
 */
export class TranscriptionPipeline {
  private readonly transcriber: Transcriber;
  private readonly spool: Pick<Spool, 'write'>;
  private readonly onTranscript: TranscriptListener;
  private readonly isHallucination: HallucinationCheck;
  private readonly onWarning: WarningListener;
  private readonly drainer: Pick<SpoolDrainer, 'kick' | 'notify'> | undefined;
  private readonly serviceNotice: Pick<ServiceFaultNotice, 'report' | 'recovered'>;
  private readonly maxConcurrentUploads: number;
  private readonly closeSpoolReserveMs: number;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly delivery: InOrderDelivery<Transcript>;

  /** Waiting for an upload slot, oldest first. */
  private readonly queue: Job[] = [];
  private readonly uploading = new Set<Job>();
  /** Jobs whose fate is not settled yet (queued, uploading, or being written to the spool). */
  private outstanding = 0;
  private closing = false;
  private destroyed = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: () => void = noop;
  private deadlineTimer: TimerHandle | undefined;

  constructor(options: TranscriptionPipelineOptions) {
    this.transcriber = options.transcriber;
    this.spool = options.spool;
    this.onTranscript = options.onTranscript;
    this.isHallucination = options.isHallucination ?? (() => false);
    this.onWarning = options.onWarning ?? noop;
    this.drainer = options.drainer;
    this.serviceNotice = options.serviceNotice ?? new ServiceFaultNotice({ onWarning: this.onWarning, logger: options.logger });
    this.maxConcurrentUploads = Math.max(1, options.maxConcurrentUploads ?? TRANSCRIPTION_PIPELINE_DEFAULTS.maxConcurrentUploads);
    this.closeSpoolReserveMs = options.closeSpoolReserveMs ?? TRANSCRIPTION_PIPELINE_DEFAULTS.closeSpoolReserveMs;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.delivery = new InOrderDelivery<Transcript>((transcript) => this.deliver(transcript));
    const m = this.metrics;
    m.define('segments_submitted_total', 'counter', 'Segments handed to the transcription pipeline');
    m.define('segments_uploaded_total', 'counter', 'Live uploads that returned a transcript');
    m.define('segments_spooled_total', 'counter', 'Segments written to the disk spool');
    m.define('spooled_ms_total', 'counter', 'Milliseconds of speech written to the disk spool');
    m.define('pool_pressure_spilled_ms_total', 'counter', 'Milliseconds of queued speech moved to the spool because the PCM pool ran short');
    m.define('segments_filtered_total', 'counter', 'Transcripts dropped as hallucinations or blank');
    m.define('segments_failed_total', 'counter', 'Segments the server rejected for good (not retried)');
    m.define('segments_lost_total', 'counter', 'Segments neither transcribed nor stored (spool failure, destroy)');
    m.define('uploads_in_flight', 'gauge', 'Live uploads under way');
    m.define('queue_depth', 'gauge', 'Segments waiting for an upload slot');
  }

  /** Segments waiting for an upload slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Live uploads under way. */
  get inFlight(): number {
    return this.uploading.size;
  }

  /** Takes a sealed segment; never throws, never waits. After close() it goes straight to the spool. */
  submit(segment: Segment): void {
    this.metrics.inc('segments_submitted_total');
    try {
      // Our own copy: the audio side may recycle its objects once the segment is released.
      const meta: SegmentMeta = { ...segment.meta };
      const slot = this.delivery.reserve(`${meta.guildId}:${meta.userId}`, meta.startedAt);
      const job: Job = { segment, meta, slot, state: 'queued', abort: undefined, uploadSettled: true, storageSettled: false };
      this.outstanding++;
      if (this.destroyed) {
        this.lose([job], 'the transcription pipeline was destroyed');
      } else if (this.closing) {
        void this.toSpool(job, 0);
      } else {
        this.queue.push(job);
        this.pump();
      }
    } catch (error) {
      this.logger.error('pipeline: submit failed', { error });
      segment.release();
      this.metrics.inc('segments_lost_total');
    }
  }

  /**
   * The PCM pool runs short: writes the oldest queued (not uploading) segments to the spool until at least
   * `bytesNeeded` bytes of PCM are on their way out (all queued segments when omitted, since PcmSlabPool
   * fires its pressure callback only once per episode). Uploads under way are left alone. Resolves with the
   * bytes freed once those segments are released; never rejects.
   */
  onPoolPressure(bytesNeeded = Number.POSITIVE_INFINITY): Promise<number> {
    let freed = 0;
    const writes: Promise<void>[] = [];
    while (freed < bytesNeeded && this.queue.length > 0) {
      const job = this.queue.shift()!;
      freed += job.segment.byteLength;
      this.metrics.inc('pool_pressure_spilled_ms_total', job.meta.durationMs);
      writes.push(this.toSpool(job, 0));
    }
    this.updateGauges();
    if (writes.length > 0) this.logger.info('pipeline: pool pressure, spilling to spool', { segments: writes.length, bytes: freed });
    return Promise.all(writes).then(() => freed);
  }

  /**
   * Graceful shutdown: takes no new uploads, spools everything queued now, lets uploads under way finish until
   * `deadlineMs` from now minus a reserve (closeSpoolReserveMs, at most half of deadlineMs) and then aborts and
   * spools them. Resolves when every segment is delivered, spooled or accounted for. Idempotent.
   */
  close(deadlineMs: number): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.closing = true;
    this.closed = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    while (this.queue.length > 0) void this.toSpool(this.queue.shift()!, 0);
    this.updateGauges();
    if (this.uploading.size > 0) {
      const uploadBudget = Math.max(0, deadlineMs - Math.min(this.closeSpoolReserveMs, deadlineMs / 2));
      this.deadlineTimer = this.clock.setTimeout(() => {
        this.deadlineTimer = undefined;
        this.abandonUploads();
      }, uploadBudget);
    }
    this.checkClosed();
    return this.closed;
  }

  /** Stops now: aborts uploads; segments not yet on disk are released and counted as lost. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closing = true;
    this.closed ??= new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const doomed = [...this.uploading].filter((job) => job.state === 'uploading');
    for (const job of doomed) job.abort?.abort();
    this.lose(doomed, 'the transcription pipeline was destroyed');
    this.checkClosed();
  }

  private pump(): void {
    while (!this.closing && this.uploading.size < this.maxConcurrentUploads && this.queue.length > 0) {
      const job = this.queue.shift()!;
      job.state = 'uploading';
      job.abort = new AbortController();
      job.uploadSettled = false;
      this.uploading.add(job);
      void this.upload(job, job.abort.signal);
    }
    this.updateGauges();
  }

  private async upload(job: Job, signal: AbortSignal): Promise<void> {
    let result: TranscriptionResult;
    try {
      result = await this.transcriber.transcribe({ audio: job.segment, language: job.meta.language, prompt: job.meta.prompt, signal });
    } catch (error) {
      this.uploadSettled(job);
      if (job.state === 'uploading') this.onFailure(job, error);
      this.pump();
      return;
    }
    this.uploadSettled(job);
    // A job spooled meanwhile (close() deadline) ignores this late answer: its spool entry is now its only way out,
    // delivered at-least-once by the drainer; posting it here as well would post it twice and gain nothing.
    if (job.state === 'uploading') this.onSuccess(job, result);
    this.pump();
  }

  private uploadSettled(job: Job): void {
    job.uploadSettled = true;
    this.uploading.delete(job);
    // An upload abandoned at close() or destroy() whose segment was already stored (or given up) releases now.
    if (job.state === 'done' && job.storageSettled) job.segment.release();
  }

  private onSuccess(job: Job, result: TranscriptionResult): void {
    job.state = 'done';
    this.metrics.inc('segments_uploaded_total');
    this.serviceNotice.recovered();
    this.kickDrainer();
    job.segment.release();
    const { meta } = job;
    const text = result.text.trim();
    if (text.length === 0 || this.filtered(text, meta, result)) {
      this.metrics.inc('segments_filtered_total');
      this.logger.debug('pipeline: transcript filtered', { userId: meta.userId, startedAt: meta.startedAt, text });
      this.delivery.fill(job.slot, undefined);
    } else {
      this.delivery.fill(job.slot, { meta, text, fromSpool: false });
    }
    this.finish();
  }

  private onFailure(job: Job, error: unknown): void {
    if (isRetryable(error)) {
      this.logger.warn('pipeline: upload failed, spooling', { userId: job.meta.userId, startedAt: job.meta.startedAt, error });
      if (isServiceFault(error)) this.serviceNotice.report(error, job.meta);
      void this.toSpool(job, 1);
      return;
    }
    job.state = 'done';
    job.segment.release();
    this.metrics.inc('segments_failed_total');
    this.logger.warn('pipeline: segment rejected', { userId: job.meta.userId, startedAt: job.meta.startedAt, error });
    // The logged error carries the response body; the channel gets the status only (see failureText.ts).
    this.warn(`Speech could not be transcribed: ${segmentRejectionReason(error)}.`, { code: 'SEGMENT_FAILED', segment: job.meta, error });
    this.delivery.fill(job.slot, undefined);
    this.finish();
  }

  /** Writes a job's segment to the spool, then releases it. Never rejects. */
  private async toSpool(job: Job, attempts: number): Promise<void> {
    job.state = 'done';
    // Give the place in line up now: later speech of this speaker need not wait for the disk or the drainer.
    this.delivery.fill(job.slot, undefined);
    try {
      await this.spool.write(job.segment, { attempts });
      this.metrics.inc('segments_spooled_total');
      this.metrics.inc('spooled_ms_total', job.meta.durationMs);
      this.notifyDrainer();
    } catch (error) {
      this.metrics.inc('segments_lost_total');
      this.logger.error('pipeline: SPEECH LOST, the spool cannot store a segment', {
        userId: job.meta.userId,
        startedAt: job.meta.startedAt,
        error,
      });
      this.warn(`Speech was lost: it could not be transcribed now nor stored for later (${errorMessage(error)}).`, {
        code: 'SEGMENT_LOST',
        segment: job.meta,
        error,
      });
    }
    job.storageSettled = true;
    if (job.uploadSettled) job.segment.release();
    this.finish();
  }

  /** At close()'s deadline: aborts uploads still under way and spools their segments. */
  private abandonUploads(): void {
    for (const job of this.uploading) {
      if (job.state !== 'uploading') continue;
      this.logger.info('pipeline: close deadline, spooling an unfinished upload', { userId: job.meta.userId });
      job.abort?.abort();
      void this.toSpool(job, 1);
    }
  }

  /** Gives jobs up without storing them (destroy). */
  private lose(jobs: Job[], why: string): void {
    const queued = this.queue.splice(0);
    for (const job of [...queued, ...jobs]) {
      job.state = 'done';
      job.storageSettled = true;
      if (job.uploadSettled) job.segment.release();
      this.metrics.inc('segments_lost_total');
      this.delivery.fill(job.slot, undefined);
      this.warn(`Speech was lost: ${why}.`, { code: 'SEGMENT_LOST', segment: job.meta });
      this.finish();
    }
    this.updateGauges();
  }

  private finish(): void {
    this.outstanding--;
    this.updateGauges();
    this.checkClosed();
  }

  private checkClosed(): void {
    if (!this.closing || this.outstanding > 0) return;
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.resolveClosed();
  }

  private filtered(text: string, meta: SegmentMeta, result: TranscriptionResult): boolean {
    try {
      return this.isHallucination(text, {
        durationMs: meta.durationMs,
        rmsDbfs: meta.rmsDbfs,
        speechMs: meta.speechMs,
        noSpeechProb: result.noSpeechProb,
      });
    } catch (error) {
      this.logger.error('pipeline: hallucination filter threw; keeping the text', { error });
      return false;
    }
  }

  private deliver(transcript: Transcript): void {
    let delivered: void | Promise<void>;
    try {
      delivered = this.onTranscript(transcript);
    } catch (error) {
      this.logger.error('onTranscript listener threw', { error });
      return;
    }
    // The live path does not wait for Discord: its audio was never on disk and is released already, so there is
    // nothing to keep until the line is posted (a crash before that loses the line, as it loses speech in memory).
    // Waiting here would hold later speech of every speaker behind a rate-limited channel.
    void Promise.resolve(delivered).catch((error: unknown) => {
      this.logger.warn('pipeline: a live transcript line was not posted', { userId: transcript.meta.userId, error });
    });
  }

  private kickDrainer(): void {
    try {
      this.drainer?.kick();
    } catch (error) {
      this.logger.error('pipeline: drainer.kick threw', { error });
    }
  }

  private notifyDrainer(): void {
    try {
      this.drainer?.notify();
    } catch (error) {
      this.logger.error('pipeline: drainer.notify threw', { error });
    }
  }

  private warn(message: string, warning: PipelineWarning): void {
    try {
      this.onWarning(message, warning);
    } catch (error) {
      this.logger.error('onWarning listener threw', { error });
    }
  }

  private updateGauges(): void {
    this.metrics.set('uploads_in_flight', this.uploading.size);
    this.metrics.set('queue_depth', this.queue.length);
  }
}
