import { randomBytes } from 'node:crypto';
import type { AudioSource } from '../audio/Segment.js';
import { WAV_HEADER_BYTES, writeWavHeader } from '../audio/wav.js';
import { TranscribeError } from './TranscribeError.js';

/** The text fields of an OpenAI-style /audio/transcriptions form, in the order they are sent. */
export interface TranscriptionFormFields {
  readonly model: string;
  /** ISO-639-1; omitted when empty. */
  readonly language?: string;
  /** Omitted when empty. */
  readonly prompt?: string;
  /** e.g. 'verbose_json', 'json', 'text'. */
  readonly responseFormat: string;
  readonly temperature?: number;
}

/** A multipart/form-data request body that can be streamed any number of times. */
export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  readonly contentType: string;
  /** Exact byte length of what {@link MultipartBody.body} yields; send it as Content-Length. */
  readonly contentLength: number;
  /** A fresh pass over the whole body (parts, WAV header, the PCM chunks as the source gives them, closing boundary). */
  body(): AsyncIterable<Uint8Array>;
}

const FILE_NAME = 'segment.wav';
const CRLF = '\r\n';
// RIFF sizes are uint32 and the RIFF size field counts 36 header bytes besides the data.
const MAX_WAV_DATA_BYTES = 0xffff_ffff - (WAV_HEADER_BYTES - 8);

/**
 * Builds the multipart body of a transcription request whose file part is a 16 kHz mono s16le WAV made from
 * `audio`. The PCM is never copied or concatenated: each attempt re-reads `audio.chunks()` and yields them as
 * they are, so a segment is held once in memory (or not at all, when it comes from a spool file). The text parts,
 * file part header and WAV header are one small buffer built once and re-sent on every attempt, so retries send
 * identical bytes. A known length lets undici send Content-Length instead of chunked encoding, which several
 * self-hosted Whisper servers reject.
 */
export function multipartBody(
  audio: AudioSource,
  fields: TranscriptionFormFields,
  boundary: string = randomBoundary(),
): MultipartBody {
  const dataBytes = audio.byteLength;
  if (!Number.isSafeInteger(dataBytes) || dataBytes < 0 || dataBytes > MAX_WAV_DATA_BYTES) {
    throw new TranscribeError('TRX_AUDIO', `audio byteLength ${dataBytes} cannot be a WAV data size`, { retryable: false });
  }

  const textFields: [string, string][] = [['model', fields.model]];
  if (fields.language) textFields.push(['language', fields.language]);
  if (fields.prompt) textFields.push(['prompt', fields.prompt]);
  textFields.push(['response_format', fields.responseFormat]);
  if (fields.temperature !== undefined) textFields.push(['temperature', String(fields.temperature)]);
  for (const [, value] of textFields) {
    // With a 128-bit random boundary this only trips on a caller-chosen boundary.
    if (value.includes(boundary)) throw new TranscribeError('TRX_REQUEST', 'form field contains the multipart boundary', { retryable: false });
  }

  let preamble = '';
  for (const [name, value] of textFields) {
    preamble += `--${boundary}${CRLF}Content-Disposition: form-data; name="${name}"${CRLF}${CRLF}${value}${CRLF}`;
  }
  preamble +=
    `--${boundary}${CRLF}Content-Disposition: form-data; name="file"; filename="${FILE_NAME}"${CRLF}` +
    `Content-Type: audio/wav${CRLF}${CRLF}`;
  const preambleBytes = Buffer.byteLength(preamble, 'utf8');
  const head = Buffer.alloc(preambleBytes + WAV_HEADER_BYTES);
  head.write(preamble, 0, 'utf8');
  writeWavHeader(head, preambleBytes, dataBytes);
  const tail = Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'latin1');

  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: head.byteLength + dataBytes + tail.byteLength,
    body: () => streamBody(head, audio, dataBytes, tail),
  };
}

/** A boundary that cannot plausibly occur in the fields or the PCM (128 random bits). */
function randomBoundary(): string {
  return `tinyscribe-${randomBytes(16).toString('hex')}`;
}

async function* streamBody(head: Buffer, audio: AudioSource, dataBytes: number, tail: Buffer): AsyncGenerator<Uint8Array> {
  yield head;
  let sent = 0;
  try {
    // `for await` also walks a plain Iterable, so slab-backed and file-backed sources work alike.
    for await (const chunk of audio.chunks()) {
      sent += chunk.byteLength;
      if (sent > dataBytes) break;
      if (chunk.byteLength > 0) yield chunk;
    }
  } catch (error) {
    throw new TranscribeError('TRX_AUDIO', 'reading the audio source failed', { retryable: false, cause: error });
  }
  // Checked here rather than left to undici so the error says whose fault it is.
  if (sent !== dataBytes) {
    throw new TranscribeError('TRX_AUDIO', `audio source yielded ${sent > dataBytes ? 'more' : 'fewer'} bytes than its byteLength ${dataBytes}`, {
      retryable: false,
    });
  }
  yield tail;
}
