/**
 * Puts a try/catch, and optionally a cheap filter, in front of one method of a library object, as an own property of
 * that instance, and takes it away again. Made for @discordjs/voice's sockets, whose I/O callbacks call
 * `this.onMessage(x)` looked up at call time: whatever throws in there (the library's own parsing of a malformed
 * packet included) runs inside a socket callback, which is an uncaught exception that ends the process and every
 * session with it. The guard turns it into a counted, logged drop of that one message.
 */
export class MethodGuard<A> {
  private target: Record<string, unknown> | undefined;
  private original: ((arg: A) => void) | undefined;
  private originalWasOwn = false;

  /** `onRejected` hears each dropped message: `undefined` when `accept` refused it, else what the method threw. */
  constructor(
    private readonly method: string,
    private readonly onRejected: (error: unknown) => void,
    private readonly accept: (arg: A) => boolean = () => true,
  ) {
    this.guarded = this.guarded.bind(this);
  }

  /** Guards `target` (undefined: guards nothing); a previously guarded object gets its method back. */
  set(target: object | undefined): void {
    if (target === this.target) return;
    this.clear();
    const candidate = target as Record<string, unknown> | undefined;
    const method = candidate?.[this.method];
    if (!candidate || typeof method !== 'function') return;
    this.target = candidate;
    this.original = method as (arg: A) => void;
    this.originalWasOwn = Object.hasOwn(candidate, this.method);
    candidate[this.method] = this.guarded;
  }

  /** Gives the guarded object its own method back. */
  clear(): void {
    if (this.target && this.target[this.method] === this.guarded) {
      // A prototype method comes back by removing our own property; an own one by putting it back.
      if (this.originalWasOwn) this.target[this.method] = this.original;
      else delete this.target[this.method];
    }
    this.target = undefined;
    this.original = undefined;
  }

  /** Per-message path: one filter call and a try block; allocates nothing for an accepted message. */
  private guarded(arg: A): void {
    const { target, original } = this;
    if (!target || !original) return;
    if (!this.accept(arg)) {
      this.onRejected(undefined);
      return;
    }
    try {
      original.call(target, arg);
    } catch (error) {
      this.onRejected(error);
    }
  }
}
