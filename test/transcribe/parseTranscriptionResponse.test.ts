import { describe, expect, it } from 'vitest';
import { parseTranscriptionResponse } from '../../src/transcribe/parseTranscriptionResponse.js';

describe('parseTranscriptionResponse', () => {
  it('json and verbose_json', () => {
    expect(parseTranscriptionResponse('{"text":" hi "}', 'json')).toEqual({ text: 'hi' });
    const verbose = JSON.stringify({ text: 'a', segments: [{ no_speech_prob: 0.2 }, { no_speech_prob: 0.9 }, { no_speech_prob: null }, {}] });
    expect(parseTranscriptionResponse(verbose, 'verbose_json')).toEqual({ text: 'a', noSpeechProb: 0.9 });
    expect(parseTranscriptionResponse('{"text":"a","segments":[]}', 'verbose_json')).toEqual({ text: 'a' });
    expect(parseTranscriptionResponse('{"text":"a","segments":null}', 'verbose_json')).toEqual({ text: 'a' });
  });

  it('text that is an HTML page (a proxy in front of the API) is a bad response, not a transcript', () => {
    for (const page of ['<!DOCTYPE html><html><body>Maintenance</body></html>', '\n<html>\n<head><title>502</title>']) {
      expect(() => parseTranscriptionResponse(page, 'text')).toThrow(expect.objectContaining({ code: 'TRX_BAD_RESPONSE' }));
    }
    expect(parseTranscriptionResponse(' the <html> tag comes first', 'text')).toEqual({ text: 'the <html> tag comes first' });
  });

  it('text', () => {
    expect(parseTranscriptionResponse(' hello\n', 'text')).toEqual({ text: 'hello' });
  });

  it.each([
    ['not json', 'json'],
    ['[]', 'json'],
    ['null', 'json'],
    ['{"text":3}', 'json'],
    ['{"transcript":"x"}', 'verbose_json'],
    ['{"text":"x","segments":{}}', 'verbose_json'],
    ['{"text":"x","segments":[1]}', 'verbose_json'],
    ['{"text":"x","segments":[{"no_speech_prob":"high"}]}', 'verbose_json'],
  ] as const)('rejects %s as %s with TRX_BAD_RESPONSE, a service fault that keeps the audio', (body, format) => {
    expect(() => parseTranscriptionResponse(body, format)).toThrow(
      expect.objectContaining({ code: 'TRX_BAD_RESPONSE', retryable: true, serviceFault: true }),
    );
  });
});
