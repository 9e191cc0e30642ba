import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createDispatchGuard } from '../../src/gateway/guardDispatch.js';
import { createLogger } from '../../src/util/logger.js';
import { Metrics } from '../../src/util/Metrics.js';

function setup() {
  const metrics = new Metrics();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { metrics, lines, guarded: createDispatchGuard({ logger, metrics }) };
}

describe('createDispatchGuard', () => {
  it('keeps a throwing listener from escaping the emitter, logs the event name and counts it', () => {
    const { metrics, lines, guarded } = setup();
    const client = new EventEmitter();
    const seen: unknown[] = [];
    client.on('GUILD_CREATE', guarded('GUILD_CREATE', ({ data }: { data: { members: { user: unknown }[] } }) => data.members[0]!.user));
    client.on('GUILD_CREATE', (payload: unknown) => seen.push(payload));
    expect(() => client.emit('GUILD_CREATE', { data: { members: [null] } })).not.toThrow();
    // Later listeners of the same event still run.
    expect(seen).toHaveLength(1);
    expect(metrics.get('gateway_dispatch_errors_total')).toBe(1);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ msg: 'gateway event handler failed', event: 'GUILD_CREATE' });
    expect(String(lines[0]?.stack)).toMatch(/TypeError/);
  });

  it('catches a rejecting async listener too', async () => {
    const { metrics, lines, guarded } = setup();
    guarded('INTERACTION_CREATE', async () => {
      throw new Error('late failure');
    })();
    await new Promise((r) => setTimeout(r, 0));
    expect(metrics.get('gateway_dispatch_errors_total')).toBe(1);
    expect(lines[0]).toMatchObject({ event: 'INTERACTION_CREATE', error: { message: 'late failure' } });
  });

  it('passes arguments through and stays quiet when the listener is fine', () => {
    const { metrics, lines, guarded } = setup();
    const got: number[] = [];
    guarded('READY', (a: number, b: number) => got.push(a + b))(2, 3);
    expect(got).toEqual([5]);
    expect(metrics.get('gateway_dispatch_errors_total')).toBe(0);
    expect(lines).toEqual([]);
  });
});
