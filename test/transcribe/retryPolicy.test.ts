import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, parseRetryAfter, statusVerdict, transientKind } from '../../src/transcribe/retryPolicy.js';

describe('retryPolicy', () => {
  it('retries 429, 408 and 5xx only within a call', () => {
    for (const s of [429, 408, 500, 502, 503, 504, 599]) expect(isRetryableStatus(s), String(s)).toBe(true);
    for (const s of [200, 301, 400, 401, 403, 404, 413, 415, 422]) expect(isRetryableStatus(s), String(s)).toBe(false);
  });

  it('blames the recording only for 400/413/415/422; key, URL, proxy and unknown statuses are the service’s fault', () => {
    for (const s of [429, 408, 500, 503, 599]) expect(statusVerdict(s), String(s)).toBe('transient');
    for (const s of [400, 413, 415, 422]) expect(statusVerdict(s), String(s)).toBe('segment');
    // A wrong verdict of 'segment' deletes speech; these all mean "fix the setup", so the audio must be kept.
    for (const s of [401, 403, 404, 405, 407, 402, 410, 301, 302, 307, 308, 418, 451]) expect(statusVerdict(s), String(s)).toBe('service');
  });

  it('parses Retry-After as seconds or HTTP date, never negative', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['7', '9'], now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });

  it('full-jitter backoff stays within [0, min(max, base·factor^(n−1)))', () => {
    const opts = { baseMs: 100, factor: 2, maxMs: 1000 };
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(0);
    expect(backoffDelay(1, { ...opts, random: () => 0.999 })).toBe(99);
    expect(backoffDelay(3, { ...opts, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(10, { ...opts, random: () => 0.999 })).toBe(999);
  });

  it('classifies network errors through cause and AggregateError', () => {
    const code = (c: string): Error => Object.assign(new Error(c), { code: c });
    expect(transientKind(code('ECONNREFUSED'))).toBe('connect');
    expect(transientKind(code('UND_ERR_SOCKET'))).toBe('connect');
    expect(transientKind(code('UND_ERR_HEADERS_TIMEOUT'))).toBe('timeout');
    expect(transientKind(code('UND_ERR_CONNECT_TIMEOUT'))).toBe('timeout');
    expect(transientKind(new Error('wrapped', { cause: code('ECONNRESET') }))).toBe('connect');
    expect(transientKind(new AggregateError([code('ETIMEDOUT'), code('ECONNREFUSED')]))).toBe('timeout');
    expect(transientKind(code('UND_ERR_INVALID_ARG'))).toBeNull();
    expect(transientKind(new TypeError('bug'))).toBeNull();
    expect(transientKind('string')).toBeNull();
  });
});
