import type { Logger } from './logger.js';
import { errorMessage } from './errors.js';
import { systemClock, type Clock, type TimerHandle } from './Clock.js';

/** Where termination signals come from (the process, or an emitter in tests). */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /** Everything must be done by then (Fly's kill_timeout is longer). */
  readonly deadlineMs: number;
  /** Named steps, run in order; a failing or slow step does not stop the next one. */
  readonly steps: readonly (readonly [name: string, run: () => Promise<unknown>])[];
  readonly exit?: (code: number) => void;
  readonly clock?: Clock;
  readonly signals?: SignalSource;
}

/** Lifecycle of the shutdown: running → draining (first signal) → exited. */
type ShutdownState = 'running' | 'draining' | 'exited';

/** Why a shutdown was started other than by a signal (a crash), and the code to exit with. */
export interface ShutdownReason {
  readonly reason: string;
  readonly exitCode: number;
}

/** Starts the shutdown (as SIGTERM does, or for a reason with its exit code); resolves when the steps are done. */
export type StartShutdown = (why?: ShutdownReason) => Promise<void>;

/**
 * Graceful shutdown on SIGTERM or SIGINT: runs the steps in order within the deadline (a step still
 * running when the deadline comes is abandoned, later ones are skipped), then exits 0. A second
 * signal exits at once (1). Returns the function that starts the shutdown: for tests, and for a crash,
 * which drains the same way but exits with its own (non-zero) code, even when a signal started the drain.
 */
export function installShutdown(options: ShutdownOptions): StartShutdown {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const clock = options.clock ?? systemClock;
  const signals = options.signals ?? process;
  let state: ShutdownState = 'running';
  let exitCode = 0;
  let drained: Promise<void> | undefined;

  /** Runs one step within what is left of the deadline; false when the deadline cut it off. */
  const runStep = async (name: string, step: () => Promise<unknown>, leftMs: number): Promise<boolean> => {
    const started = clock.monotonic();
    let timer: TimerHandle | undefined;
    let cutOff = false;
    try {
      await Promise.race([
        step(),
        new Promise((_, reject) => {
          timer = clock.setTimeout(() => {
            cutOff = true;
            reject(new Error(`timed out after ${Math.round(leftMs)} ms (shutdown deadline)`));
          }, leftMs);
        }),
      ]);
      // Step durations are what kill_timeout in fly.toml has to cover: worth a line each.
      options.logger.info('shutdown step done', { step: name, ms: Math.round(clock.monotonic() - started) });
    } catch (error) {
      options.logger.warn('shutdown step failed', { step: name, ms: Math.round(clock.monotonic() - started), error: errorMessage(error) });
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
    return !cutOff;
  };

  const drain = async (): Promise<void> => {
    const deadline = clock.monotonic() + options.deadlineMs;
    // A timer may fire a hair before the monotonic clock reaches the deadline: a cut-off step ends the time too.
    let inTime = true;
    for (const [name, step] of options.steps) {
      const left = deadline - clock.monotonic();
      if (!inTime || left <= 0) {
        options.logger.warn('shutdown deadline reached; skipping', { step: name });
        continue;
      }
      inTime = await runStep(name, step, left);
    }
  };

  const finish = (code: number): void => {
    if (state === 'exited') return;
    state = 'exited';
    exit(code);
  };

  const begin = (fields: Record<string, unknown>): void => {
    state = 'draining';
    options.logger.info('shutting down', { ...fields, deadlineMs: options.deadlineMs });
    drained = drain().then(() => {
      if (state === 'exited') return;
      options.logger.info('shutdown complete', { exitCode });
      finish(exitCode);
    });
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (state === 'exited') return;
    if (state === 'draining') {
      options.logger.warn('second signal; exiting now', { signal });
      finish(1);
      return;
    }
    begin({ signal });
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
  return async (why) => {
    if (!why) onSignal('SIGTERM');
    else if (state !== 'exited') {
      // A crash while already draining does not cut the drain short (that is what saves the spool), it only
      // makes sure the exit says something went wrong.
      exitCode = Math.max(exitCode, why.exitCode);
      if (state === 'running') begin({ reason: why.reason });
    }
    await drained;
  };
}
