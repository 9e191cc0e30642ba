/**
 * Every error tinyscribe raises has a stable `code` (match on it, not on the message) and keeps
 * the underlying error as `cause`. Codes are listed in docs/errors.md.
 */
export class TinyscribeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return `TinyscribeError[${this.code}]`;
  }
}

/** Narrows an unknown thrown value to a message for logs. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
