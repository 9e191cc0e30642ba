import type { Logger } from './logger.js';
import { errorMessage } from './errors.js';

export interface ShutdownOptions {
  readonly logger: Logger;
  /** Everything must be done by then (Fly's kill_timeout is longer). */
  readonly deadlineMs: number;
  /** Named steps, run in order; a failing or slow step does not stop the next one. */
  readonly steps: readonly (readonly [name: string, run: () => Promise<unknown>])[];
  readonly exit?: (code: number) => void;
}

/**
 * Graceful shutdown on SIGTERM or SIGINT: runs the steps in order within the deadline, then exits 0.
 * A second signal exits at once (1). Returns the function that starts the shutdown, for tests.
 */
export function installShutdown(options: ShutdownOptions): () => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started = false;
  const run = async (): Promise<void> => {
    const deadline = Date.now() + options.deadlineMs;
    for (const [name, step] of options.steps) {
      const left = deadline - Date.now();
      if (left <= 0) {
        options.logger.warn('shutdown deadline reached; skipping', { step: name });
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          step(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), left);
          }),
        ]);
        options.logger.debug('shutdown step done', { step: name });
      } catch (error) {
        options.logger.warn('shutdown step failed', { step: name, error: errorMessage(error) });
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) {
      options.logger.warn('second signal; exiting now', { signal });
      exit(1);
      return;
    }
    started = true;
    options.logger.info('shutting down', { signal });
    void run().then(() => {
      options.logger.info('shutdown complete');
      exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return async () => onSignal('SIGTERM');
}
