/**
 * Whether a failed upload may succeed later. Reads the `retryable` flag that TranscribeError carries
 * (duck-typed so that this module depends only on the Transcriber interface). Errors without the
 * flag (bugs, aborts, unknown libraries) count as retryable: spooling a segment too often is
 * cheaper than losing speech.
 */
export function isRetryable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'retryable' in error) {
    const flag = (error as { retryable: unknown }).retryable;
    if (typeof flag === 'boolean') return flag;
  }
  return true;
}
