import { afterEach, describe, expect, it } from 'vitest';
import { parseWavHeader, WAV_HEADER_BYTES } from '../../src/audio/wav.js';
import { TranscribeError } from '../../src/transcribe/TranscribeError.js';
import { TranscriptionClient, type TranscriptionClientOptions } from '../../src/transcribe/TranscriptionClient.js';
import { createLogger } from '../../src/util/logger.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';
import { ChunkedSource, patternPcm, split } from './support/audio.js';
import { freePort, LoopbackServer, pause, waitFor, type RecordedRequest, type Reply } from './support/loopbackServer.js';
import { formFields, parseMultipart } from './support/parseMultipart.js';

const API_KEY = 'sk-test-0123456789abcdef';
const pcm = patternPcm(16_000); // 0.5 s
const audio = (): ChunkedSource => new ChunkedSource(split(pcm, [640, 640, 3000]));

const ok = (body: unknown): Reply => ({ status: 200, body: typeof body === 'string' ? body : JSON.stringify(body) });
const fieldsOf = (r: RecordedRequest): Record<string, string> => formFields(parseMultipart(r.body, r.headers['content-type']!));

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function serve(reply: (r: RecordedRequest, i: number) => Reply): Promise<LoopbackServer> {
  const server = new LoopbackServer(reply);
  await server.start();
  cleanup.push(() => server.close());
  return server;
}

function client(options: Partial<TranscriptionClientOptions> & { baseUrl: string }): TranscriptionClient {
  const c = new TranscriptionClient({ model: 'whisper-1', apiKey: API_KEY, backoffBaseMs: 5, backoffMaxMs: 20, ...options });
  cleanup.push(() => c.close());
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<TranscribeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TranscribeError);
    return error as TranscribeError;
  }
  throw new Error('expected a rejection');
}

describe('TranscriptionClient: success', () => {
  it('json: sends a complete, fixed-length multipart WAV with auth and returns the trimmed text', async () => {
    const server = await serve(() => ok({ text: ' Hello there. ' }));
    const c = client({ baseUrl: server.baseUrl + '/', responseFormat: 'json', language: 'en', prompt: 'Names: Zoë' });
    const result = await c.transcribe({ audio: audio() });
    expect(result).toEqual({ text: 'Hello there.' });

    const [req] = server.requests;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/v1/audio/transcriptions');
    expect(req!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req!.headers['transfer-encoding']).toBeUndefined();
    expect(Number(req!.headers['content-length'])).toBe(req!.body.byteLength);
    const parts = parseMultipart(req!.body, req!.headers['content-type']!);
    expect(formFields(parts)).toEqual({ model: 'whisper-1', language: 'en', prompt: 'Names: Zoë', response_format: 'json' });
    const file = parts.find((p) => p.name === 'file')!;
    expect(file.filename).toBe('segment.wav');
    expect(parseWavHeader(file.data).dataBytes).toBe(pcm.byteLength);
    expect(file.data.subarray(WAV_HEADER_BYTES).equals(pcm)).toBe(true);
  });

  it('verbose_json (default): takes text and the highest no_speech_prob; request fields override defaults', async () => {
    const server = await serve(() =>
      ok({ text: 'ciao', language: 'italian', segments: [{ no_speech_prob: 0.12 }, { no_speech_prob: 0.71 }, { id: 3 }] }),
    );
    const c = client({ baseUrl: server.baseUrl, language: 'en' });
    const result = await c.transcribe({ audio: audio(), language: 'it', prompt: 'p' });
    expect(result).toEqual({ text: 'ciao', noSpeechProb: 0.71 });
    expect(fieldsOf(server.requests[0]!)).toMatchObject({ response_format: 'verbose_json', language: 'it', prompt: 'p' });
  });

  it('verbose_json without segments gives no noSpeechProb', async () => {
    const server = await serve(() => ok({ text: 'x' }));
    const result = await client({ baseUrl: server.baseUrl }).transcribe({ audio: audio() });
    expect(result).toEqual({ text: 'x' });
  });

  it('text: returns the body (whisper.cpp sends text/html), no Authorization without apiKey', async () => {
    const server = await serve(() => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: ' hello world\n' }));
    const c = client({ baseUrl: server.baseUrl, responseFormat: 'text', apiKey: undefined });
    expect(await c.transcribe({ audio: audio() })).toEqual({ text: 'hello world' });
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(fieldsOf(server.requests[0]!).response_format).toBe('text');
  });

  it('rejects a 2xx body of the wrong shape with TRX_BAD_RESPONSE, without retrying now, as a service fault (audio kept)', async () => {
    const server = await serve((_, i) => ok(i === 0 ? '<html>proxy</html>' : { result: 'no text field' }));
    const c = client({ baseUrl: server.baseUrl, responseFormat: 'json' });
    const fault = { code: 'TRX_BAD_RESPONSE', retryable: true, serviceFault: true };
    expect(await rejection(c.transcribe({ audio: audio() }))).toMatchObject(fault);
    expect(await rejection(c.transcribe({ audio: audio() }))).toMatchObject(fault);
    expect(server.requests).toHaveLength(2);
  });

  it('counts requests and latency in Metrics', async () => {
    const server = await serve(() => ok({ text: 'x' }));
    const metrics = new Metrics();
    const c = client({ baseUrl: server.baseUrl, metrics });
    await c.transcribe({ audio: audio() });
    await c.transcribe({ audio: audio() });
    expect(metrics.get('transcribe_requests_total')).toBe(2);
    expect(metrics.get('transcribe_failures_total')).toBe(0);
    const latency = metrics.list().find((m) => m.name === 'transcribe_latency_seconds')!;
    expect(latency.kind).toBe('summary');
    expect(latency.count).toBe(2);
    expect(latency.value).toBeGreaterThan(0);
  });
});

describe('TranscriptionClient: retries', () => {
  it('429 with Retry-After: 2 is retried no sooner than 2 s (ManualClock)', async () => {
    const server = await serve((_, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: '{"error":{"message":"Rate limit"}}' } : ok({ text: 'after wait' }),
    );
    const clock = new ManualClock();
    const metrics = new Metrics();
    // random() ≈ 1 makes the jitter as long as it gets (≤ 20 ms), so only Retry-After can explain a 2 s wait.
    const c = client({ baseUrl: server.baseUrl, clock, metrics, random: () => 0.999 });
    const pending = c.transcribe({ audio: audio() });

    await waitFor(() => metrics.get('transcribe_retries_total') === 1, 5000, 'retry scheduled');
    expect(metrics.get('transcribe_rate_limited_total')).toBe(1);
    clock.advance(1999);
    await pause(100);
    expect(server.requests).toHaveLength(1);
    clock.advance(1);
    expect(await pending).toEqual({ text: 'after wait' });
    expect(server.requests).toHaveLength(2);
  });

  it('503 with an HTTP-date Retry-After waits until that date', async () => {
    const clock = new ManualClock();
    const server = await serve((_, i) =>
      i === 0 ? { status: 503, headers: { 'retry-after': new Date(clock.now() + 3000).toUTCString() }, body: 'busy' } : ok({ text: 'ok' }),
    );
    const metrics = new Metrics();
    const c = client({ baseUrl: server.baseUrl, clock, metrics, random: () => 0 });
    const pending = c.transcribe({ audio: audio() });
    await waitFor(() => metrics.get('transcribe_retries_total') === 1);
    clock.advance(2999);
    await pause(100);
    expect(server.requests).toHaveLength(1);
    clock.advance(1);
    expect(await pending).toEqual({ text: 'ok' });
  });

  it('500 then success; the retried body is byte-identical and the source is re-read', async () => {
    const server = await serve((_, i) => (i === 0 ? { status: 500, body: 'oops' } : ok({ text: 'second time lucky' })));
    const metrics = new Metrics();
    const source = audio();
    const result = await client({ baseUrl: server.baseUrl, metrics }).transcribe({ audio: source });
    expect(result.text).toBe('second time lucky');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body.equals(server.requests[0]!.body)).toBe(true);
    expect(server.requests[1]!.headers['content-type']).toBe(server.requests[0]!.headers['content-type']);
    expect(source.calls).toBe(2);
    expect(metrics.get('transcribe_retries_total')).toBe(1);
    expect(metrics.get('transcribe_failures_total')).toBe(0);
  });

  it('connection refused, then the server comes up: succeeds on the retry', async () => {
    const port = await freePort();
    const clock = new ManualClock();
    const metrics = new Metrics();
    const c = client({ baseUrl: `http://127.0.0.1:${port}/v1`, clock, metrics });
    const pending = c.transcribe({ audio: audio() });
    await waitFor(() => metrics.get('transcribe_retries_total') === 1, 5000, 'retry after ECONNREFUSED');

    const server = new LoopbackServer(() => ok({ text: 'up again' }));
    await server.start(port);
    cleanup.push(() => server.close());
    clock.advance(1000);
    expect(await pending).toEqual({ text: 'up again' });
    expect(server.requests).toHaveLength(1);
  });

  it('a server that stays down ends in TRX_RETRIES_EXHAUSTED caused by TRX_CONNECT', async () => {
    const port = await freePort();
    const error = await rejection(client({ baseUrl: `http://127.0.0.1:${port}/v1`, maxAttempts: 2 }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_RETRIES_EXHAUSTED', retryable: true, attempts: 2 });
    expect(error.cause).toMatchObject({ code: 'TRX_CONNECT', retryable: true });
    expect(String((error.cause as TranscribeError).message)).toContain('ECONNREFUSED');
  });

  it('a dropped connection (socket destroyed) is retried', async () => {
    const server = await serve((_, i) => (i === 0 ? 'destroy' : ok({ text: 'fine' })));
    expect(await client({ baseUrl: server.baseUrl }).transcribe({ audio: audio() })).toEqual({ text: 'fine' });
    expect(server.requests).toHaveLength(2);
  });

  it('400 is final: one request, TRX_HTTP_STATUS with status and body excerpt, not retryable', async () => {
    const body = JSON.stringify({ error: { message: 'Audio file is too short. Minimum audio length is 0.1 seconds.', code: 'audio_too_short' } });
    const server = await serve(() => ({ status: 400, body }));
    const metrics = new Metrics();
    const error = await rejection(client({ baseUrl: server.baseUrl, metrics }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_HTTP_STATUS', status: 400, retryable: false });
    expect(error.bodyExcerpt).toContain('audio_too_short');
    expect(error.message).toContain('400');
    expect(server.requests).toHaveLength(1);
    expect(metrics.get('transcribe_failures_total')).toBe(1);
    expect(metrics.get('transcribe_retries_total')).toBe(0);
  });

  it.each([413, 415, 422])('%i refuses the recording: final, not retried, not a service fault', async (status) => {
    const server = await serve(() => ({ status, body: '{"error":"no"}' }));
    const error = await rejection(client({ baseUrl: server.baseUrl }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_HTTP_STATUS', status, retryable: false, serviceFault: false });
    expect(server.requests).toHaveLength(1);
  });

  it.each([401, 403, 404, 405, 407, 402, 301])('%i is a service fault: not retried now, but the audio is to be kept', async (status) => {
    const server = await serve(() => ({ status, body: '{"error":"no"}' }));
    const metrics = new Metrics();
    const error = await rejection(client({ baseUrl: server.baseUrl, metrics }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_HTTP_STATUS', status, retryable: true, serviceFault: true });
    expect(error.bodyExcerpt).toBe('{"error":"no"}');
    // One request: a rejected key answers the same a second later; the spool's slow backoff tries again.
    expect(server.requests).toHaveLength(1);
    expect(metrics.get('transcribe_retries_total')).toBe(0);
  });

  it('never puts the API key into errors or logs, even when the server echoes it', async () => {
    const server = await serve((_, i) =>
      i === 0 ? { status: 503, body: `bad key ${API_KEY}` } : { status: 401, body: `Incorrect API key provided: ${API_KEY}` },
    );
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    const error = await rejection(client({ baseUrl: server.baseUrl, logger }).transcribe({ audio: audio() }));
    expect(error.status).toBe(401);
    expect(lines.length).toBeGreaterThan(0); // the retry was logged
    expect(lines.join('\n')).not.toContain(API_KEY);
    expect(error.message).not.toContain(API_KEY);
    expect(error.bodyExcerpt).toContain('[redacted]');
  });

  it('retries exhausted: TRX_RETRIES_EXHAUSTED, retryable, attempts counted, cause = last error', async () => {
    const server = await serve(() => ({ status: 502, body: 'bad gateway' }));
    const metrics = new Metrics();
    const error = await rejection(client({ baseUrl: server.baseUrl, metrics, maxAttempts: 3 }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_RETRIES_EXHAUSTED', retryable: true, attempts: 3, status: 502 });
    expect(error.cause).toBeInstanceOf(TranscribeError);
    expect(error.cause).toMatchObject({ code: 'TRX_HTTP_STATUS', status: 502 });
    expect(server.requests).toHaveLength(3);
    expect(metrics.get('transcribe_retries_total')).toBe(2);
    expect(metrics.get('transcribe_failures_total')).toBe(1);
  });

  it('gives up at once when Retry-After lies beyond the deadline, and says how long the server wants', async () => {
    const server = await serve(() => ({ status: 429, headers: { 'retry-after': '600' }, body: 'slow down' }));
    const error = await rejection(client({ baseUrl: server.baseUrl, deadlineMs: 30_000 }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_RETRIES_EXHAUSTED', retryable: true, attempts: 1, retryAfterMs: 600_000 });
    expect(server.requests).toHaveLength(1);
  });

  it('headers timeout counts as TRX_TIMEOUT and is retried', async () => {
    const server = await serve(() => 'hang');
    const error = await rejection(client({ baseUrl: server.baseUrl, headersTimeout: 150, maxAttempts: 2 }).transcribe({ audio: audio() }));
    expect(error).toMatchObject({ code: 'TRX_RETRIES_EXHAUSTED', attempts: 2 });
    expect(error.cause).toMatchObject({ code: 'TRX_TIMEOUT', retryable: true });
    expect(server.requests).toHaveLength(2);
  });

  it('the overall deadline cuts a hanging request short (ManualClock)', async () => {
    const server = await serve(() => 'hang');
    const clock = new ManualClock();
    const c = client({ baseUrl: server.baseUrl, clock, deadlineMs: 5000 });
    const pending = rejection(c.transcribe({ audio: audio() }));
    await waitFor(() => server.requests.length === 1);
    clock.advance(5000);
    const error = await pending;
    expect(error).toMatchObject({ code: 'TRX_RETRIES_EXHAUSTED', retryable: true, attempts: 1 });
    expect(error.cause).toMatchObject({ code: 'TRX_TIMEOUT' });
  });

  it('an AudioSource of the wrong length fails with TRX_AUDIO and is not retried', async () => {
    const server = await serve(() => ok({ text: 'x' }));
    const wrong = new ChunkedSource([patternPcm(100)], 'async', 200);
    const error = await rejection(client({ baseUrl: server.baseUrl }).transcribe({ audio: wrong }));
    expect(error).toMatchObject({ code: 'TRX_AUDIO', retryable: false });
    expect(wrong.calls).toBe(1);

    const impossible = { byteLength: -1, chunks: (): Iterable<Uint8Array> => [] };
    expect(await rejection(client({ baseUrl: server.baseUrl }).transcribe({ audio: impossible }))).toMatchObject({ code: 'TRX_AUDIO' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('TranscriptionClient: abort and close', () => {
  it('aborting an in-flight request rejects with TRX_ABORTED (retryable) promptly', async () => {
    const server = await serve(() => 'hang');
    const controller = new AbortController();
    const pending = rejection(client({ baseUrl: server.baseUrl }).transcribe({ audio: audio(), signal: controller.signal }));
    await waitFor(() => server.requests.length === 1);
    const t0 = performance.now();
    controller.abort();
    const error = await pending;
    expect(error).toMatchObject({ code: 'TRX_ABORTED', retryable: true, attempts: 1 });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('aborting during a backoff sleep stops before the next attempt', async () => {
    const server = await serve(() => ({ status: 500, body: 'x' }));
    const clock = new ManualClock();
    const metrics = new Metrics();
    const controller = new AbortController();
    const pending = rejection(client({ baseUrl: server.baseUrl, clock, metrics }).transcribe({ audio: audio(), signal: controller.signal }));
    await waitFor(() => metrics.get('transcribe_retries_total') === 1);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'TRX_ABORTED', retryable: true });
    clock.advance(60_000);
    await pause(50);
    expect(server.requests).toHaveLength(1);
  });

  it('an already-aborted signal sends nothing', async () => {
    const server = await serve(() => ok({ text: 'x' }));
    const error = await rejection(client({ baseUrl: server.baseUrl }).transcribe({ audio: audio(), signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ code: 'TRX_ABORTED', attempts: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it('close() wakes sleeping calls with TRX_ABORTED and refuses new ones', async () => {
    const server = await serve(() => ({ status: 503, body: 'x' }));
    const clock = new ManualClock();
    const metrics = new Metrics();
    const c = client({ baseUrl: server.baseUrl, clock, metrics });
    const pending = rejection(c.transcribe({ audio: audio() }));
    await waitFor(() => metrics.get('transcribe_retries_total') === 1);
    await c.close();
    expect(await pending).toMatchObject({ code: 'TRX_ABORTED', retryable: true });
    expect(await rejection(c.transcribe({ audio: audio() }))).toMatchObject({ code: 'TRX_ABORTED' });
    await c.close(); // idempotent
  });
});

describe('TranscriptionClient: response_format fallback', () => {
  const gpt4oOnlyJson = (r: RecordedRequest): Reply =>
    fieldsOf(r).response_format === 'json'
      ? ok({ text: 'json only' })
      : {
          status: 400,
          body: JSON.stringify({
            error: {
              message: "response_format 'verbose_json' is not compatible with model 'gpt-4o-transcribe'. Use 'json' or 'text' instead.",
              type: 'invalid_request_error',
              param: 'response_format',
              code: 'unsupported_value',
            },
          }),
        };

  it('switches to json after a 400 naming response_format, for this and every later call', async () => {
    const server = await serve(gpt4oOnlyJson);
    const metrics = new Metrics();
    // maxAttempts 1: the fallback does not use up the retry budget.
    const c = client({ baseUrl: server.baseUrl, model: 'gpt-4o-transcribe', metrics, maxAttempts: 1 });
    expect(c.currentResponseFormat).toBe('verbose_json');
    expect(await c.transcribe({ audio: audio() })).toEqual({ text: 'json only' });
    expect(c.currentResponseFormat).toBe('json');
    expect(server.requests.map((r) => fieldsOf(r).response_format)).toEqual(['verbose_json', 'json']);

    expect(await c.transcribe({ audio: audio() })).toEqual({ text: 'json only' });
    expect(server.requests.map((r) => fieldsOf(r).response_format)).toEqual(['verbose_json', 'json', 'json']);
    expect(metrics.get('transcribe_failures_total')).toBe(0);
  });

  it('a 400 not about response_format does not trigger the fallback', async () => {
    const server = await serve(() => ({ status: 400, body: '{"error":{"message":"Invalid file format."}}' }));
    const c = client({ baseUrl: server.baseUrl });
    expect(await rejection(c.transcribe({ audio: audio() }))).toMatchObject({ code: 'TRX_HTTP_STATUS', status: 400 });
    expect(c.currentResponseFormat).toBe('verbose_json');
    expect(server.requests).toHaveLength(1);
  });
});

describe('TranscriptionClient: connection cap', () => {
  it('opens at most maxConnections sockets to one origin', async () => {
    const server = await serve(() => 'hang');
    const c = client({ baseUrl: server.baseUrl, maxConnections: 2 });
    const calls = [0, 1, 2, 3].map(() => c.transcribe({ audio: audio() }));
    await waitFor(() => server.requests.length === 2);
    await pause(150);
    expect(server.requests).toHaveLength(2);
    expect(server.connections).toBe(2);
    server.release({ status: 200, body: '{"text":"a"}' });
    await waitFor(() => server.requests.length === 4);
    server.release({ status: 200, body: '{"text":"b"}' });
    const results = await Promise.all(calls);
    expect(results.map((r) => r.text).sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(server.connections).toBe(2);
  });
});
