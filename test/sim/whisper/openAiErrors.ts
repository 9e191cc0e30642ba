/** OpenAI-style error bodies: `{ error: { message, type, param, code } }`, as clients parse them. */

/** The JSON error object OpenAI-compatible servers send. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** A complete error answer: HTTP status, body and any extra headers. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: OpenAiErrorBody;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Builds an error answer. */
export function errorAnswer(
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  headers?: Readonly<Record<string, string>>,
): ErrorAnswer {
  return { status, body: { error: { message, type, param, code } }, ...(headers ? { headers } : {}) };
}

/** 400 invalid_request_error, the type OpenAI uses for every validation failure. */
export function invalidRequest(message: string, param: string | null, code: string | null): ErrorAnswer {
  return errorAnswer(400, message, 'invalid_request_error', param, code);
}

/** The injected 429/500/503 answers, worded like OpenAI's. */
export function injectedFailure(status: 429 | 500 | 503, retryAfterSeconds?: number): ErrorAnswer {
  const headers: Record<string, string> = {};
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  if (status === 429) {
    headers['x-ratelimit-limit-requests'] = '50';
    headers['x-ratelimit-remaining-requests'] = '0';
    headers['x-ratelimit-reset-requests'] = `${retryAfterSeconds ?? 1}s`;
    return errorAnswer(
      429,
      'Rate limit reached for whisper-1 on requests per min (RPM): Limit 50, Used 50, Requested 1.',
      'requests',
      null,
      'rate_limit_exceeded',
      headers,
    );
  }
  if (status === 503) {
    return errorAnswer(503, 'The engine is currently overloaded, please try again later.', 'server_error', null, null, headers);
  }
  return errorAnswer(
    500,
    'The server had an error while processing your request. Sorry about that!',
    'server_error',
    null,
    null,
    headers,
  );
}
