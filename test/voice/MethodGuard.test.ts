import { describe, expect, it } from 'vitest';
import { MethodGuard } from '../../src/voice/MethodGuard.js';

/** Stands for a library socket whose I/O callback calls `this.onMessage(x)` at call time. */
class Socket {
  readonly seen: number[] = [];
  onMessage(n: number): void {
    if (n < 0) throw new RangeError(`bad ${n}`);
    this.seen.push(n);
  }
  deliver(n: number): void {
    this.onMessage(n);
  }
}

describe('MethodGuard', () => {
  it('turns a throw inside the guarded method into a report, and keeps delivering', () => {
    const rejected: unknown[] = [];
    const guard = new MethodGuard<number>('onMessage', (e) => rejected.push(e));
    const socket = new Socket();
    guard.set(socket);
    socket.deliver(1);
    expect(() => socket.deliver(-1)).not.toThrow();
    socket.deliver(2);
    expect(socket.seen).toEqual([1, 2]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toBeInstanceOf(RangeError);
  });

  it('drops what the filter refuses before the method sees it, reported as undefined', () => {
    const rejected: unknown[] = [];
    const guard = new MethodGuard<number>('onMessage', (e) => rejected.push(e), (n) => n !== 9);
    const socket = new Socket();
    guard.set(socket);
    socket.deliver(9);
    socket.deliver(10);
    expect(socket.seen).toEqual([10]);
    expect(rejected).toEqual([undefined]);
  });

  it('gives the method back on clear and when it moves to another object', () => {
    const guard = new MethodGuard<number>('onMessage', () => {});
    const first = new Socket();
    const second = new Socket();
    guard.set(first);
    expect(Object.hasOwn(first, 'onMessage')).toBe(true);
    guard.set(second);
    expect(Object.hasOwn(first, 'onMessage')).toBe(false);
    expect(() => first.deliver(-1)).toThrow(RangeError);
    guard.clear();
    expect(() => second.deliver(-1)).toThrow(RangeError);
  });

  it('restores an own (bound) method as it was', () => {
    const socket = new Socket();
    const bound = socket.onMessage.bind(socket);
    socket.onMessage = bound;
    const guard = new MethodGuard<number>('onMessage', () => {});
    guard.set(socket);
    expect(socket.onMessage).not.toBe(bound);
    guard.clear();
    expect(socket.onMessage).toBe(bound);
  });
});
