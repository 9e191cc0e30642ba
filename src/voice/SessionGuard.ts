import type { Clock, TimerHandle } from '../util/Clock.js';

/** Why a guard ends a session. */
export type GuardEndReason = 'empty' | 'max-length';

export interface SessionGuardOptions {
  readonly clock: Clock;
  /** Humans in the session's voice channel right now. */
  readonly humans: () => number;
  /** End after this long without a human in the channel. */
  readonly autoLeaveMs: number;
  /** End after this long in any case. */
  readonly maxSessionMs: number;
  /** Tell the channel once when nothing has been heard for this long. */
  readonly silenceNoticeMs: number;
  readonly onEnd: (reason: GuardEndReason) => void;
  readonly onSilence: (quietMs: number) => void;
  /** How often to look (default 1 s). */
  readonly checkEveryMs?: number;
}

/**
 * Watches one session for its end conditions: the channel empty of humans for `autoLeaveMs`, the maximum
 * session length, and a quiet stretch of `silenceNoticeMs` (one notice per stretch). One timer per session.
 */
export class SessionGuard {
  private readonly startedAt: number;
  private lastHeard: number;
  private emptySince: number | undefined;
  private silenceNoticed = false;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: SessionGuardOptions) {
    this.startedAt = options.clock.now();
    this.lastHeard = this.startedAt;
    this.check = this.check.bind(this);
  }

  /** Starts watching. */
  start(): void {
    this.schedule();
  }

  /** Something was heard (a transcript arrived): the quiet stretch starts over. */
  heard(): void {
    this.lastHeard = this.options.clock.now();
    this.silenceNoticed = false;
  }

  /** Stops watching. Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.options.clock.now();
    if (now - this.startedAt >= this.options.maxSessionMs) return this.end('max-length');
    if (this.options.humans() > 0) this.emptySince = undefined;
    else {
      this.emptySince ??= now;
      if (now - this.emptySince >= this.options.autoLeaveMs) return this.end('empty');
    }
    if (!this.silenceNoticed && now - this.lastHeard >= this.options.silenceNoticeMs) {
      this.silenceNoticed = true;
      this.options.onSilence(now - this.lastHeard);
    }
    this.schedule();
  }

  private end(reason: GuardEndReason): void {
    this.stop();
    this.options.onEnd(reason);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(this.check, this.options.checkEveryMs ?? 1000);
    this.timer.unref?.();
  }
}
