/** A reserved place in a lane; filled once with a value or with nothing. */
export interface DeliverySlot {
  readonly key: string;
  readonly startedAt: number;
}

interface Slot<T> extends DeliverySlot {
  filled: boolean;
  value: T | undefined;
}

/**
 * Hands values out per key (per speaker) in `startedAt` order although they complete out of order:
 * a value waits until every earlier slot of its key is filled. Filling a slot with `undefined`
 * (filtered, failed, or sent to the spool) unblocks the ones behind it, so a segment that goes
 * to the spool never holds later speech back; its transcript arrives later, outside this order.
 */
export class InOrderDelivery<T> {
  private readonly lanes = new Map<string, Slot<T>[]>();
  private slots = 0;

  /** `deliver` is called synchronously from {@link fill}. */
  constructor(private readonly deliver: (value: T) => void) {}

  /** Number of reserved slots not yet handed out. */
  get pending(): number {
    return this.slots;
  }

  /** Reserves the place of a value of `key` that started at `startedAt`. */
  reserve(key: string, startedAt: number): DeliverySlot {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = [];
      this.lanes.set(key, lane);
    }
    const slot: Slot<T> = { key, startedAt, filled: false, value: undefined };
    // Segments of one speaker normally arrive in order, so this scans from the end and stops at once.
    let at = lane.length;
    while (at > 0 && lane[at - 1]!.startedAt > startedAt) at--;
    lane.splice(at, 0, slot);
    this.slots++;
    return slot;
  }

  /** Fills a slot (`undefined` = nothing to deliver) and delivers every ready value at the front of its lane. Idempotent. */
  fill(handle: DeliverySlot, value: T | undefined): void {
    const slot = handle as Slot<T>;
    if (slot.filled) return;
    slot.filled = true;
    slot.value = value;
    const lane = this.lanes.get(slot.key);
    if (lane === undefined) return;
    while (lane.length > 0 && lane[0]!.filled) {
      const ready = lane.shift()!;
      this.slots--;
      if (ready.value !== undefined) this.deliver(ready.value);
    }
    // Drop empty lanes so the map does not grow with every speaker ever heard.
    if (lane.length === 0 && this.lanes.get(slot.key) === lane) this.lanes.delete(slot.key);
  }
}
