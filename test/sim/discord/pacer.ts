/** Monotonic milliseconds from process.hrtime (sub-millisecond resolution, never jumps). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Sleeps until absolute monotonic times. Callers compute every deadline from one start time (start + i × 20 ms),
 * so a late wake-up delays one packet but never shifts the ones after it — unlike setInterval, whose error
 * accumulates. It does not spin: the bot may share this event loop.
 */
export class Pacer {
  private timer: NodeJS.Timeout | undefined;
  private wake: ((ok: boolean) => void) | undefined;

  private readonly onAbort = (): void => this.cancel();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Cancels a pending sleep and detaches from the signal (call when the schedule is done). */
  dispose(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.cancel();
  }

  /** Resolves true at (or just after) `deadline`, or false once the signal aborts. */
  sleepUntil(deadline: number): Promise<boolean> {
    if (this.signal.aborted) return Promise.resolve(false);
    const delay = deadline - monotonicMs();
    if (delay <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve(true);
      }, delay);
    });
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(false);
  }
}
