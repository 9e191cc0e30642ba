import { describe, expect, it } from 'vitest';
import { isRetryable, isServiceFault } from '../../src/transcribe/isRetryable.js';
import { TranscribeError } from '../../src/transcribe/TranscribeError.js';

const httpError = (status: number, retryable: boolean, serviceFault: boolean): TranscribeError =>
  new TranscribeError('TRX_HTTP_STATUS', `HTTP ${status}`, { retryable, serviceFault, status });

describe('isRetryable / isServiceFault', () => {
  it('a service fault (401, unparseable 2xx) is retryable, so the audio is kept, and is reported as a service fault', () => {
    const rejectedKey = httpError(401, true, true);
    const proxyPage = new TranscribeError('TRX_BAD_RESPONSE', 'json response is not JSON', { retryable: true, serviceFault: true });
    for (const error of [rejectedKey, proxyPage]) {
      expect(isRetryable(error)).toBe(true);
      expect(isServiceFault(error)).toBe(true);
    }
  });

  it('a refused recording (400) is final and no service fault; an outage is retryable and no service fault', () => {
    expect(isRetryable(httpError(400, false, false))).toBe(false);
    expect(isServiceFault(httpError(400, false, false))).toBe(false);
    const outage = new TranscribeError('TRX_RETRIES_EXHAUSTED', 'down', { retryable: true, status: 503 });
    expect(isRetryable(outage)).toBe(true);
    expect(isServiceFault(outage)).toBe(false);
  });

  it('errors without flags are retryable (spool rather than lose) and no service fault; a fault flag on a final error counts for nothing', () => {
    for (const error of [new Error('bug'), 'thrown string', null, { retryable: 'yes' }]) {
      expect(isRetryable(error)).toBe(true);
      expect(isServiceFault(error)).toBe(false);
    }
    expect(isServiceFault({ retryable: false, serviceFault: true })).toBe(false);
    expect(isServiceFault({ serviceFault: true })).toBe(true);
  });
});
