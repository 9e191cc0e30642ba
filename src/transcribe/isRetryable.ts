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

/**
 * Whether a failure blames the service's setup (rejected key, wrong URL, unparseable answer) rather than the
 * audio: the audio is kept like any retryable failure, and a person must be told, since waiting alone may never
 * fix it. Reads TranscribeError's `serviceFault` flag (duck-typed like {@link isRetryable}); the flag counts only
 * together with `retryable`, so that callers can rely on "service fault ⇒ the audio is kept".
 */
export function isServiceFault(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('serviceFault' in error)) return false;
  return (error as { serviceFault: unknown }).serviceFault === true && isRetryable(error);
}
