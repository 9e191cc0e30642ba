import { errorCodes } from './retryPolicy.js';

// What people in a text channel read about failed uploads. Never the response body: OpenAI's 401 body echoes a
// masked key, a proxy answers with HTML, and either would be posted unescaped. The body stays in the logs.

const KEPT = 'speech is kept on disk and will be transcribed once';

/** One plain sentence for a service fault: what is wrong (with the HTTP status), that speech is kept, what to fix. */
export function serviceFaultText(error: unknown): string {
  const status = statusOf(error);
  const code = codeOf(error);
  if (status === 401) return `The transcription service rejected the API key (HTTP 401); ${KEPT} TRANSCRIBE_API_KEY is fixed.`;
  if (status === 403) {
    return `The transcription service refused this API key access (HTTP 403); ${KEPT} TRANSCRIBE_API_KEY or its permissions are fixed.`;
  }
  if (status === 404 || status === 405) {
    return `The transcription service has no such endpoint or model (HTTP ${status}); ${KEPT} TRANSCRIBE_BASE_URL or TRANSCRIBE_MODEL is fixed.`;
  }
  if (status === 402) return `The transcription service wants payment (HTTP 402); ${KEPT} the account is in order.`;
  if (status === 407) return `A proxy in front of the transcription service wants credentials (HTTP 407); ${KEPT} it lets tinyscribe through.`;
  if (status !== undefined && status >= 300 && status < 400) {
    return `The transcription service redirects elsewhere (HTTP ${status}); ${KEPT} TRANSCRIBE_BASE_URL is fixed.`;
  }
  if (status !== undefined) return `The transcription service refuses requests (HTTP ${status}); ${KEPT} it accepts them again.`;
  if (code === 'TRX_BAD_RESPONSE') {
    return `The transcription service answered with something that is not a transcript (a proxy's maintenance page?); ${KEPT} it answers properly again.`;
  }
  if (code === 'TRX_CONNECT') {
    // The underlying code (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN…) is Node's, not the server's text: safe to show.
    const detail = errorCodes(error).find((c) => !c.startsWith('TRX_'));
    return `The secure connection to the transcription service failed${detail ? ` (${detail})` : ''}; ${KEPT} that is fixed.`;
  }
  return `The transcription service cannot be used at the moment; ${KEPT} it works again.`;
}

/** Why one recording was refused for good, as a clause ("the transcription service refused this recording (HTTP 400)"). */
export function segmentRejectionReason(error: unknown): string {
  const status = statusOf(error);
  if (status === 413) return 'the recording is too large for the transcription service (HTTP 413)';
  if (status !== undefined) return `the transcription service refused this recording (HTTP ${status})`;
  if (codeOf(error) === 'TRX_AUDIO') return 'the recording could not be read';
  return `the upload failed (${codeOf(error) ?? 'unknown error'})`;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  return typeof error.status === 'number' ? error.status : undefined;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
