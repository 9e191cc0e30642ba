import { systemClock, type Clock, type TimerHandle } from '../util/Clock.js';
import { TinyscribeError } from '../util/errors.js';

export interface EventLoopMonitorOptions {
  /** How often the probe timer runs, ms. Default 250. */
  readonly intervalMs?: number;
  /** A loop that has not run the probe for longer than this is stalled, ms; must exceed intervalMs. Default 1000. */
  readonly stallMs?: number;
  /**
   * How long a stall that has already ended is still reported, ms. A blocked loop cannot answer
   * /healthz while it is blocked, and when it unblocks the probe timer runs before the waiting
   * request is read; without this hold a check would never see the stall. Default 15 000 (the
   * interval of the Fly check in fly.toml).
   */
  readonly holdMs?: number;
  readonly clock?: Clock;
  /** Called once per detected stall with the gap between two probe runs, ms (for logs and metrics). */
  readonly onStall?: (gapMs: number) => void;
}

/**
 * Detects a stalled event loop: a timer re-arms itself every `intervalMs`; when it finds that more
 * than `stallMs` passed since its previous run, the loop was blocked. {@link isStalled} is true
 * while no probe has run for `stallMs`, and for `holdMs` after a stall was seen.
 * Not a hot path: one timer every `intervalMs`.
 */
export class EventLoopMonitor {
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly stallMs: number;
  private readonly holdMs: number;
  private readonly onStall: ((gapMs: number) => void) | undefined;
  private lastProbeAt: number;
  private lastStallSeenAt = -Infinity;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(options: EventLoopMonitorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 250;
    this.stallMs = options.stallMs ?? 1000;
    this.holdMs = options.holdMs ?? 15_000;
    this.onStall = options.onStall;
    if (!(this.intervalMs > 0) || !(this.stallMs > this.intervalMs) || !(this.holdMs >= 0)) {
      throw new TinyscribeError(
        'HEALTH_OPTIONS_INVALID',
        `EventLoopMonitor needs intervalMs > 0, stallMs > intervalMs and holdMs >= 0 (got ${this.intervalMs}, ${this.stallMs}, ${this.holdMs})`,
      );
    }
    this.lastProbeAt = this.clock.monotonic();
    this.arm();
  }

  /** True while the loop is (or, within `holdMs`, was) blocked for longer than `stallMs`; false once closed. */
  isStalled(): boolean {
    if (this.closed) return false;
    const now = this.clock.monotonic();
    return now - this.lastProbeAt > this.stallMs || now - this.lastStallSeenAt < this.holdMs;
  }

  /** Stops the probe timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(this.probe, this.intervalMs);
    // The monitor must never be what keeps the process alive during shutdown.
    this.timer.unref?.();
  }

  private readonly probe = (): void => {
    if (this.closed) return;
    const now = this.clock.monotonic();
    const gap = now - this.lastProbeAt;
    this.lastProbeAt = now;
    if (gap > this.stallMs) {
      this.lastStallSeenAt = now;
      this.onStall?.(gap);
    }
    this.arm();
  };
}
