import { describe, expect, it } from 'vitest';
import { InOrderDelivery } from '../../src/transcribe/InOrderDelivery.js';

describe('InOrderDelivery', () => {
  it('hands values out per key in startedAt order, whatever order they complete in', () => {
    const out: string[] = [];
    const d = new InOrderDelivery<string>((v) => out.push(v));
    const a1 = d.reserve('a', 100);
    const a2 = d.reserve('a', 200);
    const b1 = d.reserve('b', 150);
    const a3 = d.reserve('a', 300);
    d.fill(a3, 'a3');
    d.fill(a2, 'a2');
    expect(out).toEqual([]);
    d.fill(b1, 'b1');
    expect(out).toEqual(['b1']);
    d.fill(a1, 'a1');
    expect(out).toEqual(['b1', 'a1', 'a2', 'a3']);
    expect(d.pending).toBe(0);
  });

  it('lets an empty fill (spooled, filtered, failed) unblock later values, and ignores a second fill', () => {
    const out: string[] = [];
    const d = new InOrderDelivery<string>((v) => out.push(v));
    const first = d.reserve('a', 1);
    const second = d.reserve('a', 2);
    d.fill(second, 'second');
    d.fill(first, undefined);
    d.fill(first, 'too late');
    expect(out).toEqual(['second']);
  });

  it('places a reservation with an earlier startedAt before later pending ones', () => {
    const out: string[] = [];
    const d = new InOrderDelivery<string>((v) => out.push(v));
    const late = d.reserve('a', 500);
    const early = d.reserve('a', 100);
    d.fill(late, 'late');
    expect(out).toEqual([]);
    d.fill(early, 'early');
    expect(out).toEqual(['early', 'late']);
  });
});
