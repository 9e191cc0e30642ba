import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWavHeader, WAV_HEADER_BYTES } from '../../src/audio/wav.js';
import { multipartBody } from '../../src/transcribe/multipartBody.js';
import { TranscribeError } from '../../src/transcribe/TranscribeError.js';
import { ChunkedSource, patternPcm, split } from './support/audio.js';
import { LoopbackServer } from './support/loopbackServer.js';
import { formFields, parseMultipart } from './support/parseMultipart.js';

const fields = { model: 'whisper-1', language: 'it', prompt: 'Ciao, città\r\n"quoted"', responseFormat: 'verbose_json', temperature: 0 };

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of iterable) out.push(chunk);
  return out;
}

describe('multipartBody', () => {
  const server = new LoopbackServer(() => ({ status: 200, body: '{"text":"ok"}' }));
  const agent = new Agent({ connections: 1 });
  beforeAll(() => server.start());
  afterAll(async () => {
    await agent.close();
    await server.close();
  });

  it.each(['sync', 'async'] as const)('streams a %s source to a real server: exact multipart, exact WAV, fixed Content-Length', async (mode) => {
    const pcm = patternPcm(16_000 * 2 + 6); // ~1 s, odd chunk sizes
    const source = new ChunkedSource(split(pcm, [1, 639, 640, 5000, 7]), mode);
    const form = multipartBody(source, fields);

    const response = await request(`${server.baseUrl}/audio/transcriptions`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': form.contentType, 'content-length': String(form.contentLength) },
      body: Readable.from(form.body(), { objectMode: false }),
    });
    expect(response.statusCode).toBe(200);
    await response.body.text();

    const received = server.requests.at(-1)!;
    expect(received.headers['transfer-encoding']).toBeUndefined();
    expect(received.headers['content-length']).toBe(String(form.contentLength));
    expect(received.body.byteLength).toBe(form.contentLength);

    const parts = parseMultipart(received.body, received.headers['content-type']!);
    expect(parts.map((p) => p.name)).toEqual(['model', 'language', 'prompt', 'response_format', 'temperature', 'file']);
    expect(formFields(parts)).toEqual({ model: 'whisper-1', language: 'it', prompt: fields.prompt, response_format: 'verbose_json', temperature: '0' });
    const file = parts.at(-1)!;
    expect(file.filename).toBe('segment.wav');
    expect(file.headers['content-type']).toBe('audio/wav');
    expect(parseWavHeader(file.data)).toEqual({ sampleRate: 16_000, channels: 1, bitsPerSample: 16, dataOffset: WAV_HEADER_BYTES, dataBytes: pcm.byteLength });
    expect(file.data.byteLength).toBe(WAV_HEADER_BYTES + pcm.byteLength);
    expect(file.data.subarray(WAV_HEADER_BYTES).equals(pcm)).toBe(true);
  });

  it('yields the source chunks themselves (no copy, no concat) and can be replayed identically', async () => {
    const parts = split(patternPcm(4000), [640, 640, 1000]);
    const source = new ChunkedSource(parts);
    const form = multipartBody(source, { model: 'm', responseFormat: 'json' });

    const first = await collect(form.body());
    const second = await collect(form.body());
    expect(source.calls).toBe(2);
    // head (parts + file header + WAV header), the PCM chunks by identity, the closing boundary
    expect(first.length).toBe(parts.length + 2);
    for (let i = 0; i < parts.length; i++) expect(first[i + 1]).toBe(parts[i]);
    expect(Buffer.concat(first).equals(Buffer.concat(second))).toBe(true);
    expect(first.reduce((n, c) => n + c.byteLength, 0)).toBe(form.contentLength);
    expect(Buffer.from(first.at(-1)!).toString()).toMatch(/^\r\n--tinyscribe-[0-9a-f]{32}--\r\n$/);
  });

  it('omits empty optional fields and picks a fresh boundary per body', () => {
    const source = new ChunkedSource([patternPcm(64)]);
    const a = multipartBody(source, { model: 'm', responseFormat: 'json', language: '', prompt: '' });
    const b = multipartBody(source, { model: 'm', responseFormat: 'json' });
    expect(a.contentType).not.toBe(b.contentType);
    expect(a.contentLength).toBe(b.contentLength);
  });

  it('fails with TRX_AUDIO when the source yields fewer or more bytes than byteLength', async () => {
    const short = multipartBody(new ChunkedSource([patternPcm(100)], 'sync', 120), { model: 'm', responseFormat: 'json' });
    await expect(collect(short.body())).rejects.toMatchObject({ code: 'TRX_AUDIO', retryable: false });
    const long = multipartBody(new ChunkedSource([patternPcm(100), patternPcm(100)], 'sync', 120), { model: 'm', responseFormat: 'json' });
    await expect(collect(long.body())).rejects.toBeInstanceOf(TranscribeError);
  });

  it('wraps a failing source as TRX_AUDIO with the cause', async () => {
    const boom = new Error('disk gone');
    const source = {
      byteLength: 10,
      chunks(): Iterable<Uint8Array> {
        throw boom;
      },
    };
    const form = multipartBody(source, { model: 'm', responseFormat: 'json' });
    await expect(collect(form.body())).rejects.toMatchObject({ code: 'TRX_AUDIO', cause: boom });
  });
});
