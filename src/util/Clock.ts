/** A cancellable timer handle returned by a {@link Clock}. */
export interface TimerHandle {
  /** Keeps the process alive only if it has other work (mirrors Node's Timeout.unref). */
  unref?(): void;
}

/**
 * Time source for everything that schedules or measures. Production uses {@link systemClock};
 * tests pass a manual clock so that nothing sleeps.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
