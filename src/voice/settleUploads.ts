import type { Clock } from '../util/Clock.js';

export interface SettleOptions {
  /** Segments queued or uploading. */
  readonly pending: () => number;
  /** Resolves when every queued line has been posted. */
  readonly postsIdle: () => Promise<void>;
  readonly clock: Clock;
  readonly maxMs: number;
  /** Time between the last upload ending and its line being queued (the name lookup may go to REST). */
  readonly graceMs?: number;
}

/**
 * Waits until a just-ended session's last segments have been transcribed and posted, so the transcript
 * file is complete, but never longer than `maxMs` (a failing API spools them and they are posted later).
 */
export async function settleUploads(options: SettleOptions): Promise<void> {
  const { clock } = options;
  const deadline = clock.monotonic() + options.maxMs;
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, Math.max(0, ms)));
  while (options.pending() > 0 && clock.monotonic() < deadline) await sleep(100);
  await sleep(Math.min(options.graceMs ?? 300, deadline - clock.monotonic()));
  await Promise.race([options.postsIdle(), sleep(deadline - clock.monotonic())]);
}
