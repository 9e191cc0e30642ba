/** A pending injected REST fault. Patterns are tested against the decoded path and against "METHOD path". */
interface Fault {
  readonly pattern: RegExp;
  remaining: number;
  readonly action: FaultAction;
}

/** What to do instead of (or before) answering normally. */
export type FaultAction =
  | { readonly kind: 'rateLimit'; readonly retryAfterSeconds: number; readonly global: boolean }
  | { readonly kind: 'error'; readonly status: number; readonly body: { code: number; message: string } }
  | { readonly kind: 'delay'; readonly ms: number };

/**
 * Queue of one-shot REST faults for tests (429s, 5xx, Discord error codes, slow answers). The first matching
 * fault with uses left is consumed; faults of the same pattern apply in the order they were added.
 */
export class RestFaults {
  private readonly faults: Fault[] = [];

  /** The next `count` matching requests get a 429 with Retry-After. */
  rateLimitNext(pattern: RegExp, retryAfterSeconds: number, count = 1, global = false): void {
    this.faults.push({ pattern, remaining: count, action: { kind: 'rateLimit', retryAfterSeconds, global } });
  }

  /** The next `count` matching requests get `status` with a Discord error body. */
  failNext(pattern: RegExp, status: number, body: { code: number; message: string }, count = 1): void {
    this.faults.push({ pattern, remaining: count, action: { kind: 'error', status, body } });
  }

  /** The next `count` matching requests are answered `ms` late (normally otherwise). */
  delayNext(pattern: RegExp, ms: number, count = 1): void {
    this.faults.push({ pattern, remaining: count, action: { kind: 'delay', ms } });
  }

  /** Consumes and returns the first matching fault, if any. */
  take(method: string, path: string): FaultAction | undefined {
    const index = this.faults.findIndex((f) => f.pattern.test(path) || f.pattern.test(`${method} ${path}`));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.action;
  }

  /** Faults still queued. */
  get pending(): number {
    return this.faults.length;
  }
}
