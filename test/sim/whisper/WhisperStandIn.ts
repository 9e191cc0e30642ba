/**
 * A real HTTP server that behaves like OpenAI's `POST /v1/audio/transcriptions` closely enough to
 * test tinyscribe's uploader end to end over loopback: strict multipart and WAV validation, the 25 MiB
 * body cap, auth, OpenAI-shaped errors, and run-time fault injection. The default backend transcribes
 * DTMF digits honestly, so a test can check exactly what audio arrived.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { systemClock, type Clock, type TimerHandle } from '../../../src/util/Clock.js';
import { TinyscribeError, errorMessage } from '../../../src/util/errors.js';
import { toMono16k } from '../audio/signals.js';
import { dtmfTranscriber } from './dtmfTranscriber.js';
import { boundaryFromContentType, MultipartError, parseMultipart, type MultipartPart } from './multipart.js';
import { errorAnswer, injectedFailure, invalidRequest, type ErrorAnswer } from './openAiErrors.js';
import { parseWav, WavError, type ParsedWav } from './parseWav.js';
import {
  RESPONSE_FORMATS,
  type FailSpec,
  type Fault,
  type ForcedAnswer,
  type RecordedFile,
  type RequestOutcome,
  type ResponseFormat,
  type TranscribeFn,
  type TranscriptionFields,
  type WhisperRequestRecord,
} from './types.js';

/** OpenAI's cap on the whole request body (multipart overhead included). */
export const MAX_BODY_BYTES = 26_214_400;
/** OpenAI rejects shorter audio with 400 `audio_too_short`. */
export const MIN_AUDIO_SECONDS = 0.1;
export const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions';
/** Extensions OpenAI accepts (it derives the format from the file name). Only WAV content is decoded here. */
const SUPPORTED_EXTENSIONS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
/** After a 413 the rest of the body is drained unread for at most this long, then the socket is destroyed. */
const OVERSIZE_GRACE_MS = 1000;
/** Whisper's avg_logprob on confident speech vs. on the silence it was told about. */
const SPEECH_AVG_LOGPROB = -0.25;
const SILENCE_AVG_LOGPROB = -1.3;
const WHISPER_NO_SPEECH_THRESHOLD = 0.6;

/** Options for {@link WhisperStandIn.start}. */
export interface WhisperStandInOptions {
  /** If set, requests must carry `Authorization: Bearer <apiKey>` or get 401. */
  apiKey?: string;
  /** Backend that turns 16 kHz mono PCM into text. Default: DTMF digits ({@link dtmfTranscriber}). */
  transcriber?: TranscribeFn;
  /** Time source for `receivedAt` and the injected latency. Default: the system clock. */
  clock?: Clock;
  /** Delay before every answer, ms. Also settable at run time via `latencyMs`. Default 0. */
  latencyMs?: number;
  /** OpenAI requires `model`; set false to act like whisper.cpp, which ignores it. Default true. */
  requireModel?: boolean;
  /** Body cap in bytes. Default {@link MAX_BODY_BYTES}; lower it only to keep a test small. */
  maxBodyBytes?: number;
}

/** Events of {@link WhisperStandIn}. */
export interface WhisperStandInEvents {
  /** A request was finished (answered, hung, reset or aborted); the record is final. */
  request: [record: WhisperRequestRecord];
}

/** Mutable while a request is in flight; frozen into a WhisperRequestRecord when it ends. */
interface Draft {
  receivedAt: number;
  method: string;
  path: string;
  bytes: number;
  contentLength?: number;
  chunked: boolean;
  headers: Record<string, string>;
  fields: Record<string, string>;
  file: RecordedFile | null;
  fault?: Fault['kind'];
  decodedText?: string;
  errorCode?: string | null;
  responseText: string;
  done: boolean;
}

/** A text/JSON answer ready to send. */
interface Answer {
  status: number;
  body: string;
  contentType: string;
  headers?: Readonly<Record<string, string>>;
  errorCode?: string | null;
}

/** The stand-in server. Start with {@link WhisperStandIn.start}; always `close()` it. */
export class WhisperStandIn extends EventEmitter<WhisperStandInEvents> {
  /** Delay before each answer, ms; change it at any time. */
  latencyMs: number;
  /** If not null, every verbose_json segment reports this no_speech_prob instead of the backend's. */
  noSpeechProb: number | null = null;

  private readonly server: http.Server;
  private readonly clock: Clock;
  private readonly apiKey: string | undefined;
  private readonly transcriber: TranscribeFn;
  private readonly requireModel: boolean;
  private readonly maxBodyBytes: number;
  private readonly faults: Fault[] = [];
  private readonly records: WhisperRequestRecord[] = [];
  private readonly latencyTimers = new Set<TimerHandle>();
  private forced: ForcedAnswer | null = null;
  private listeningPort = 0;
  private isListening = false;
  private closed = false;
  private requestSeq = 0;

  private constructor(options: WhisperStandInOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.apiKey = options.apiKey;
    this.transcriber = options.transcriber ?? dtmfTranscriber;
    this.requireModel = options.requireModel ?? true;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.latencyMs = options.latencyMs ?? 0;
    // requestTimeout 0: a hung request must stay hung until the test closes the server.
    this.server = http.createServer({ requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
  }

  /** Starts a stand-in on 127.0.0.1 with an OS-assigned port. */
  static async start(options: WhisperStandInOptions = {}): Promise<WhisperStandIn> {
    const standIn = new WhisperStandIn(options);
    await standIn.listen(0);
    standIn.listeningPort = (standIn.server.address() as AddressInfo).port;
    return standIn;
  }

  /** The port, stable across down()/up(). */
  get port(): number {
    return this.listeningPort;
  }

  /** OpenAI-style base URL, e.g. `http://127.0.0.1:43123/v1`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.listeningPort}/v1`;
  }

  /** Records of finished requests, in the order they finished. */
  get requests(): readonly WhisperRequestRecord[] {
    return this.records;
  }

  /** Forgets the recorded requests. */
  clearRequests(): void {
    this.records.length = 0;
  }

  /** The next `n` requests get `spec.status` (default 500) after their body was read. */
  failNext(n = 1, spec: FailSpec = { status: 500 }): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'fail', spec });
  }

  /** The next `n` requests are read completely and then never answered (until close/down). */
  hangNext(n = 1): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'hang' });
  }

  /** The next `n` requests have their socket destroyed as soon as body bytes arrive. */
  resetNext(n = 1): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'reset' });
  }

  /**
   * The next `n` requests are answered by `respond` once their body was read (recorded with outcome 'hung'): it
   * writes whatever it likes (a 1 byte/s drip, a 50 MB body, headers and then nothing). close()/down() end it.
   */
  respondRawNext(n: number, respond: (res: http.ServerResponse) => void): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'raw', respond });
  }

  /** Drops queued faults. Faults are taken in the order they were queued, one per request. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Forces the transcript text (e.g. "Thank you for watching!"); null returns to honest answers. */
  answerWith(answer: ForcedAnswer | null): void {
    this.forced = answer;
  }

  /** Stops listening and drops every connection, so new connections are refused (ECONNREFUSED). */
  async down(): Promise<void> {
    if (!this.isListening) return;
    this.isListening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again on the same port after down(). */
  async up(): Promise<void> {
    if (this.closed) throw new TinyscribeError('SIM_WHISPER_CLOSED', 'the stand-in was closed');
    if (this.isListening) return;
    await this.listen(this.listeningPort);
  }

  /** Stops the server, destroying hung and in-flight requests. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.latencyTimers) this.clock.clearTimeout(timer);
    this.latencyTimers.clear();
    await this.down();
  }

  /** Resolves with all records once at least `n` requests have finished; rejects after `timeoutMs` (real time). */
  waitForRequests(n: number, timeoutMs = 5000): Promise<WhisperRequestRecord[]> {
    if (this.records.length >= n) return Promise.resolve([...this.records]);
    return new Promise((resolve, reject) => {
      const onRequest = (): void => {
        if (this.records.length < n) return;
        cleanup();
        resolve([...this.records]);
      };
      // A harness guard, deliberately on real time: a manual clock would never fire it.
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new TinyscribeError('SIM_WHISPER_WAIT_TIMEOUT', `waited ${timeoutMs} ms for ${n} requests, got ${this.records.length}`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('request', onRequest);
      };
      this.on('request', onRequest);
    });
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new TinyscribeError('SIM_WHISPER_LISTEN', `cannot listen on 127.0.0.1:${port}`, { cause: error }));
      };
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        this.isListening = true;
        resolve();
      });
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A client that goes away mid-body must not crash the test process with an unhandled 'error'.
    req.on('error', () => {});
    res.on('error', () => {});
    const contentLengthHeader = req.headers['content-length'];
    const draft: Draft = {
      receivedAt: this.clock.now(),
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://stand-in').pathname,
      bytes: 0,
      chunked: /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? ''),
      headers: redactedHeaders(req.headers),
      fields: {},
      file: null,
      responseText: '',
      done: false,
    };
    if (contentLengthHeader !== undefined) draft.contentLength = Number(contentLengthHeader);
    res.on('close', () => this.finish(draft, res.writableFinished ? 'answered' : 'aborted', res));

    if (draft.path !== TRANSCRIPTIONS_PATH) {
      this.send(res, draft, jsonError(errorAnswer(404, `Invalid URL (${draft.method} ${draft.path})`, 'invalid_request_error')));
      return;
    }
    if (draft.method !== 'POST') {
      this.send(res, draft, jsonError(errorAnswer(405, `Method ${draft.method} not allowed`, 'invalid_request_error')));
      return;
    }
    if (draft.contentLength === undefined && !draft.chunked) {
      // Without a length or chunking the server cannot tell where the body ends (as self-hosted clones do).
      const answer = jsonError(errorAnswer(411, 'Length Required', 'invalid_request_error', null, 'length_required'));
      this.send(res, draft, { ...answer, headers: { connection: 'close' } }, { immediate: true });
      return;
    }

    const fault = this.faults.shift();
    if (fault) draft.fault = fault.kind;
    if (fault?.kind === 'reset') {
      const reset = (): void => {
        this.finish(draft, 'reset', res);
        req.socket.destroy();
      };
      if (draft.contentLength === 0) reset();
      else {
        req.once('data', (chunk: Buffer) => {
          draft.bytes += chunk.length;
          reset();
        });
        req.once('end', reset); // an empty chunked body has no data event
      }
      return;
    }

    const chunks: Buffer[] = [];
    let oversize = false;
    req.on('data', (chunk: Buffer) => {
      if (oversize) return; // draining after a 413: discarded and not counted
      draft.bytes += chunk.length;
      if (draft.bytes <= this.maxBodyBytes) {
        chunks.push(chunk);
        return;
      }
      // Count while streaming and stop taking the body in at the cap: never buffer more than the limit.
      oversize = true;
      chunks.length = 0;
      const message = `Maximum content size limit (${this.maxBodyBytes}) exceeded (${draft.bytes} bytes read)`;
      this.send(res, draft, jsonError(errorAnswer(413, message, 'invalid_request_error', null, 'request_too_large')), {
        immediate: true,
      });
      // Lingering close, as nginx does: closing with unread bytes would send an RST, and a client still
      // writing would see EPIPE/ECONNRESET instead of the 413. undici drops the connection as soon as it
      // has the answer; anything still sending after the grace period is cut off.
      const grace = setTimeout(() => req.socket.destroy(), OVERSIZE_GRACE_MS).unref();
      req.once('end', () => clearTimeout(grace));
      req.socket.once('close', () => clearTimeout(grace));
    });
    req.on('end', () => {
      if (oversize) return;
      const body = Buffer.concat(chunks, draft.bytes);
      if (fault?.kind === 'hang') {
        this.finish(draft, 'hung', res);
        return;
      }
      if (fault?.kind === 'raw') {
        this.finish(draft, 'hung', res);
        fault.respond(res);
        return;
      }
      if (fault?.kind === 'fail') {
        this.send(res, draft, jsonError(injectedFailure(fault.spec.status, fault.spec.retryAfterSeconds)));
        return;
      }
      this.transcribe(req, body, draft).then(
        (answer) => this.send(res, draft, answer),
        (error: unknown) => {
          const message = `The server had an error while processing your request: ${errorMessage(error)}`;
          this.send(res, draft, jsonError(errorAnswer(500, message, 'server_error')));
        },
      );
    });
  }

  /** Validates a fully read request like OpenAI does and produces the answer. */
  private async transcribe(req: http.IncomingMessage, body: Buffer, draft: Draft): Promise<Answer> {
    if (this.apiKey !== undefined) {
      const auth = req.headers.authorization;
      if (auth === undefined) {
        return jsonError(
          errorAnswer(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            'invalid_request_error',
          ),
        );
      }
      if (auth !== `Bearer ${this.apiKey}`) {
        return jsonError(errorAnswer(401, 'Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'));
      }
    }

    let parts: MultipartPart[];
    try {
      parts = parseMultipart(body, boundaryFromContentType(req.headers['content-type']));
    } catch (error: unknown) {
      if (!(error instanceof MultipartError)) throw error;
      const wrongType = error.code === 'MULTIPART_WRONG_TYPE' || error.code === 'MULTIPART_NO_CONTENT_TYPE';
      const message = wrongType
        ? `Invalid Content-Type header (${req.headers['content-type'] ?? 'none'}), expected multipart/form-data.`
        : `Could not parse multipart form: ${error.message}`;
      return jsonError(invalidRequest(message, null, 'invalid_multipart'));
    }

    let filePart: MultipartPart | undefined;
    for (const part of parts) {
      if (part.name === 'file') filePart ??= part;
      else if (!(part.name in draft.fields)) draft.fields[part.name] = part.data.toString('utf8');
    }
    if (filePart) {
      draft.file = {
        size: filePart.data.length,
        ...(filePart.filename !== undefined ? { filename: filePart.filename } : {}),
        ...(filePart.contentType !== undefined ? { contentType: filePart.contentType } : {}),
      };
    }

    const fieldsOrError = parseFields(draft.fields, this.requireModel);
    if ('status' in fieldsOrError) return fieldsOrError;
    const fields = fieldsOrError;
    if (!filePart) return jsonError(invalidRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter'));

    const extension = /\.([A-Za-z0-9]+)$/.exec(filePart.filename ?? '')?.[1]?.toLowerCase();
    if (extension === undefined || !SUPPORTED_EXTENSIONS.includes(extension)) {
      const message = `Unrecognized file format. Supported formats: [${SUPPORTED_EXTENSIONS.map((e) => `'${e}'`).join(', ')}]`;
      return jsonError(invalidRequest(message, 'file', 'invalid_value'));
    }

    let wav: ParsedWav;
    try {
      wav = parseWav(filePart.data);
    } catch (error: unknown) {
      if (!(error instanceof WavError)) throw error;
      return jsonError(invalidRequest(`Audio file might be corrupted or unsupported: ${error.message} [${error.code}]`, 'file', 'invalid_value'));
    }
    draft.file = {
      ...draft.file,
      size: filePart.data.length,
      sampleRate: wav.sampleRate,
      channels: wav.channels,
      durationSec: wav.durationSec,
      pcmBytes: wav.pcmBytes,
    };
    if (wav.durationSec < MIN_AUDIO_SECONDS) {
      return jsonError(
        invalidRequest('Audio file is too short. Minimum audio length is 0.1 seconds.', 'file', 'audio_too_short'),
      );
    }

    const pcm16k = toMono16k(wav.pcm, wav.sampleRate, wav.channels);
    const output = await this.transcriber(pcm16k, 16_000, fields);
    draft.decodedText = output.text;
    const forced = this.forced;
    const text =
      forced === null
        ? output.text
        : typeof forced === 'string'
          ? forced
          : forced({ decodedText: output.text, durationSec: wav.durationSec, fields });
    const noSpeechProb = this.noSpeechProb ?? output.noSpeechProb ?? 0;
    return formatTranscript(text, fields, wav.durationSec, noSpeechProb);
  }

  /** Sends an answer after the configured latency (unless `immediate`). */
  private send(res: http.ServerResponse, draft: Draft, answer: Answer, opts: { immediate?: boolean } = {}): void {
    draft.errorCode = answer.errorCode;
    const write = (): void => {
      if (res.destroyed || res.headersSent) return;
      draft.responseText = answer.body;
      res.writeHead(answer.status, {
        'content-type': answer.contentType,
        'content-length': Buffer.byteLength(answer.body),
        'x-request-id': `req_standin_${++this.requestSeq}`,
        ...answer.headers,
      });
      res.end(answer.body);
    };
    if (opts.immediate || this.latencyMs <= 0) {
      write();
      return;
    }
    const timer = this.clock.setTimeout(() => {
      this.latencyTimers.delete(timer);
      write();
    }, this.latencyMs);
    this.latencyTimers.add(timer);
  }

  /** Freezes the draft into a record exactly once and announces it. */
  private finish(draft: Draft, outcome: RequestOutcome, res: http.ServerResponse): void {
    if (draft.done) return;
    draft.done = true;
    const answered = outcome === 'answered';
    const record: WhisperRequestRecord = {
      receivedAt: draft.receivedAt,
      method: draft.method,
      path: draft.path,
      bytes: draft.bytes,
      ...(draft.contentLength !== undefined ? { contentLength: draft.contentLength } : {}),
      chunked: draft.chunked,
      headers: draft.headers,
      fields: draft.fields,
      file: draft.file,
      ...(draft.fault !== undefined ? { fault: draft.fault } : {}),
      outcome,
      status: answered ? res.statusCode : null,
      responseText: answered ? draft.responseText : '',
      ...(draft.decodedText !== undefined ? { decodedText: draft.decodedText } : {}),
      ...(answered && draft.errorCode !== undefined ? { errorCode: draft.errorCode } : {}),
    };
    this.records.push(record);
    this.emit('request', record);
  }
}

function jsonError(answer: ErrorAnswer): Answer {
  return {
    status: answer.status,
    body: JSON.stringify(answer.body),
    contentType: 'application/json',
    errorCode: answer.body.error.code,
    ...(answer.headers ? { headers: answer.headers } : {}),
  };
}

/** Checks the non-file fields; returns the parsed fields or a 400 answer. */
function parseFields(raw: Readonly<Record<string, string>>, requireModel: boolean): TranscriptionFields | Answer {
  if (requireModel && !raw.model) {
    return jsonError(invalidRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter'));
  }
  const format = raw.response_format ?? 'json';
  if (!(RESPONSE_FORMATS as readonly string[]).includes(format)) {
    const message = `Invalid value for 'response_format': '${format}'. This stand-in supports ${RESPONSE_FORMATS.join(', ')}.`;
    return jsonError(invalidRequest(message, 'response_format', 'invalid_value'));
  }
  let temperature: number | undefined;
  if (raw.temperature !== undefined) {
    temperature = Number(raw.temperature);
    if (raw.temperature.trim() === '' || !(temperature >= 0 && temperature <= 1)) {
      return jsonError(
        invalidRequest(`Invalid value for 'temperature': '${raw.temperature}'. Expected a number from 0 to 1.`, 'temperature', 'invalid_value'),
      );
    }
  }
  return {
    responseFormat: format as ResponseFormat,
    raw,
    ...(raw.model !== undefined ? { model: raw.model } : {}),
    ...(raw.language !== undefined ? { language: raw.language } : {}),
    ...(raw.prompt !== undefined ? { prompt: raw.prompt } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
  };
}

/** Whisper reports the language by name in verbose_json. */
const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'english',
  de: 'german',
  fr: 'french',
  es: 'spanish',
  it: 'italian',
  ja: 'japanese',
  nl: 'dutch',
  pt: 'portuguese',
};

/** Renders a transcript in the requested format, shaped like whisper-1's answers. */
function formatTranscript(text: string, fields: TranscriptionFields, durationSec: number, noSpeechProb: number): Answer {
  if (fields.responseFormat === 'text') {
    // whisper-1 ends text answers with a newline; clients must trim.
    return { status: 200, body: `${text}\n`, contentType: 'text/plain; charset=utf-8' };
  }
  if (fields.responseFormat === 'json') {
    return { status: 200, body: JSON.stringify({ text }), contentType: 'application/json' };
  }
  const language = fields.language === undefined ? 'english' : (LANGUAGE_NAMES[fields.language] ?? fields.language);
  const segments =
    text === ''
      ? []
      : [
          {
            id: 0,
            seek: 0,
            start: 0,
            end: round2(durationSec),
            // Whisper's segment texts start with a space; the top-level text does not.
            text: ` ${text}`,
            tokens: [],
            temperature: fields.temperature ?? 0,
            avg_logprob: noSpeechProb > WHISPER_NO_SPEECH_THRESHOLD ? SILENCE_AVG_LOGPROB : SPEECH_AVG_LOGPROB,
            compression_ratio: compressionRatio(text),
            no_speech_prob: noSpeechProb,
          },
        ];
  const body = { task: 'transcribe', language, duration: round2(durationSec), text, segments };
  return { status: 200, body: JSON.stringify(body), contentType: 'application/json' };
}

/** Whisper's repetition measure: UTF-8 length over zlib-compressed length. */
function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  return round2(bytes.length / deflateSync(bytes).length);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Flattens headers to strings and hides credentials. */
function redactedHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const flat = Array.isArray(value) ? value.join(', ') : value;
    if (name === 'authorization') out[name] = flat.startsWith('Bearer ') ? 'Bearer [redacted]' : '[redacted]';
    else if (name === 'api-key') out[name] = '[redacted]';
    else out[name] = flat;
  }
  return out;
}
