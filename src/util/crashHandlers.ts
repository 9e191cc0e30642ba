import type { Logger } from './logger.js';
import type { StartShutdown } from './shutdown.js';

/** Where uncaught errors are reported (the process, or an emitter in tests). */
export interface CrashSource {
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (error: unknown) => void): unknown;
}

export interface CrashHandlerOptions {
  readonly logger: Logger;
  /** The orderly shutdown (installShutdown's return value). */
  readonly shutdown: StartShutdown;
  readonly source?: CrashSource;
}

/**
 * After an uncaught exception or an unhandled rejection the process state is unknown, so it must not go on as
 * if nothing happened; but Node's default (print and exit at once) would lose every segment in flight. Instead
 * the error is logged with its stack and the normal shutdown runs (sessions end, segments are spooled, lines
 * posted), exiting 1.
 */
export function installCrashHandlers(options: CrashHandlerOptions): void {
  const source = options.source ?? process;
  const onCrash = (kind: 'uncaughtException' | 'unhandledRejection') => (error: unknown): void => {
    options.logger.error(kind === 'uncaughtException' ? 'uncaught exception; shutting down' : 'unhandled rejection; shutting down', {
      error,
      stack: error instanceof Error ? error.stack : undefined,
    });
    void options.shutdown({ reason: kind, exitCode: 1 });
  };
  source.on('uncaughtException', onCrash('uncaughtException'));
  source.on('unhandledRejection', onCrash('unhandledRejection'));
}
