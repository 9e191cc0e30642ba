import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/health/EventLoopMonitor.js';
import { HealthServer } from '../../src/health/HealthServer.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';

// A real stall: nothing else on this thread runs while this spins.
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
  return performance.now() - start;
}

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('EventLoopMonitor (real clock, blocked loop)', () => {
  it('reports a stall while and after the loop is blocked ~300 ms, then recovers', async () => {
    const stalls: number[] = [];
    const monitor = new EventLoopMonitor({ intervalMs: 20, stallMs: 150, holdMs: 400, onStall: (gap) => stalls.push(gap) });
    closers.push(() => monitor.close());

    await sleep(80);
    expect(monitor.isStalled()).toBe(false);

    busyWait(300);
    // Still inside the same turn of the loop: no probe for 300 ms.
    expect(monitor.isStalled()).toBe(true);

    // The probe runs, measures the gap, and the stall stays visible for holdMs.
    await until(() => stalls.length > 0, 1_000);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThanOrEqual(250);
    expect(monitor.isStalled()).toBe(true);

    const recoveredAfter = await until(() => !monitor.isStalled(), 3_000);
    expect(recoveredAfter).toBeGreaterThan(100);
    await sleep(60);
    expect(monitor.isStalled()).toBe(false);
    expect(stalls).toHaveLength(1);
  });

  it('turns /healthz to 503 after a stall and back to 200 when the hold ends', async () => {
    const monitor = new EventLoopMonitor({ intervalMs: 20, stallMs: 150, holdMs: 300 });
    const server = new HealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: new Metrics(),
      isHealthy: () => (monitor.isStalled() ? { healthy: false, reason: 'event loop stalled' } : { healthy: true }),
    });
    closers.push(() => monitor.close(), () => server.close());
    const base = `http://127.0.0.1:${await server.listen()}`;

    await sleep(60);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    busyWait(300);
    const during = await fetch(`${base}/healthz`);
    expect(during.status).toBe(503);
    expect(await during.text()).toBe('event loop stalled');

    await until(() => !monitor.isStalled(), 3_000);
    const after = await fetch(`${base}/healthz`);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('ok');
  });
});

describe('EventLoopMonitor (manual clock)', () => {
  it('stays healthy while probes run on time, and close() cancels the probe', () => {
    const clock = new ManualClock();
    const stalls: number[] = [];
    const monitor = new EventLoopMonitor({ clock, intervalMs: 250, stallMs: 1000, onStall: (gap) => stalls.push(gap) });
    clock.advance(10_000);
    expect(monitor.isStalled()).toBe(false);
    expect(stalls).toEqual([]);

    monitor.close();
    monitor.close();
    clock.advance(10_000);
    // A closed monitor is not monitoring; it must not report the loop as stalled forever.
    expect(monitor.isStalled()).toBe(false);
  });

  it('rejects options that cannot detect anything', () => {
    expect(() => new EventLoopMonitor({ clock: new ManualClock(), intervalMs: 500, stallMs: 500 })).toThrow(
      expect.objectContaining({ code: 'HEALTH_OPTIONS_INVALID' }),
    );
    expect(() => new EventLoopMonitor({ clock: new ManualClock(), intervalMs: 0 })).toThrow(
      expect.objectContaining({ code: 'HEALTH_OPTIONS_INVALID' }),
    );
  });
});
