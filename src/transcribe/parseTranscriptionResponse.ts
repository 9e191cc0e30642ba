import type { TranscriptionResult } from './Transcriber.js';
import { TranscribeError } from './TranscribeError.js';

/** The response formats the client can ask for and parse. */
export type ResponseFormat = 'verbose_json' | 'json' | 'text';

/**
 * Turns a 2xx body into a result. `json` → `{ text }`; `verbose_json` → `{ text, segments?: [{ no_speech_prob }] }`
 * (noSpeechProb = the highest finite no_speech_prob); `text` → the body itself (whisper.cpp labels it text/html).
 * The text is trimmed: Whisper prefixes a space. Anything else is TRX_BAD_RESPONSE, a service fault: the server
 * (or a proxy's maintenance page in front of it) is not speaking the API we were configured for, which says nothing
 * about the audio, so the caller keeps it for later.
 */
export function parseTranscriptionResponse(body: string, format: ResponseFormat): TranscriptionResult {
  if (format === 'text') {
    // A proxy's error or maintenance page arrives as a 2xx HTML document; no transcript starts like one, and posting
    // it would lose the audio behind it. (whisper.cpp labels real text text/html, so the header cannot tell.)
    if (/^\s*<(!doctype\s+html|html)[\s>]/i.test(body)) throw badResponse('text response is an HTML page', body);
    return { text: body.trim() };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw badResponse(`${format} response is not JSON`, body, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badResponse(`${format} response is not a JSON object`, body);
  }
  if (!('text' in parsed) || typeof parsed.text !== 'string') {
    throw badResponse(`${format} response has no string "text"`, body);
  }
  const text = parsed.text.trim();
  if (!('segments' in parsed) || parsed.segments === undefined || parsed.segments === null) return { text };
  if (!Array.isArray(parsed.segments)) throw badResponse('"segments" is not an array', body);

  let noSpeechProb: number | undefined;
  for (const segment of parsed.segments as unknown[]) {
    if (typeof segment !== 'object' || segment === null) throw badResponse('a segment is not an object', body);
    if (!('no_speech_prob' in segment)) continue;
    const p = segment.no_speech_prob;
    // null stands in for NaN in some servers' JSON; it says nothing either way.
    if (p === null) continue;
    if (typeof p !== 'number') throw badResponse('no_speech_prob is not a number', body);
    if (Number.isFinite(p) && (noSpeechProb === undefined || p > noSpeechProb)) noSpeechProb = p;
  }
  return noSpeechProb === undefined ? { text } : { text, noSpeechProb };
}

function badResponse(message: string, body: string, cause?: unknown): TranscribeError {
  return new TranscribeError('TRX_BAD_RESPONSE', message, { retryable: true, serviceFault: true, bodyExcerpt: body.slice(0, 200), cause });
}
