import { describe, expect, it } from 'vitest';
import { NO_SSRC, REORDER, ReorderBuffer, type ReorderResult } from '../../src/audio/ReorderBuffer.js';
import { ManualClock } from '../util/ManualClock.js';

/** What the sink received, one entry per delivered packet. */
interface Delivered {
  id: string;
  sequence: number;
  timestamp: number;
  ssrc: number;
  arrivedAt: number;
}

/** A buffer with a recording sink; packets are Buffers named by their sequence so order is visible. */
function makeBuffer(depth = 3, holdMs = 60, lateWindow = 50) {
  const out: Delivered[] = [];
  const clock = new ManualClock(1_000);
  const buffer = new ReorderBuffer(depth, holdMs, lateWindow, clock, (opus, rtp) => {
    out.push({ id: opus.toString(), sequence: rtp.sequence, timestamp: rtp.timestamp, ssrc: rtp.ssrc, arrivedAt: rtp.arrivedAt });
  });
  // One reused header object, as the voice session passes it.
  const header: { sequence: number; timestamp: number; ssrc?: number } = { sequence: 0, timestamp: 0 };
  /** Pushes packet `seq` (timestamp = seq × 960 unless given) at the current time; ssrc 7 unless given (NO_SSRC: none). */
  const push = (seq: number, options: { ts?: number; ssrc?: number; id?: string } = {}): ReorderResult => {
    const s = seq & 0xffff;
    header.sequence = s;
    header.timestamp = options.ts ?? (s * 960) >>> 0;
    if (options.ssrc === NO_SSRC) delete header.ssrc;
    else header.ssrc = options.ssrc ?? 7;
    return buffer.push(Buffer.from(options.id ?? `p${s}`), header);
  };
  const advance = (ms: number): void => clock.advance(ms);
  const ids = (): string[] => out.map((d) => d.id);
  const seqs = (): number[] => out.map((d) => d.sequence);
  return { buffer, out, push, advance, ids, seqs, now: () => clock.now() };
}

describe('ReorderBuffer', () => {
  it('passes in-order packets straight through, at once', () => {
    const b = makeBuffer();
    for (let s = 100; s < 110; s++) {
      expect(b.push(s)).toBe(REORDER.passed);
      expect(b.out.at(-1)?.sequence).toBe(s); // delivered during push, no added delay
      b.advance(20);
    }
    expect(b.seqs()).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(b.buffer.held).toBe(0);
    // Arrival time and the RTP numbers reach the sink unchanged.
    expect(b.out[0]).toEqual({ id: 'p100', sequence: 100, timestamp: 96_000, ssrc: 7, arrivedAt: 1_000 });
  });

  it('one swapped pair comes out in order, and the late one counts as reordered', () => {
    const b = makeBuffer();
    b.push(1);
    expect(b.push(3)).toBe(REORDER.held);
    expect(b.seqs()).toEqual([1]);
    expect(b.push(2)).toBe(REORDER.reordered);
    expect(b.seqs()).toEqual([1, 2, 3]);
    expect(b.push(4)).toBe(REORDER.passed);
    expect(b.seqs()).toEqual([1, 2, 3, 4]);
    expect(b.buffer.held).toBe(0);
  });

  it('a burst reversed within the depth comes out in order', () => {
    const b = makeBuffer(3);
    b.push(10);
    expect([b.push(14), b.push(13), b.push(12)]).toEqual([REORDER.held, REORDER.reordered, REORDER.reordered]);
    expect(b.seqs()).toEqual([10]);
    expect(b.buffer.held).toBe(3);
    expect(b.push(11)).toBe(REORDER.reordered);
    expect(b.seqs()).toEqual([10, 11, 12, 13, 14]);
    expect(b.out[4]!.timestamp).toBe(14 * 960); // each packet keeps its own numbers
  });

  it('a real loss: held packets go out in order once one waited more than holdMs, and the gap is left to the sink', () => {
    const b = makeBuffer(3, 60);
    b.push(1);
    b.advance(20); // 2 is lost
    b.push(3);
    b.advance(20);
    b.push(4);
    b.advance(20);
    expect(b.seqs()).toEqual([1]);
    b.buffer.expire(b.now()); // 3 waited 40 ms
    expect(b.seqs()).toEqual([1]);
    b.advance(20); // 3 waited 60 ms: not more than holdMs
    b.buffer.expire(b.now());
    expect(b.seqs()).toEqual([1]);
    b.advance(1);
    b.buffer.expire(b.now());
    expect(b.seqs()).toEqual([1, 3, 4]);
    expect(b.out[1]!.arrivedAt).toBe(1_020); // its own arrival time, not the release time
    // 2 turns up after all: its slot is gone.
    expect(b.push(2)).toBe(REORDER.late);
    expect(b.push(5)).toBe(REORDER.passed);
    expect(b.seqs()).toEqual([1, 3, 4, 5]);
  });

  it('a real loss with packets still flowing: the packet beyond the depth releases the held ones without waiting', () => {
    const b = makeBuffer(3, 10_000); // hold time out of the way: only the depth bound acts
    b.push(1);
    for (const s of [3, 4, 5]) expect(b.push(s)).toBe(REORDER.held);
    expect(b.seqs()).toEqual([1]);
    expect(b.push(6)).toBe(REORDER.passed);
    expect(b.seqs()).toEqual([1, 3, 4, 5, 6]);
  });

  it('a jump far ahead gives up the old gaps in order and waits only for the last depth sequence numbers', () => {
    const b = makeBuffer(3, 10_000);
    b.push(1);
    b.push(3); // held behind 2
    expect(b.push(40)).toBe(REORDER.held); // 37, 38, 39 may still come
    expect(b.seqs()).toEqual([1, 3]);
    expect(b.push(38)).toBe(REORDER.reordered);
    expect(b.push(37)).toBe(REORDER.reordered);
    expect(b.seqs()).toEqual([1, 3, 37, 38]);
    expect(b.push(39)).toBe(REORDER.reordered);
    expect(b.seqs()).toEqual([1, 3, 37, 38, 39, 40]);
  });

  it('treats sequence 65535 → 0 and timestamp 2^32 → 0 as ordinary steps, also across a swap', () => {
    const b = makeBuffer();
    const ts = (i: number): number => (2 ** 32 - 2 * 960 + i * 960) >>> 0; // wraps between i = 1 and i = 2
    b.push(65_534, { ts: ts(0) });
    b.push(0, { ts: ts(2) }); // overtook 65535
    expect(b.seqs()).toEqual([65_534]);
    expect(b.push(65_535, { ts: ts(1) })).toBe(REORDER.reordered);
    b.push(2, { ts: ts(4) });
    b.push(1, { ts: ts(3) });
    expect(b.seqs()).toEqual([65_534, 65_535, 0, 1, 2]);
    expect(b.out.map((d) => d.timestamp)).toEqual([ts(0), ts(1), ts(2), ts(3), ts(4)]);
    expect(b.out.map((d) => d.timestamp)).toEqual([2 ** 32 - 1920, 2 ** 32 - 960, 0, 960, 1920]);
    // Behind, across the wrap: late.
    expect(b.push(65_535)).toBe(REORDER.late);
  });

  it('drops duplicates, whether held or already delivered', () => {
    const b = makeBuffer();
    b.push(1);
    expect(b.push(1)).toBe(REORDER.late); // delivered already
    b.push(3);
    expect(b.push(3, { id: 'copy' })).toBe(REORDER.duplicate); // held
    b.push(2);
    expect(b.ids()).toEqual(['p1', 'p2', 'p3']);
    expect(b.push(3)).toBe(REORDER.late);
    expect(b.ids()).toEqual(['p1', 'p2', 'p3']);
  });

  it('expire() (the idle timer) places what a speaker who went quiet left held; drain() empties it at once', () => {
    const b = makeBuffer(3, 60);
    b.push(1);
    b.push(3);
    b.advance(100); // no next packet: only the timer can release 3
    b.buffer.expire(b.now());
    expect(b.seqs()).toEqual([1, 3]);
    expect(b.buffer.held).toBe(0);

    b.push(5);
    b.push(7);
    expect(b.buffer.held).toBe(2);
    b.buffer.drain(); // before a seal: in order, nothing waits
    expect(b.seqs()).toEqual([1, 3, 5, 7]);
    expect(b.buffer.held).toBe(0);
    expect(b.push(6)).toBe(REORDER.late);
  });

  it('expires gap by gap: a later gap whose packets are younger keeps waiting', () => {
    const b = makeBuffer(3, 60);
    b.push(1);
    b.push(3); // gap at 2
    b.advance(50);
    b.push(5); // gap at 4
    b.advance(20); // 3 waited 70 ms, 5 waited 20 ms
    b.buffer.expire(b.now());
    expect(b.seqs()).toEqual([1, 3]);
    expect(b.push(4)).toBe(REORDER.reordered);
    expect(b.seqs()).toEqual([1, 3, 4, 5]);
  });

  it('a new SSRC delivers everything held first, then starts the new stream at its own sequence', () => {
    const b = makeBuffer();
    b.push(1, { ssrc: 111 });
    b.push(3, { ssrc: 111 });
    expect(b.push(9000, { ssrc: 222 })).toBe(REORDER.passed);
    expect(b.out.map((d) => [d.sequence, d.ssrc])).toEqual([
      [1, 111],
      [3, 111],
      [9000, 222],
    ]);
    expect(b.push(9001, { ssrc: 222 })).toBe(REORDER.passed);
  });

  it('a sequence far behind is a new stream (reset), not a late packet', () => {
    const b = makeBuffer(3, 60, 50);
    b.push(5000);
    b.push(5002);
    expect(b.push(4951)).toBe(REORDER.late); // 50 behind the expected 5001: late
    expect(b.push(100)).toBe(REORDER.passed); // far behind: a reset
    expect(b.seqs()).toEqual([5000, 5002, 100]);
    expect(b.push(101)).toBe(REORDER.passed);
  });

  it('depth 0 is a pass-through: a gap is never waited for', () => {
    const b = makeBuffer(0, 0);
    b.push(1);
    expect(b.push(3)).toBe(REORDER.passed);
    expect(b.push(2)).toBe(REORDER.late);
    expect(b.seqs()).toEqual([1, 3]);
    expect(b.buffer.held).toBe(0);
  });

  it('works without an SSRC, and reports it as NO_SSRC', () => {
    const b = makeBuffer();
    b.push(1, { ssrc: NO_SSRC });
    b.push(3, { ssrc: NO_SSRC });
    b.push(2, { ssrc: NO_SSRC });
    expect(b.seqs()).toEqual([1, 2, 3]);
    expect(b.out.map((d) => d.ssrc)).toEqual([NO_SSRC, NO_SSRC, NO_SSRC]);
  });

  it('keeps only references: the sink gets the very Buffer that was pushed', () => {
    const seen: Buffer[] = [];
    const buffer = new ReorderBuffer(3, 60, 50, new ManualClock(0), (opus) => seen.push(opus));
    const a = Buffer.from('a');
    const c = Buffer.from('c');
    const bb = Buffer.from('b');
    buffer.push(a, { sequence: 1, timestamp: 960 });
    buffer.push(c, { sequence: 3, timestamp: 3 * 960 });
    buffer.push(bb, { sequence: 2, timestamp: 2 * 960 });
    expect(seen[0]).toBe(a);
    expect(seen[1]).toBe(bb);
    expect(seen[2]).toBe(c);
  });
});
