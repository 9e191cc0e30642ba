import { TinyscribeError } from '../util/errors.js';

/**
 * Stable codes of transcription failures.
 * - TRX_HTTP_STATUS: the server answered with a status not retried within the call; `status` and `bodyExcerpt` say
 *   which. 400/413/415/422 refuse the recording (final); any other (401, 403, 404…) is a `serviceFault`.
 * - TRX_RETRIES_EXHAUSTED: every allowed attempt failed transiently (or the deadline/Retry-After left no room);
 *   `cause` is the last attempt's error, `attempts` how many were made.
 * - TRX_CONNECT: the connection failed or broke (refused, reset, DNS, TLS, socket closed mid-response).
 * - TRX_TIMEOUT: connect/headers/body timeout, or the overall deadline ran out during a request.
 * - TRX_BAD_RESPONSE: a 2xx answer whose body is not what the requested response_format promises (a `serviceFault`:
 *   e.g. a proxy's HTML maintenance page).
 * - TRX_ABORTED: the caller's AbortSignal fired, or the client was closed.
 * - TRX_AUDIO: the AudioSource failed or yielded a different number of bytes than its byteLength.
 * - TRX_REQUEST: undici refused the request itself (invalid argument, unexpected error) — a bug, not the network.
 */
export type TranscribeErrorCode =
  | 'TRX_HTTP_STATUS'
  | 'TRX_RETRIES_EXHAUSTED'
  | 'TRX_CONNECT'
  | 'TRX_TIMEOUT'
  | 'TRX_BAD_RESPONSE'
  | 'TRX_ABORTED'
  | 'TRX_AUDIO'
  | 'TRX_REQUEST';

/** Extra facts carried by a {@link TranscribeError}. */
export interface TranscribeErrorDetails {
  /** Whether sending the same audio again later may succeed (i.e. spool it rather than drop it). */
  readonly retryable: boolean;
  /**
   * The service is misconfigured or unusable (rejected key, wrong URL/model, proxy, TLS, unparseable 2xx), not the
   * audio bad: retrying at once cannot help, yet the audio must be kept (so `retryable` is true) and a person told.
   */
  readonly serviceFault?: boolean;
  readonly cause?: unknown;
  /** HTTP status of the (last) response, when there was one. */
  readonly status?: number;
  /** First few hundred characters of the error body, API key removed. */
  readonly bodyExcerpt?: string;
  /** Attempts made before giving up (TRX_RETRIES_EXHAUSTED, TRX_ABORTED). */
  readonly attempts?: number;
  /** The server's Retry-After, in ms, when it asked for one. */
  readonly retryAfterMs?: number;
}

/** A failed transcription. Match on `code`; use `retryable` to decide between spooling and dropping the audio. */
export class TranscribeError extends TinyscribeError {
  declare readonly code: TranscribeErrorCode;
  readonly retryable: boolean;
  readonly serviceFault: boolean;
  readonly status: number | undefined;
  readonly bodyExcerpt: string | undefined;
  readonly attempts: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: TranscribeErrorCode, message: string, details: TranscribeErrorDetails) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable = details.retryable;
    this.serviceFault = details.serviceFault ?? false;
    this.status = details.status;
    this.bodyExcerpt = details.bodyExcerpt;
    this.attempts = details.attempts;
    this.retryAfterMs = details.retryAfterMs;
  }
}
