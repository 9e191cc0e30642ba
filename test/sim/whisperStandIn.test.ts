import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import { Agent, FormData, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../util/ManualClock.js';
import { dtmfPcm } from './audio/dtmf.js';
import { noisePcm, silencePcm } from './audio/signals.js';
import { wavFile, wavHeader } from './audio/wav.js';
import { boundaryFromContentType, parseMultipart } from './whisper/multipart.js';
import { parseWav } from './whisper/parseWav.js';
import type { TranscriptionFields } from './whisper/types.js';
import { MAX_BODY_BYTES, WhisperStandIn } from './whisper/WhisperStandIn.js';

interface PartSpec {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

/** Builds a real multipart/form-data body by hand (so tests control every byte). */
function multipart(parts: readonly PartSpec[], boundary = `----standin${randomBytes(8).toString('hex')}`) {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += '\r\n';
    if (part.contentType !== undefined) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A WAV of DTMF digits at Discord's format unless told otherwise. */
function dtmfWav(digits: string, sampleRate = 48_000, channels: 1 | 2 = 2): Buffer {
  return wavFile(dtmfPcm(digits, { sampleRate, channels, leadMs: 40, trailMs: 40 }), sampleRate, channels);
}

/** The usual request: file + model + extra fields. */
function transcriptionForm(file: Buffer, fields: Record<string, string> = {}, filename = 'segment.wav') {
  return multipart([
    { name: 'file', value: file, filename, contentType: 'audio/wav' },
    { name: 'model', value: 'whisper-1' },
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
  ]);
}

async function post(
  w: WhisperStandIn,
  form: { body: Buffer | Readable; contentType: string },
  headers: Record<string, string> = {},
  dispatcher?: Agent,
) {
  const res = await request(`${w.baseUrl}/audio/transcriptions`, {
    method: 'POST',
    headers: { 'content-type': form.contentType, ...headers },
    body: form.body,
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function errorOf(text: string): { message: string; type: string; param: string | null; code: string | null } {
  const parsed = JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } };
  return parsed.error;
}

describe('WhisperStandIn', () => {
  let w: WhisperStandIn;
  beforeEach(async () => {
    w = await WhisperStandIn.start();
  });
  afterEach(async () => {
    await w.close();
  });

  describe('happy path', () => {
    it('json: transcribes DTMF digits from a 48 kHz stereo WAV and records the request', async () => {
      const wav = dtmfWav('1122*#');
      const form = transcriptionForm(wav, { language: 'en', prompt: 'digits', temperature: '0' });
      const res = await post(w, form, { 'x-test': 'yes' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.text)).toEqual({ text: '1122*#' });

      const [record] = await w.waitForRequests(1);
      expect(record).toMatchObject({
        method: 'POST',
        path: '/v1/audio/transcriptions',
        bytes: form.body.length,
        contentLength: form.body.length,
        chunked: false,
        fields: { model: 'whisper-1', language: 'en', prompt: 'digits', temperature: '0' },
        outcome: 'answered',
        status: 200,
        responseText: res.text,
        decodedText: '1122*#',
      });
      expect(record!.headers['x-test']).toBe('yes');
      expect(record!.file).toEqual({
        filename: 'segment.wav',
        contentType: 'audio/wav',
        size: wav.length,
        sampleRate: 48_000,
        channels: 2,
        durationSec: (wav.length - 44) / 4 / 48_000,
        pcmBytes: wav.length - 44,
      });
      expect(record!.fault).toBeUndefined();
    });

    it('text: plain text with whisper-1 trailing newline; 16 kHz mono input', async () => {
      const res = await post(w, transcriptionForm(dtmfWav('0789', 16_000, 1), { response_format: 'text' }));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('0789\n');
      expect(w.requests[0]!.file).toMatchObject({ sampleRate: 16_000, channels: 1 });
    });

    it('verbose_json: task, language, duration and one segment with confidence fields', async () => {
      const wav = dtmfWav('42', 24_000, 1);
      const res = await post(w, transcriptionForm(wav, { response_format: 'verbose_json', language: 'de' }));
      expect(res.status).toBe(200);
      const body = JSON.parse(res.text) as Record<string, unknown> & { segments: Record<string, unknown>[] };
      const duration = Math.round(((wav.length - 44) / 2 / 24_000) * 100) / 100;
      expect(body).toMatchObject({ task: 'transcribe', language: 'german', duration, text: '42' });
      expect(body.segments).toHaveLength(1);
      expect(body.segments[0]).toMatchObject({ id: 0, start: 0, end: duration, text: ' 42', no_speech_prob: 0.02 });
      expect(body.segments[0]!.avg_logprob).toBeGreaterThan(-1);
      expect(body.segments[0]!.compression_ratio).toBeGreaterThan(0);
    });

    it('verbose_json on silence: empty text, no segments', async () => {
      const res = await post(w, transcriptionForm(wavFile(silencePcm(500, 16_000, 1), 16_000, 1), { response_format: 'verbose_json' }));
      expect(JSON.parse(res.text)).toMatchObject({ text: '', segments: [] });
      expect(w.requests[0]!.decodedText).toBe('');
    });

    it('accepts undici FormData with a Blob (what production code may send)', async () => {
      const fd = new FormData();
      fd.append('file', new Blob([dtmfWav('963')], { type: 'audio/wav' }), 'clip.wav');
      fd.append('model', 'whisper-1');
      const res = await request(`${w.baseUrl}/audio/transcriptions`, { method: 'POST', body: fd });
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({ text: '963' });
      expect(w.requests[0]!.file).toMatchObject({ filename: 'clip.wav', contentType: 'audio/wav' });
      expect(w.requests[0]!.contentLength).toBe(w.requests[0]!.bytes);
    });

    it('accepts and records a chunked body', async () => {
      const form = transcriptionForm(dtmfWav('5A'));
      const pieces = [form.body.subarray(0, 1000), form.body.subarray(1000, 5001), form.body.subarray(5001)];
      const res = await post(w, { body: Readable.from(pieces), contentType: form.contentType });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({ text: '5A' });
      expect(w.requests[0]).toMatchObject({ chunked: true, bytes: form.body.length });
      expect(w.requests[0]!.contentLength).toBeUndefined();
    });

    it('passes 16 kHz mono PCM and parsed fields to a pluggable transcriber', async () => {
      const seen: { length: number; sampleRate: number; fields: TranscriptionFields }[] = [];
      const custom = await WhisperStandIn.start({
        transcriber: async (pcm, sampleRate, fields) => {
          seen.push({ length: pcm.length, sampleRate, fields });
          return { text: `heard ${pcm.length} samples`, noSpeechProb: 0.3 };
        },
      });
      try {
        const wav = wavFile(noisePcm(500, -30, 48_000, 2, 3), 48_000, 2);
        const res = await post(custom, transcriptionForm(wav, { response_format: 'verbose_json', temperature: '0.4' }));
        expect(JSON.parse(res.text)).toMatchObject({ text: 'heard 8000 samples', segments: [{ no_speech_prob: 0.3, temperature: 0.4 }] });
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ length: 8000, sampleRate: 16_000 });
        expect(seen[0]!.fields).toMatchObject({ model: 'whisper-1', responseFormat: 'verbose_json', temperature: 0.4 });
      } finally {
        await custom.close();
      }
    });
  });

  describe('validation', () => {
    async function expect400(form: { body: Buffer; contentType: string }, code: string | null, param: string | null) {
      const res = await post(w, form);
      expect(res.status).toBe(400);
      const error = errorOf(res.text);
      expect(error).toMatchObject({ type: 'invalid_request_error', code, param });
      const record = w.requests.at(-1)!;
      expect(record).toMatchObject({ status: 400, errorCode: code, responseText: res.text });
      return error;
    }

    it('missing file', async () => {
      await expect400(multipart([{ name: 'model', value: 'whisper-1' }]), 'missing_required_parameter', 'file');
      expect(w.requests[0]!.file).toBeNull();
    });

    it('missing model (OpenAI requires it) unless requireModel is false', async () => {
      const form = multipart([{ name: 'file', value: dtmfWav('1'), filename: 'a.wav' }]);
      await expect400(form, 'missing_required_parameter', 'model');
      const lax = await WhisperStandIn.start({ requireModel: false });
      try {
        expect((await post(lax, form)).status).toBe(200);
      } finally {
        await lax.close();
      }
    });

    it('unknown response_format and bad temperature', async () => {
      const wav = dtmfWav('1');
      await expect400(transcriptionForm(wav, { response_format: 'yaml' }), 'invalid_value', 'response_format');
      await expect400(transcriptionForm(wav, { response_format: 'srt' }), 'invalid_value', 'response_format');
      await expect400(transcriptionForm(wav, { temperature: '1.5' }), 'invalid_value', 'temperature');
      await expect400(transcriptionForm(wav, { temperature: 'hot' }), 'invalid_value', 'temperature');
    });

    it('file name without a supported extension', async () => {
      await expect400(transcriptionForm(dtmfWav('1'), {}, 'segment'), 'invalid_value', 'file');
      await expect400(transcriptionForm(dtmfWav('1'), {}, 'segment.txt'), 'invalid_value', 'file');
    });

    it('broken WAV: not RIFF, wrong sample format', async () => {
      const notWav = await expect400(transcriptionForm(Buffer.from('ID3 this is not a wav file at all')), 'invalid_value', 'file');
      expect(notWav.message).toContain('WAV_NOT_RIFF');
      const float = dtmfWav('1', 16_000, 1);
      float.writeUInt16LE(3, 20); // WAVE_FORMAT_IEEE_FLOAT
      expect((await expect400(transcriptionForm(float), 'invalid_value', 'file')).message).toContain('WAV_UNSUPPORTED');
      const bits = dtmfWav('1', 16_000, 1);
      bits.writeUInt16LE(8, 34);
      expect((await expect400(transcriptionForm(bits), 'invalid_value', 'file')).message).toContain('WAV_UNSUPPORTED');
      const rate = dtmfWav('1', 16_000, 1);
      rate.writeUInt32LE(48_000, 28); // byteRate no longer matches sampleRate × blockAlign
      expect((await expect400(transcriptionForm(rate), 'invalid_value', 'file')).message).toContain('WAV_BAD_FMT');
    });

    it('inconsistent WAV sizes: data size must match the bytes present exactly', async () => {
      const pcm = dtmfPcm('1', { sampleRate: 16_000, channels: 1 });
      const data = Buffer.from(pcm.buffer);
      // Header claims more than is present (truncated upload).
      const truncated = Buffer.concat([wavHeader(data.length, 16_000, 1), data.subarray(0, data.length - 100)]);
      truncated.writeUInt32LE(truncated.length - 8, 4);
      expect((await expect400(transcriptionForm(truncated), 'invalid_value', 'file')).message).toContain('WAV_DATA_SIZE_MISMATCH');
      // Header claims less than is present (bytes the header does not cover).
      const extra = Buffer.concat([wavHeader(data.length - 100, 16_000, 1), data]);
      extra.writeUInt32LE(extra.length - 8, 4);
      expect((await expect400(transcriptionForm(extra), 'invalid_value', 'file')).message).toContain('WAV_TRUNCATED');
      // "Unknown length" streaming headers.
      const streaming = Buffer.concat([wavHeader(0xffffffff - 36, 16_000, 1), data]);
      streaming.writeUInt32LE(0xffffffff, 40);
      expect((await expect400(transcriptionForm(streaming), 'invalid_value', 'file')).message).toContain('WAV_RIFF_SIZE_MISMATCH');
      // RIFF size off by one.
      const riff = dtmfWav('1', 16_000, 1);
      riff.writeUInt32LE(riff.length - 7, 4);
      expect((await expect400(transcriptionForm(riff), 'invalid_value', 'file')).message).toContain('WAV_RIFF_SIZE_MISMATCH');
      // Odd data size for 16-bit mono.
      const odd = Buffer.concat([wavHeader(3201, 16_000, 1), Buffer.alloc(3201), Buffer.alloc(1)]);
      odd.writeUInt32LE(odd.length - 8, 4);
      expect((await expect400(transcriptionForm(odd), 'invalid_value', 'file')).message).toContain('WAV_DATA_SIZE_MISMATCH');
    });

    it('audio shorter than 0.1 s is audio_too_short; 0.1 s exactly is fine', async () => {
      const short = wavFile(silencePcm(99, 16_000, 1), 16_000, 1);
      const error = await expect400(transcriptionForm(short), 'audio_too_short', 'file');
      expect(error.message).toBe('Audio file is too short. Minimum audio length is 0.1 seconds.');
      expect(w.requests[0]!.file).toMatchObject({ durationSec: 0.099, pcmBytes: 3168 });
      expect((await post(w, transcriptionForm(wavFile(silencePcm(100, 48_000, 2), 48_000, 2)))).status).toBe(200);
      await expect400(transcriptionForm(wavHeader(0, 16_000, 1)), 'audio_too_short', 'file');
    });

    it('not multipart, or malformed multipart', async () => {
      await expect400({ body: Buffer.from('{"file":"x"}'), contentType: 'application/json' }, 'invalid_multipart', null);
      const form = transcriptionForm(dtmfWav('1'));
      const cut = form.body.subarray(0, form.body.length - 20); // closing boundary lost
      const error = await expect400({ body: cut, contentType: form.contentType }, 'invalid_multipart', null);
      expect(error.message).toContain('closing boundary');
    });

    it('411 when neither Content-Length nor chunked encoding is sent', async () => {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(w.port, '127.0.0.1', () => {
          socket.write(
            'POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
              'Content-Type: multipart/form-data; boundary=x\r\nConnection: close\r\n\r\n',
          );
        });
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 411 /);
      expect(answer).toContain('"code":"length_required"');
      expect(w.requests[0]).toMatchObject({ status: 411, chunked: false, bytes: 0 });
      expect(w.requests[0]!.contentLength).toBeUndefined();
    });

    it('404 for other paths, 405 for other methods', async () => {
      const res = await request(`${w.baseUrl}/audio/translations`, { method: 'POST', body: 'x' });
      expect(res.statusCode).toBe(404);
      expect(errorOf(await res.body.text()).message).toBe('Invalid URL (POST /v1/audio/translations)');
      const get = await request(`${w.baseUrl}/audio/transcriptions`);
      expect(get.statusCode).toBe(405);
      await get.body.text();
    });
  });

  describe('413', () => {
    it('rejects a body over 26,214,400 bytes, counting while streaming and not reading it all', async () => {
      const big = Buffer.alloc(MAX_BODY_BYTES + 4 * 1024 * 1024);
      const form = transcriptionForm(big);
      const res = await post(w, form);
      expect(res.status).toBe(413);
      expect(errorOf(res.text).message).toMatch(/^Maximum content size limit \(26214400\) exceeded \(\d+ bytes read\)$/);
      const record = w.requests[0]!;
      expect(record).toMatchObject({ status: 413, contentLength: form.body.length });
      expect(record.bytes).toBeGreaterThan(MAX_BODY_BYTES);
      // It stopped taking the body in right at the cap (within one socket read).
      expect(record.bytes).toBeLessThan(MAX_BODY_BYTES + 1024 * 1024);
      expect(errorOf(res.text).message).toContain(`(${record.bytes} bytes read)`);
      // The server is still fine afterwards.
      expect((await post(w, transcriptionForm(dtmfWav('7')))).text).toBe('{"text":"7"}');
    });

    it('also for a chunked body', async () => {
      async function* chunks() {
        for (let i = 0; i < 30; i++) yield Buffer.alloc(1024 * 1024, i);
      }
      const res = await post(w, { body: Readable.from(chunks()), contentType: 'multipart/form-data; boundary=x' });
      expect(res.status).toBe(413);
      expect(w.requests[0]).toMatchObject({ status: 413, chunked: true });
      expect(w.requests[0]!.bytes).toBeGreaterThan(MAX_BODY_BYTES);
      expect(w.requests[0]!.bytes).toBeLessThan(MAX_BODY_BYTES + 1024 * 1024);
    });

    it('exactly at the limit is not 413', async () => {
      const small = await WhisperStandIn.start({ maxBodyBytes: 200_000 });
      try {
        const form = transcriptionForm(dtmfWav('3', 16_000, 1));
        const padded = Buffer.concat([form.body, Buffer.alloc(200_000 - form.body.length)]); // epilogue after the close delimiter
        expect((await post(small, { body: padded, contentType: form.contentType })).status).toBe(200);
        const over = Buffer.concat([padded, Buffer.alloc(1)]);
        expect((await post(small, { body: over, contentType: form.contentType })).status).toBe(413);
      } finally {
        await small.close();
      }
    });
  });

  describe('auth', () => {
    it('401 without or with a wrong key, 200 with the right one; the key is redacted in records', async () => {
      const secure = await WhisperStandIn.start({ apiKey: 'sk-test-123' });
      try {
        const form = transcriptionForm(dtmfWav('12'));
        const none = await post(secure, form);
        expect(none.status).toBe(401);
        expect(errorOf(none.text).message).toMatch(/didn't provide an API key/);
        const wrong = await post(secure, form, { authorization: 'Bearer sk-nope' });
        expect(wrong.status).toBe(401);
        expect(errorOf(wrong.text).code).toBe('invalid_api_key');
        const ok = await post(secure, form, { authorization: 'Bearer sk-test-123' });
        expect(ok.status).toBe(200);
        expect(JSON.parse(ok.text)).toEqual({ text: '12' });
        expect(secure.requests.map((r) => r.headers.authorization)).toEqual([undefined, 'Bearer [redacted]', 'Bearer [redacted]']);
        expect(JSON.stringify(secure.requests)).not.toContain('sk-test-123');
      } finally {
        await secure.close();
      }
    });
  });

  describe('fault injection', () => {
    it('429 with Retry-After, then 500 and 503, in queue order, then normal again', async () => {
      w.failNext(1, { status: 429, retryAfterSeconds: 7 });
      w.failNext(1, { status: 500 });
      w.failNext(1, { status: 503, retryAfterSeconds: 2 });
      const form = transcriptionForm(dtmfWav('9'));
      const limited = await post(w, form);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('7');
      expect(limited.headers['x-ratelimit-remaining-requests']).toBe('0');
      expect(errorOf(limited.text)).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
      const failed = await post(w, form);
      expect(failed.status).toBe(500);
      expect(failed.headers['retry-after']).toBeUndefined();
      expect(errorOf(failed.text).type).toBe('server_error');
      const overloaded = await post(w, form);
      expect(overloaded.status).toBe(503);
      expect(overloaded.headers['retry-after']).toBe('2');
      expect((await post(w, form)).status).toBe(200);
      expect(w.requests.map((r) => [r.fault, r.status])).toEqual([
        ['fail', 429],
        ['fail', 500],
        ['fail', 503],
        [undefined, 200],
      ]);
      // Faulted requests were still read completely and recorded.
      expect(w.requests[0]!.bytes).toBe(form.body.length);
    });

    it('failNext(n) fails exactly n requests', async () => {
      w.failNext(2, { status: 500 });
      const form = transcriptionForm(dtmfWav('9'));
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(w, form)).status);
      expect(statuses).toEqual([500, 500, 200]);
    });

    it('down() refuses connections, up() serves again on the same port', async () => {
      const port = w.port;
      const form = transcriptionForm(dtmfWav('4'));
      expect((await post(w, form)).status).toBe(200);
      await w.down();
      const agent = new Agent();
      try {
        await expect(post(w, form, {}, agent)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        await expect(post(w, form)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      } finally {
        await agent.close();
      }
      await w.up();
      expect(w.port).toBe(port);
      expect(w.baseUrl).toBe(`http://127.0.0.1:${port}/v1`);
      expect((await post(w, form)).text).toBe('{"text":"4"}');
    });

    it('hangNext: body is read, no answer ever comes; close() ends it', async () => {
      const standIn = await WhisperStandIn.start();
      standIn.hangNext();
      const form = transcriptionForm(dtmfWav('8'));
      const pending = post(standIn, form);
      pending.catch(() => {});
      const [record] = await standIn.waitForRequests(1);
      expect(record).toMatchObject({ outcome: 'hung', status: null, fault: 'hang', bytes: form.body.length, responseText: '' });
      const tooLate = await Promise.race([pending.then(() => 'answered'), new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
      expect(tooLate).toBe('still waiting');
      await standIn.close();
      await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    });

    it('hangNext: a client timeout fires, and the next request is answered', async () => {
      w.hangNext(1);
      const form = transcriptionForm(dtmfWav('8'));
      await expect(
        request(`${w.baseUrl}/audio/transcriptions`, {
          method: 'POST',
          headers: { 'content-type': form.contentType },
          body: form.body,
          signal: AbortSignal.timeout(200),
        }),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      expect((await post(w, form)).status).toBe(200);
      expect(w.requests.map((r) => r.outcome)).toEqual(['hung', 'answered']);
    });

    it('resetNext: the socket is destroyed mid-request', async () => {
      w.resetNext(1);
      const form = transcriptionForm(dtmfWav('2'));
      const error: unknown = await post(w, form).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/) });
      const [record] = await w.waitForRequests(1);
      expect(record).toMatchObject({ outcome: 'reset', status: null, fault: 'reset' });
      expect(record!.bytes).toBeGreaterThan(0);
      expect(record!.bytes).toBeLessThanOrEqual(form.body.length);
      expect((await post(w, form)).text).toBe('{"text":"2"}');
    });

    it('down() while a request hangs breaks that request too', async () => {
      w.hangNext();
      const pending = post(w, transcriptionForm(dtmfWav('1')));
      pending.catch(() => {});
      await w.waitForRequests(1);
      await w.down();
      await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
      await w.up();
    });

    it('latencyMs delays answers on the injected clock', async () => {
      const clock = new ManualClock(1_000);
      const slow = await WhisperStandIn.start({ clock, latencyMs: 5_000 });
      try {
        const pending = post(slow, transcriptionForm(dtmfWav('6')));
        let settled = false;
        void pending.then(() => (settled = true));
        // Give the request time to arrive and be processed on the real event loop.
        await new Promise((r) => setTimeout(r, 200));
        expect(settled).toBe(false);
        clock.advance(4_999);
        await new Promise((r) => setTimeout(r, 50));
        expect(settled).toBe(false);
        clock.advance(1);
        expect((await pending).text).toBe('{"text":"6"}');
        expect(slow.requests[0]!.receivedAt).toBe(1_000);
        slow.latencyMs = 0;
        expect((await post(slow, transcriptionForm(dtmfWav('6')))).status).toBe(200);
      } finally {
        await slow.close();
      }
    });

    it('answerWith forces a hallucination; noSpeechProb can be overridden', async () => {
      w.answerWith('Thank you for watching!');
      const silent = transcriptionForm(wavFile(silencePcm(2000, 16_000, 1), 16_000, 1), { response_format: 'verbose_json' });
      const res = await post(w, silent);
      const body = JSON.parse(res.text) as { text: string; segments: { no_speech_prob: number; avg_logprob: number }[] };
      expect(body.text).toBe('Thank you for watching!');
      expect(body.segments[0]!.no_speech_prob).toBe(0.9);
      expect(body.segments[0]!.avg_logprob).toBeLessThan(-1);
      expect(w.requests[0]).toMatchObject({ decodedText: '', status: 200 });

      w.noSpeechProb = 0.1;
      const low = JSON.parse((await post(w, silent)).text) as { segments: { no_speech_prob: number }[] };
      expect(low.segments[0]!.no_speech_prob).toBe(0.1);

      w.answerWith(({ decodedText, durationSec }) => `${decodedText} (${durationSec}s) ご視聴ありがとうございました`);
      const fn = await post(w, transcriptionForm(dtmfWav('55', 16_000, 1)));
      expect(JSON.parse(fn.text).text).toMatch(/^55 \(0\.\d+s\) ご視聴ありがとうございました$/);

      w.answerWith(null);
      w.noSpeechProb = null;
      expect((await post(w, transcriptionForm(dtmfWav('55')))).text).toBe('{"text":"55"}');
    });
  });
});

describe('multipart parser', () => {
  it('keeps binary content exact, even near-miss boundaries', () => {
    // Only CRLF + "--bound" delimits; these prefixes and bare-LF variants must stay content.
    const nearMisses = Buffer.from('--bound\r\n\r\n--boun\n--bound\r\n-bound\r\n--bounX');
    const tricky = Buffer.concat([nearMisses, randomBytes(4096).map((b) => (b === 13 ? 12 : b)), Buffer.from([0, 13, 10, 45, 45])]);
    const { body, contentType } = multipart(
      [
        { name: 'file', value: tricky, filename: 'x.wav', contentType: 'application/octet-stream' },
        { name: 'prompt', value: 'Grüße, "quoted"' },
      ],
      'bound',
    );
    const parts = parseMultipart(body, boundaryFromContentType(contentType));
    expect(parts).toHaveLength(2);
    expect(parts[0]!.data.equals(tricky)).toBe(true);
    expect(parts[0]).toMatchObject({ name: 'file', filename: 'x.wav', contentType: 'application/octet-stream' });
    expect(parts[1]!.data.toString('utf8')).toBe('Grüße, "quoted"');
  });

  it('handles quoted boundaries, preamble, epilogue, escapes and filename*', () => {
    expect(boundaryFromContentType('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
    const body = Buffer.from(
      'preamble\r\n--a b:c\r\n' +
        'content-disposition: form-data; name="file"; filename="fall\\"back.wav"; filename*=UTF-8\'\'%E2%82%AC.wav\r\n\r\n' +
        'DATA\r\n--a b:c  \r\n' +
        'Content-Disposition: form-data; name=model\r\n\r\nwhisper-1\r\n--a b:c--\r\nepilogue',
    );
    const parts = parseMultipart(body, 'a b:c');
    expect(parts.map((p) => [p.name, p.filename, p.data.toString()])).toEqual([
      ['file', '€.wav', 'DATA'],
      ['model', undefined, 'whisper-1'],
    ]);
    const noStar = parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="f"; filename="q\\"x.wav"\r\n\r\n\r\n--b--'), 'b');
    expect(noStar[0]).toMatchObject({ filename: 'q"x.wav' });
    expect(noStar[0]!.data.length).toBe(0);
  });

  it('rejects malformed bodies with codes', () => {
    expect(() => boundaryFromContentType('multipart/form-data')).toThrow(expect.objectContaining({ code: 'MULTIPART_NO_BOUNDARY' }));
    expect(() => boundaryFromContentType('text/plain; boundary=x')).toThrow(expect.objectContaining({ code: 'MULTIPART_WRONG_TYPE' }));
    expect(() => parseMultipart(Buffer.from('nothing here'), 'b')).toThrow(expect.objectContaining({ code: 'MULTIPART_NO_PARTS' }));
    expect(() => parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nxyz'), 'b')).toThrow(
      expect.objectContaining({ code: 'MULTIPART_UNTERMINATED' }),
    );
    expect(() => parseMultipart(Buffer.from('--b\r\nX-Other: 1\r\n\r\nxyz\r\n--b--'), 'b')).toThrow(
      expect.objectContaining({ code: 'MULTIPART_BAD_HEADERS' }),
    );
    expect(() => parseMultipart(Buffer.from('--bX\r\n\r\n'), 'b')).toThrow(expect.objectContaining({ code: 'MULTIPART_BAD_DELIMITER' }));
  });
});

describe('parseWav', () => {
  it('reads format and PCM, skipping unknown chunks, with odd-offset data', () => {
    const pcm = new Int16Array([1, -2, 3, -4, 32767, -32768]);
    const wav = wavFile(pcm, 22_050, 2);
    // Insert a LIST chunk (odd size + pad byte) between fmt and data.
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    const withList = Buffer.concat([wav.subarray(0, 36), list, wav.subarray(36)]);
    withList.writeUInt32LE(withList.length - 8, 4);
    const shifted = Buffer.concat([Buffer.alloc(1), withList]).subarray(1); // odd byteOffset
    const parsed = parseWav(shifted);
    expect(parsed).toMatchObject({ sampleRate: 22_050, channels: 2, frames: 3, pcmBytes: 12 });
    expect([...parsed.pcm]).toEqual([...pcm]);
    expect(parsed.durationSec).toBeCloseTo(3 / 22_050, 10);
  });
});
