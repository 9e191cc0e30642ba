/** What kind of transient failure a thrown network error is, if it is one. */
export type TransientKind = 'connect' | 'timeout';

// Errors after which the same request may well succeed on a fresh connection.
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  // The response body ended early: the connection broke mid-answer.
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * What a non-2xx answer says about the upload:
 * - 'transient': try again in a moment (same call, with backoff).
 * - 'service': the service is misconfigured or refusing us (rejected key, wrong URL or model, a proxy in the way):
 *   trying again now cannot help, but the audio is fine, so it must be kept until a person fixes the setup.
 * - 'segment': this recording itself is refused (too short, not audio, too large): it will never succeed.
 */
export type StatusVerdict = 'transient' | 'service' | 'segment';

// Only these say something about the request body. Everything else that is neither transient nor one of these is
// about us or the service; a wrongly final verdict destroys speech, a wrongly kept one only costs disk, so an
// unknown status keeps the audio.
const SEGMENT_STATUSES: ReadonlySet<number> = new Set([
  400, // invalid audio, too short, unsupported file (OpenAI, whisper.cpp); also a bad response_format, handled by the client
  413, // too large
  415, // unsupported media type of the upload
  422, // the body was understood but its content refused
]);

/** Classifies a non-2xx HTTP status (see {@link StatusVerdict}). */
export function statusVerdict(status: number): StatusVerdict {
  if (isRetryableStatus(status)) return 'transient';
  if (SEGMENT_STATUSES.has(status)) return 'segment';
  // 401/403 (key), 404/405 (wrong URL or model), 407 (proxy auth), 402 (billing), 3xx (redirect: wrong URL)…
  return 'service';
}

/** 429 (rate limited), 408 (request timeout) and every 5xx are worth another try within the same call. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599);
}

/**
 * Classifies a network error by its code, looking through `cause` and AggregateError members
 * (Node's happy-eyeballs connect reports one error per address).
 */
export function transientKind(error: unknown): TransientKind | null {
  for (const code of errorCodes(error, 0)) {
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (CONNECT_CODES.has(code)) return 'connect';
  }
  return null;
}

/** The `code` strings found on an error, its causes and aggregated errors (bounded depth). */
export function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== 'object' || error === null) return [];
  const codes: string[] = [];
  if ('code' in error && typeof error.code === 'string') codes.push(error.code);
  if (error instanceof AggregateError) for (const inner of error.errors) codes.push(...errorCodes(inner, depth + 1));
  if (error instanceof Error && error.cause !== undefined) codes.push(...errorCodes(error.cause, depth + 1));
  return codes;
}

/**
 * Parses Retry-After (delay-seconds or an HTTP date, RFC 9110 §10.2.3) into milliseconds from `nowMs`.
 * Returns undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names a day and month; bare numbers like "-3" would otherwise parse as a year.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Backoff tunables; `random` returns [0, 1) like Math.random. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly random: () => number;
}

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(max, base·factor^(retry−1))), so that
 * clients that failed together do not retry together. `retry` counts from 1.
 */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * options.factor ** Math.max(0, retry - 1));
  return Math.floor(options.random() * ceiling);
}
