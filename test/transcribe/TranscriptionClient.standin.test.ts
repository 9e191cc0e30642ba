// Interop with the independently written Whisper stand-in (strict multipart + WAV validation, DTMF backend).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TranscriptionClient } from '../../src/transcribe/TranscriptionClient.js';
import { Metrics } from '../../src/util/Metrics.js';
import { dtmfPcm } from '../sim/audio/dtmf.js';
import { silencePcm } from '../sim/audio/signals.js';
import { WhisperStandIn } from '../sim/whisper/WhisperStandIn.js';
import { ChunkedSource, split } from './support/audio.js';

const API_KEY = 'sk-standin-key-123456';

function source(pcm: Int16Array): ChunkedSource {
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return new ChunkedSource(split(bytes, [640, 640, 640, 5000]), 'async');
}

describe('TranscriptionClient against the Whisper stand-in', () => {
  let standIn: WhisperStandIn;
  let client: TranscriptionClient;
  let metrics: Metrics;

  beforeEach(async () => {
    standIn = await WhisperStandIn.start({ apiKey: API_KEY });
    metrics = new Metrics();
    client = new TranscriptionClient({ baseUrl: standIn.baseUrl, model: 'whisper-1', apiKey: API_KEY, metrics, backoffBaseMs: 5 });
  });
  afterEach(async () => {
    await client.close();
    await standIn.close();
  });

  it('delivers exactly the audio sent: DTMF digits come back, fixed length, no chunked encoding', async () => {
    const result = await client.transcribe({ audio: source(dtmfPcm('4711', { sampleRate: 16_000, channels: 1 })), language: 'en' });
    expect(result.text).toBe('4711');
    expect(result.noSpeechProb).toBeLessThan(0.6);
    const [record] = standIn.requests;
    expect(record).toMatchObject({ status: 200, chunked: false, fields: { model: 'whisper-1', language: 'en', response_format: 'verbose_json' } });
    expect(record!.contentLength).toBe(record!.bytes);
    expect(record!.file).toMatchObject({ filename: 'segment.wav', sampleRate: 16_000, channels: 1 });
  });

  it('a hallucination on silence comes back with its high no_speech_prob', async () => {
    standIn.answerWith('Thank you.');
    const result = await client.transcribe({ audio: source(silencePcm(1000, 16_000, 1)) });
    expect(result.text).toBe('Thank you.');
    expect(result.noSpeechProb).toBeGreaterThan(0.6);
  });

  it('retries an injected 500 and a server that is down', async () => {
    standIn.failNext(1, { status: 500 });
    expect((await client.transcribe({ audio: source(dtmfPcm('12', { sampleRate: 16_000, channels: 1 })) })).text).toBe('12');
    expect(standIn.requests.map((r) => r.status)).toEqual([500, 200]);

    await standIn.down();
    // Slow, non-random backoff so up() lands between attempts.
    const patient = new TranscriptionClient({ baseUrl: standIn.baseUrl, model: 'whisper-1', apiKey: API_KEY, metrics, backoffBaseMs: 200, random: () => 0.999 });
    try {
      const pending = patient.transcribe({ audio: source(dtmfPcm('9', { sampleRate: 16_000, channels: 1 })) });
      while (metrics.get('transcribe_retries_total') < 2) await new Promise((r) => setTimeout(r, 5));
      await standIn.up();
      expect((await pending).text).toBe('9');
    } finally {
      await patient.close();
    }
  });

  it('a wrong API key is a 401 service fault: one request, the audio to be kept', async () => {
    const wrong = new TranscriptionClient({ baseUrl: standIn.baseUrl, model: 'whisper-1', apiKey: 'sk-wrong-key-000000' });
    try {
      await expect(wrong.transcribe({ audio: source(dtmfPcm('1', { sampleRate: 16_000, channels: 1 })) })).rejects.toMatchObject({
        code: 'TRX_HTTP_STATUS',
        status: 401,
        retryable: true,
        serviceFault: true,
      });
      expect(standIn.requests).toHaveLength(1);
    } finally {
      await wrong.close();
    }
  });
});
