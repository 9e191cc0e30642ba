/** Shapes shared by the Whisper stand-in's files and by tests that use it. */

/** The response formats the stand-in serves (OpenAI's srt/vtt/diarized_json are rejected with 400). */
export type ResponseFormat = 'json' | 'text' | 'verbose_json';
export const RESPONSE_FORMATS: readonly ResponseFormat[] = ['json', 'text', 'verbose_json'];

/** The non-file form fields of a transcription request, parsed. */
export interface TranscriptionFields {
  readonly model?: string;
  readonly language?: string;
  readonly prompt?: string;
  readonly responseFormat: ResponseFormat;
  readonly temperature?: number;
  /** Every non-file field exactly as sent (first occurrence of each name). */
  readonly raw: Readonly<Record<string, string>>;
}

/** What a transcription backend says about one file. */
export interface TranscriptionOutput {
  readonly text: string;
  /** 0..1; the stand-in puts it into verbose_json segments. */
  readonly noSpeechProb?: number;
}

/**
 * A transcription backend for the stand-in: gets 16 kHz mono s16 PCM (the server downmixes and
 * resamples whatever the WAV held) and the request's fields. The default reads DTMF digits.
 */
export type TranscribeFn = (pcm: Int16Array, sampleRate: number, fields: TranscriptionFields) => Promise<TranscriptionOutput>;

/** Forced answer for hallucination tests: fixed text, or computed from what was actually decoded. */
export type ForcedAnswer = string | ((context: ForcedAnswerContext) => string);

/** What {@link ForcedAnswer} functions get. */
export interface ForcedAnswerContext {
  readonly decodedText: string;
  readonly durationSec: number;
  readonly fields: TranscriptionFields;
}

/** An HTTP failure to inject. */
export interface FailSpec {
  readonly status: 429 | 500 | 503;
  /** Sent as the Retry-After header (seconds). */
  readonly retryAfterSeconds?: number;
}

/** One queued fault; each request to the endpoint takes the oldest one. */
export type Fault =
  | { readonly kind: 'fail'; readonly spec: FailSpec }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' }
  /** respondRawNext: after the body was read, `respond` owns the response (slow drips, huge or endless bodies). */
  | { readonly kind: 'raw'; readonly respond: (res: import('node:http').ServerResponse) => void };

/** The uploaded file as the stand-in understood it (format fields absent if the WAV was rejected). */
export interface RecordedFile {
  readonly filename?: string;
  readonly contentType?: string;
  /** Size of the file part in bytes. */
  readonly size: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  readonly durationSec?: number;
  /** Bytes in the WAV data chunk. */
  readonly pcmBytes?: number;
}

/**
 * How a request ended: answered (status set), hung (hangNext: body read, never answered), reset
 * (resetNext: socket destroyed mid-request), aborted (client went away before the answer).
 */
export type RequestOutcome = 'answered' | 'hung' | 'reset' | 'aborted';

/** Everything the stand-in saw and did for one request. */
export interface WhisperRequestRecord {
  /** Clock time when the request head arrived. */
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  /** Body bytes taken in. After the 25 MiB cap is crossed the rest is drained unread and not counted. */
  readonly bytes: number;
  /** The Content-Length header as a number, if sent. */
  readonly contentLength?: number;
  /** True if the body came with Transfer-Encoding: chunked. */
  readonly chunked: boolean;
  /** Request headers, lower-cased names, `authorization` redacted. */
  readonly headers: Readonly<Record<string, string>>;
  /** Non-file form fields as sent. */
  readonly fields: Readonly<Record<string, string>>;
  readonly file: RecordedFile | null;
  /** The injected fault this request consumed, if any. */
  readonly fault?: Fault['kind'];
  readonly outcome: RequestOutcome;
  /** HTTP status sent, or null if none was (hung, reset, aborted). */
  readonly status: number | null;
  /** The response body as sent ('' if none). */
  readonly responseText: string;
  /** What the transcriber produced, before any forced answer (undefined if it did not run). */
  readonly decodedText?: string;
  /** The OpenAI-style error code for 4xx/5xx answers, if any. */
  readonly errorCode?: string | null;
}
