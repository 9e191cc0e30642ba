/**
 * What {@link ReorderBuffer.push} did with a packet. Plain numbers (not strings or objects) so the per-packet
 * path returns without allocating.
 */
export const REORDER = {
  /** The expected packet with nothing held: delivered at once (the common case, no added delay). */
  passed: 0,
  /** Ahead of the expected sequence: held until the gap fills or the hold expires. */
  held: 1,
  /** Arrived after a later packet and was still put in sequence order (delivered now, or held behind a gap). */
  reordered: 2,
  /** Older than what was already delivered (its slot is taken or concealed): dropped. */
  late: 3,
  /** The same sequence as a packet being held: dropped. */
  duplicate: 4,
} as const;
export type ReorderResult = (typeof REORDER)[keyof typeof REORDER];

import type { Clock } from '../util/Clock.js';

/** SSRC value meaning "not given" (a real SSRC is a u32, never negative). */
export const NO_SSRC = -1;

/** RTP fields of a packet as it arrives (the voice session's reused header object; read during push only). */
export interface ArrivingRtp {
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc?: number;
}

/** A packet's RTP fields as delivered: one object reused for every delivery, valid only during the sink call. */
export interface OrderedRtp {
  /** u16. */
  readonly sequence: number;
  /** u32, 48 kHz. */
  readonly timestamp: number;
  /** {@link NO_SSRC} when the packet came without one. */
  readonly ssrc: number;
  /** The packet's own arrival time (clock ms), not the time it was released. */
  readonly arrivedAt: number;
}

/** Receives packets in sequence order. */
export type OrderedPacketSink = (opus: Buffer, rtp: OrderedRtp) => void;

/**
 * A small jitter buffer for one speaker's RTP packets: UDP may deliver packet n+1 before packet n, and the
 * segmenter places packets on the RTP timeline as they come, so without this a packet overtaken by a later one
 * had its 20 ms slot concealed with PLC and was then dropped as late.
 *
 * Ordering is by RTP sequence number (u16, wrap-safe: `(a - b) & 0xffff`, so 65535 → 0 is an ordinary step); the
 * timestamp and SSRC only ride along for the sink, which handles timestamp wrap and jumps as before.
 *
 *   expected ─▶ n   n+1  n+2  n+3          in order: delivered at once, nothing is delayed
 *               ·  [held][held]            n missing: n+1, n+2 wait in slots…
 *               ▲ n arrives → n, n+1, n+2 delivered in order ("reordered")
 *               ✗ n never comes: once a packet is more than `depth` ahead, or a held packet has waited more than
 *                 `holdMs`, the gap is given up and the held packets go out in order; the sink conceals the gap
 *
 * A packet behind `expected` by at most `lateWindow` is late (its slot was already filled or concealed) and is
 * dropped; one further behind, or a new SSRC, is a new stream: everything held is delivered first, then it.
 * Arrival times come from the injected clock.
 *
 * Memory: `depth` fixed slots allocated in the constructor, holding a REFERENCE to each packet's Buffer (the
 * receiver hands out a fresh Buffer per packet, so keeping it briefly is safe) and its numbers in typed arrays.
 * The per-packet path (push, expire, drain) allocates nothing: no copies, closures, arrays or objects. RTP
 * timestamps, SSRCs (u32, often above the small-integer range) and clock times are never passed as arguments
 * between these methods: V8 would box each such double in a new 16-byte HeapNumber on a call it does not inline.
 * They travel in typed arrays and in the fields of the one reused {@link OrderedRtp} instead.
 */
export class ReorderBuffer {
  /** Most packets held at once; 0 turns the buffer into a pass-through. */
  readonly depth: number;
  /**
   * A held packet waits for the packets before it until it has waited more than this (ms); checked on every push
   * and expire(), so a speaker who goes quiet releases at the idle timer's next tick (≤ 100 ms later).
   */
  readonly holdMs: number;
  private readonly lateWindow: number;
  private readonly clock: Clock;
  private readonly sink: OrderedPacketSink;
  /** What the sink reads during its call; reused (see the memory note above). */
  private readonly out = { sequence: 0, timestamp: 0, ssrc: NO_SSRC, arrivedAt: 0 };
  /** Time of the current push or expire (a field, not an argument: see the memory note above). */
  private nowMs = 0;

  /** Slot index = sequence & mask; a power of two above depth, so held sequences never share a slot. */
  private readonly mask: number;
  private readonly opus: (Buffer | null)[];
  private readonly seq: Uint16Array;
  private readonly ts: Uint32Array;
  private readonly ssrcOf: Float64Array;
  private readonly arrivedAt: Float64Array;
  private heldCount = 0;
  /** Highest sequence held (valid while heldCount > 0; it is delivered last, so it stays valid as others leave). */
  private highest = 0;

  /** False until the first packet (and never again): the first packet sets `expected`. */
  private synced = false;
  /** Next sequence to deliver. */
  private expected = 0;
  private streamSsrc = NO_SSRC;

  /**
   * `depth`: packets held at most (0 = pass-through); `holdMs`: the longest wait of a held packet;
   * `lateWindow`: how many sequence numbers behind still count as a late packet rather than a new stream.
   */
  constructor(depth: number, holdMs: number, lateWindow: number, clock: Clock, sink: OrderedPacketSink) {
    this.depth = depth;
    this.holdMs = holdMs;
    this.lateWindow = Math.max(1, lateWindow);
    this.clock = clock;
    this.sink = sink;
    let slots = 1;
    while (slots <= depth) slots *= 2;
    this.mask = slots - 1;
    this.opus = new Array<Buffer | null>(slots).fill(null);
    this.seq = new Uint16Array(slots);
    this.ts = new Uint32Array(slots);
    this.ssrcOf = new Float64Array(slots);
    this.arrivedAt = new Float64Array(slots);
  }

  /** Packets waiting for an earlier one. */
  get held(): number {
    return this.heldCount;
  }

  /**
   * One packet as it arrives. Delivers, holds or drops it, delivers whatever it unblocks, then gives up gaps whose
   * held packets waited more than holdMs. Per-packet path: allocates nothing.
   */
  push(opus: Buffer, rtp: ArrivingRtp): ReorderResult {
    this.nowMs = this.clock.now();
    const result = this.place(opus, rtp);
    if (this.heldCount > 0) this.expireHeld();
    return result;
  }

  /** Gives up the gaps that held packets have waited on for more than holdMs (the session's idle timer calls this). */
  expire(nowMs: number): void {
    this.nowMs = nowMs;
    this.expireHeld();
  }

  /** Delivers everything held, in order, giving up the gaps (before a seal, or at the end). */
  drain(): void {
    while (this.heldCount > 0) this.skipToNextHeld();
  }

  private expireHeld(): void {
    while (this.heldCount > 0 && this.heldTooLong()) this.skipToNextHeld();
  }

  private place(opus: Buffer, rtp: ArrivingRtp): ReorderResult {
    const sequence = rtp.sequence & 0xffff;
    const ssrc = rtp.ssrc ?? NO_SSRC;
    if (!this.synced || ssrc !== this.streamSsrc) {
      // First packet, or a new stream (the user rejoined): nothing of the old stream may come after it.
      this.drain();
      this.synced = true;
      this.streamSsrc = ssrc;
      this.deliver(opus, rtp);
      return REORDER.passed;
    }
    const ahead = (sequence - this.expected) & 0xffff;
    if (ahead >= 0x8000) {
      const behind = 0x10000 - ahead;
      if (behind <= this.lateWindow) return REORDER.late;
      // Far behind: not a late packet but a new stream on the same SSRC (a sequence reset).
      this.drain();
      this.deliver(opus, rtp);
      return REORDER.passed;
    }
    const overtaken = this.heldCount > 0 && ((this.highest - sequence) & 0xffff) - 1 < 0x7fff;
    if (ahead === 0) {
      this.deliver(opus, rtp);
      this.deliverConsecutive();
      return overtaken ? REORDER.reordered : REORDER.passed;
    }
    if (ahead > this.depth) {
      // Too far ahead to wait for everything before it: give up the gaps that would not fit, keeping the last
      // `depth` sequence numbers before it open (they may still be on their way).
      this.advanceTo((sequence - this.depth) & 0xffff);
      this.deliverConsecutive();
      if (this.expected === sequence) {
        this.deliver(opus, rtp);
        this.deliverConsecutive();
        return REORDER.passed;
      }
    }
    const slot = sequence & this.mask;
    if (this.opus[slot] !== null) return REORDER.duplicate; // only `sequence` can occupy this slot now
    this.opus[slot] = opus;
    this.seq[slot] = sequence;
    this.ts[slot] = rtp.timestamp;
    this.ssrcOf[slot] = ssrc;
    this.arrivedAt[slot] = this.nowMs;
    if (this.heldCount === 0 || ((sequence - this.highest) & 0xffff) < 0x8000) this.highest = sequence;
    this.heldCount++;
    return overtaken ? REORDER.reordered : REORDER.held;
  }

  /** Gives up the gap at `expected`: moves to the lowest held sequence and delivers it and what follows it. */
  private skipToNextHeld(): void {
    while (this.heldCount > 0 && this.opus[this.expected & this.mask] === null) this.expected = (this.expected + 1) & 0xffff;
    this.deliverConsecutive();
  }

  /** Moves `expected` forward to `target`, delivering the held packets before it (in order); one at `target` stays. */
  private advanceTo(target: number): void {
    while (this.expected !== target) {
      if (this.heldCount === 0) {
        this.expected = target; // nothing held: jump, however far
        return;
      }
      if (this.opus[this.expected & this.mask] !== null) this.releaseSlot(this.expected & this.mask);
      this.expected = (this.expected + 1) & 0xffff;
    }
  }

  /** Delivers the held packets that now follow on without a gap. */
  private deliverConsecutive(): void {
    while (this.heldCount > 0) {
      const slot = this.expected & this.mask;
      if (this.opus[slot] === null) return;
      this.releaseSlot(slot);
      this.expected = (this.expected + 1) & 0xffff;
    }
  }

  /** Empties the slot before calling the sink, so a re-entrant call sees a consistent buffer. */
  private releaseSlot(slot: number): void {
    const opus = this.opus[slot]!;
    this.opus[slot] = null;
    this.heldCount--;
    const out = this.out;
    out.sequence = this.seq[slot]!;
    out.timestamp = this.ts[slot]!;
    out.ssrc = this.ssrcOf[slot]!;
    out.arrivedAt = this.arrivedAt[slot]!;
    this.sink(opus, out);
  }

  /** Delivers the packet being pushed, now. */
  private deliver(opus: Buffer, rtp: ArrivingRtp): void {
    const out = this.out;
    out.sequence = rtp.sequence & 0xffff;
    out.timestamp = rtp.timestamp >>> 0;
    out.ssrc = rtp.ssrc ?? NO_SSRC;
    out.arrivedAt = this.nowMs;
    this.expected = (out.sequence + 1) & 0xffff;
    this.sink(opus, out);
  }

  /** True when some held packet has waited more than holdMs (a scan of the few slots; returns no double). */
  private heldTooLong(): boolean {
    for (let i = 0; i <= this.mask; i++) if (this.opus[i] !== null && this.nowMs - this.arrivedAt[i]! > this.holdMs) return true;
    return false;
  }
}
