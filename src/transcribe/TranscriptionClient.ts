import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { systemClock, type Clock } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { multipartBody, type MultipartBody } from './multipartBody.js';
import { parseTranscriptionResponse, type ResponseFormat } from './parseTranscriptionResponse.js';
import { backoffDelay, parseRetryAfter, statusVerdict, transientKind, errorCodes } from './retryPolicy.js';
import { TranscribeError } from './TranscribeError.js';
import type { Transcriber, TranscriptionRequest, TranscriptionResult } from './Transcriber.js';

/** Configuration of {@link TranscriptionClient}. Times are milliseconds. */
export interface TranscriptionClientOptions {
  /** API root, e.g. https://api.openai.com/v1, https://api.groq.com/openai/v1, http://127.0.0.1:8000/v1. */
  readonly baseUrl: string;
  /** e.g. whisper-1, gpt-4o-transcribe, whisper-large-v3-turbo. */
  readonly model: string;
  /** Sent as `Authorization: Bearer …`; omit for local servers. Never logged. */
  readonly apiKey?: string;
  /** Default 'verbose_json'; falls back to 'json' for good after a 400 that names response_format. */
  readonly responseFormat?: ResponseFormat;
  /** Default language (ISO-639-1) when a request has none. */
  readonly language?: string;
  /** Default prompt when a request has none. */
  readonly prompt?: string;
  readonly temperature?: number;
  /** Connections per origin of the owned Agent. Default 2. */
  readonly maxConnections?: number;
  /** Default 10 000. */
  readonly connectTimeout?: number;
  /** Time to the response headers (i.e. the whole inference). Default 60 000. */
  readonly headersTimeout?: number;
  /** Maximum gap between response body chunks. Default 60 000. */
  readonly bodyTimeout?: number;
  /** HTTP attempts per transcription, first one included. Default 4. */
  readonly maxAttempts?: number;
  /** Overall time budget of one transcribe() call, retries and waits included. Default 120 000. */
  readonly deadlineMs?: number;
  /** Full-jitter exponential backoff: base 500, factor 2, capped at 20 000 by default. */
  readonly backoffBaseMs?: number;
  readonly backoffFactor?: number;
  readonly backoffMaxMs?: number;
  /** Use this dispatcher instead of creating an Agent; the caller then owns (and closes) it. */
  readonly dispatcher?: Dispatcher;
  readonly clock?: Clock;
  /** [0, 1) source for jitter; tests pin it. Default Math.random. */
  readonly random?: () => number;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

/** Defaults of the optional numeric/format options. */
export const DEFAULT_TRANSCRIPTION_CLIENT_OPTIONS = {
  responseFormat: 'verbose_json',
  maxConnections: 2,
  connectTimeout: 10_000,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
  maxAttempts: 4,
  deadlineMs: 120_000,
  backoffBaseMs: 500,
  backoffFactor: 2,
  backoffMaxMs: 20_000,
} as const satisfies Partial<TranscriptionClientOptions>;

/** Metric names this client updates. */
export const TRANSCRIBE_METRICS = {
  requests: 'transcribe_requests_total',
  failures: 'transcribe_failures_total',
  retries: 'transcribe_retries_total',
  latency: 'transcribe_latency_seconds',
  rateLimited: 'transcribe_rate_limited_total',
} as const;

// A transcript of a ≤ 30 s segment is a few KiB even as verbose_json; anything far bigger is not a transcript.
const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 8 * 1024;
const EXCERPT_CHARS = 300;

/**
 * Whisper-compatible `POST {baseUrl}/audio/transcriptions` over undici `request()` (not fetch, which buffers
 * streamed uploads: undici#4058), through one Agent with a per-origin connection cap. The WAV is streamed from
 * the AudioSource with an exact Content-Length; transient failures are retried by this class's own loop because
 * undici's retry interceptor does not retry POST or streamed bodies.
 */
export class TranscriptionClient implements Transcriber {
  private readonly url: URL;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly metrics: Metrics | undefined;
  private readonly logger: Logger | undefined;
  private readonly authorization: string | undefined;
  private readonly settings: Required<
    Pick<
      TranscriptionClientOptions,
      'headersTimeout' | 'bodyTimeout' | 'maxAttempts' | 'deadlineMs' | 'backoffBaseMs' | 'backoffFactor' | 'backoffMaxMs'
    >
  >;
  private responseFormat: ResponseFormat;
  // Aborted by close(): wakes retry sleeps and cancels requests still in flight.
  private readonly lifetime = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: TranscriptionClientOptions) {
    const defaults = DEFAULT_TRANSCRIPTION_CLIENT_OPTIONS;
    try {
      this.url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`);
    } catch (error) {
      throw new TranscribeError('TRX_REQUEST', `invalid baseUrl ${JSON.stringify(options.baseUrl)}`, { retryable: false, cause: error });
    }
    if (!options.model) throw new TranscribeError('TRX_REQUEST', 'model is required', { retryable: false });
    this.settings = {
      headersTimeout: options.headersTimeout ?? defaults.headersTimeout,
      bodyTimeout: options.bodyTimeout ?? defaults.bodyTimeout,
      maxAttempts: Math.max(1, options.maxAttempts ?? defaults.maxAttempts),
      deadlineMs: options.deadlineMs ?? defaults.deadlineMs,
      backoffBaseMs: options.backoffBaseMs ?? defaults.backoffBaseMs,
      backoffFactor: options.backoffFactor ?? defaults.backoffFactor,
      backoffMaxMs: options.backoffMaxMs ?? defaults.backoffMaxMs,
    };
    this.responseFormat = options.responseFormat ?? defaults.responseFormat;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connections: options.maxConnections ?? defaults.maxConnections,
        connectTimeout: options.connectTimeout ?? defaults.connectTimeout,
        headersTimeout: this.settings.headersTimeout,
        bodyTimeout: this.settings.bodyTimeout,
      });

    const m = this.metrics;
    if (m) {
      m.define(TRANSCRIBE_METRICS.requests, 'counter', 'Transcription calls started');
      m.define(TRANSCRIBE_METRICS.failures, 'counter', 'Transcription calls that failed for good');
      m.define(TRANSCRIBE_METRICS.retries, 'counter', 'HTTP attempts repeated after a transient failure');
      m.define(TRANSCRIBE_METRICS.latency, 'summary', 'Duration of successful transcription calls, retries included');
      m.define(TRANSCRIBE_METRICS.rateLimited, 'counter', 'HTTP 429 answers from the transcription API');
    }
  }

  /** The response_format currently sent ('json' after an automatic fallback). */
  get currentResponseFormat(): ResponseFormat {
    return this.responseFormat;
  }

  /** Uploads the audio as WAV and returns the transcript; throws {@link TranscribeError}. */
  async transcribe(req: TranscriptionRequest): Promise<TranscriptionResult> {
    this.metrics?.inc(TRANSCRIBE_METRICS.requests);
    const started = this.clock.monotonic();
    try {
      const result = await this.run(req);
      this.metrics?.observe(TRANSCRIBE_METRICS.latency, (this.clock.monotonic() - started) / 1000);
      return result;
    } catch (error) {
      this.metrics?.inc(TRANSCRIBE_METRICS.failures);
      throw error;
    }
  }

  /**
   * Stops the client: pending and sleeping calls fail with TRX_ABORTED (retryable, so callers spool their audio),
   * then the owned Agent is closed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifetime.abort(new TranscribeError('TRX_ABORTED', 'transcription client closed', { retryable: true }));
      if (this.ownsDispatcher) await this.dispatcher.close();
    })();
    return this.closing;
  }

  private async run(req: TranscriptionRequest): Promise<TranscriptionResult> {
    const controller = new AbortController();
    const signal = controller.signal;
    const onAbort = (): void => controller.abort();
    const sources = [req.signal, this.lifetime.signal].filter((s): s is AbortSignal => s !== undefined);
    for (const source of sources) source.addEventListener('abort', onAbort, { once: true });
    // An already-aborted signal never fires 'abort'.
    if (sources.some((s) => s.aborted)) controller.abort();
    const deadlineAt = this.clock.monotonic() + this.settings.deadlineMs;
    const deadline = this.clock.setTimeout(() => controller.abort(), this.settings.deadlineMs);

    const language = req.language ?? this.options.language;
    const prompt = req.prompt ?? this.options.prompt;
    let format = this.responseFormat;
    let form: MultipartBody | undefined;
    let attempts = 0; // HTTP requests sent
    let failures = 0; // transient failures so far (the format fallback does not count)
    let lastError: TranscribeError | undefined;

    // Turns an abort (ours, the caller's, close()) into the right final error.
    const stopped = (cause: unknown): TranscribeError => {
      if (req.signal?.aborted || this.lifetime.signal.aborted) {
        const byCaller = req.signal?.aborted === true;
        return new TranscribeError('TRX_ABORTED', byCaller ? 'aborted by caller' : 'transcription client closed', {
          retryable: true,
          attempts,
          cause: byCaller ? req.signal?.reason : undefined,
        });
      }
      // Otherwise it was the deadline; `cause` is the interrupted request's error, or none during a backoff sleep.
      const timeout = new TranscribeError('TRX_TIMEOUT', `deadline of ${this.settings.deadlineMs} ms exceeded`, {
        retryable: true,
        cause: cause ?? lastError,
      });
      return this.exhausted(timeout, attempts);
    };

    try {
      for (;;) {
        if (signal.aborted) throw stopped(undefined);
        // Built once per format, so every retry re-sends identical bytes (same boundary).
        form ??= this.buildForm(req, format, language, prompt);
        attempts++;
        try {
          return await this.attempt(form, format, signal);
        } catch (thrown) {
          if (signal.aborted) throw stopped(thrown);
          const error = this.classify(thrown);
          if (format !== 'json' && this.isResponseFormatRejection(error)) {
            // gpt-4o(-mini)-transcribe and some servers only do json; remember it for every later call.
            this.responseFormat = 'json';
            this.logger?.warn('transcription server rejected response_format; using json from now on', {
              rejected: format,
              status: error.status,
            });
            format = 'json';
            form = undefined;
            continue;
          }
          // A service fault (rejected key, wrong URL…) answers the same way a second later: leave it to the caller's
          // spool and its much slower backoff instead of hammering the service.
          if (!error.retryable || error.serviceFault) throw error;
          lastError = error;
          failures++;
          if (failures >= this.settings.maxAttempts) throw this.exhausted(error, attempts);
          const jitter = backoffDelay(failures, {
            baseMs: this.settings.backoffBaseMs,
            factor: this.settings.backoffFactor,
            maxMs: this.settings.backoffMaxMs,
            random: this.random,
          });
          // Never sooner than the server asked; give up now if that lands past the deadline.
          const delay = Math.max(jitter, error.retryAfterMs ?? 0);
          if (this.clock.monotonic() + delay >= deadlineAt) throw this.exhausted(error, attempts);
          this.metrics?.inc(TRANSCRIBE_METRICS.retries);
          this.logger?.warn('transcription attempt failed; retrying', {
            attempt: attempts,
            code: error.code,
            status: error.status,
            delayMs: delay,
            reason: error.message,
          });
          await this.sleep(delay, signal).catch(() => {
            throw stopped(undefined);
          });
        }
      }
    } finally {
      this.clock.clearTimeout(deadline);
      for (const source of sources) source.removeEventListener('abort', onAbort);
    }
  }

  private buildForm(req: TranscriptionRequest, format: ResponseFormat, language?: string, prompt?: string): MultipartBody {
    return multipartBody(req.audio, {
      model: this.options.model,
      ...(language ? { language } : {}),
      ...(prompt ? { prompt } : {}),
      responseFormat: format,
      ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
    });
  }

  /** One HTTP exchange. Resolves with the parsed transcript or throws (raw undici errors or TranscribeError). */
  private async attempt(form: MultipartBody, format: ResponseFormat, signal: AbortSignal): Promise<TranscriptionResult> {
    const headers: Record<string, string> = {
      'content-type': form.contentType,
      'content-length': String(form.contentLength),
      accept: format === 'text' ? 'text/plain, */*' : 'application/json',
    };
    if (this.authorization) headers.authorization = this.authorization;

    const response = await request(this.url, {
      dispatcher: this.dispatcher,
      method: 'POST',
      headers,
      // A byte-mode Readable over the generator: chunks pass through as Buffer views (no copy). With the explicit
      // content-length undici writes a fixed-length body, not chunked.
      body: Readable.from(form.body(), { objectMode: false }),
      signal,
      headersTimeout: this.settings.headersTimeout,
      bodyTimeout: this.settings.bodyTimeout,
    });

    const { statusCode } = response;
    if (statusCode >= 200 && statusCode < 300) {
      const { text, truncated } = await readLimited(response.body, MAX_RESPONSE_BYTES);
      if (truncated) {
        throw new TranscribeError('TRX_BAD_RESPONSE', `response body larger than ${MAX_RESPONSE_BYTES} bytes`, {
          retryable: true,
          serviceFault: true,
        });
      }
      return parseTranscriptionResponse(text, format);
    }

    const { text } = await readLimited(response.body, MAX_ERROR_BODY_BYTES);
    const bodyExcerpt = this.redact(text.slice(0, EXCERPT_CHARS));
    if (statusCode === 429) this.metrics?.inc(TRANSCRIBE_METRICS.rateLimited);
    const verdict = statusVerdict(statusCode);
    const retryAfterMs = verdict === 'transient' ? parseRetryAfter(response.headers['retry-after'], this.clock.now()) : undefined;
    // The excerpt stays in the message for logs; what people in Discord see is written without it (failureText.ts).
    throw new TranscribeError('TRX_HTTP_STATUS', `transcription API answered HTTP ${statusCode}: ${bodyExcerpt}`, {
      retryable: verdict !== 'segment',
      serviceFault: verdict === 'service',
      status: statusCode,
      bodyExcerpt,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  /** Maps whatever one attempt threw onto a TranscribeError with the right code and retryability. */
  private classify(thrown: unknown): TranscribeError {
    if (thrown instanceof TranscribeError) return thrown;
    const kind = transientKind(thrown);
    const code = errorCodes(thrown)[0] ?? 'unknown';
    if (kind === 'timeout') return new TranscribeError('TRX_TIMEOUT', `transcription request timed out (${code})`, { retryable: true, cause: thrown });
    if (kind === 'connect') return new TranscribeError('TRX_CONNECT', `transcription connection failed (${code})`, { retryable: true, cause: thrown });
    // TLS and other connection-setup failures: not transient, but the setup's fault (certificate, CA, URL), never
    // the audio's: keep it until a person fixes it.
    if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code)) {
      return new TranscribeError('TRX_CONNECT', `transcription connection failed (${code})`, { retryable: true, serviceFault: true, cause: thrown });
    }
    return new TranscribeError('TRX_REQUEST', `transcription request failed (${code})`, { retryable: false, cause: thrown });
  }

  private isResponseFormatRejection(error: TranscribeError): boolean {
    return error.code === 'TRX_HTTP_STATUS' && error.status === 400 && /response_format/i.test(error.bodyExcerpt ?? '');
  }

  private exhausted(last: TranscribeError, attempts: number): TranscribeError {
    return new TranscribeError('TRX_RETRIES_EXHAUSTED', `transcription failed after ${attempts} attempt(s): ${last.message}`, {
      retryable: true,
      cause: last,
      attempts,
      ...(last.status !== undefined ? { status: last.status } : {}),
      ...(last.retryAfterMs !== undefined ? { retryAfterMs: last.retryAfterMs } : {}),
    });
  }

  /** Waits on the injected clock; rejects as soon as `signal` aborts. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.clock.clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Servers sometimes echo the key (partly) in 401 bodies; never let it reach logs or errors. */
  private redact(text: string): string {
    const key = this.options.apiKey;
    return key && key.length >= 4 ? text.split(key).join('[redacted]') : text;
  }
}

/** Reads at most `limit` bytes of a response body as UTF-8; stops (and discards the rest) past the limit. */
async function readLimited(body: AsyncIterable<unknown>, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    if (total + buf.byteLength > limit) {
      chunks.push(buf.subarray(0, limit - total));
      truncated = true;
      break; // leaving the loop destroys the body stream
    }
    chunks.push(buf);
    total += buf.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}
