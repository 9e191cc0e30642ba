import { TinyscribeError } from '../util/errors.js';

/** Codes of {@link SpoolError}. */
export type SpoolErrorCode =
  /** Writing a spool file failed (disk full, I/O error); the segment was not stored. */
  | 'SPOOL_WRITE'
  /** A segment is larger than the whole spool may be. */
  | 'SPOOL_TOO_LARGE'
  /** A spool file is truncated, malformed or unreadable. */
  | 'SPOOL_CORRUPT'
  /** The spool was closed. */
  | 'SPOOL_CLOSED';

/** Errors of the disk spool. */
export class SpoolError extends TinyscribeError {
  declare readonly code: SpoolErrorCode;

  constructor(code: SpoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
