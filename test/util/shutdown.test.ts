import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { installShutdown, type ShutdownOptions } from '../../src/util/shutdown.js';

/** A shutdown wired to an emitter instead of the process, recording exits, log lines and step order. */
function setup(steps: ShutdownOptions['steps'], deadlineMs = 1_000) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const start = installShutdown({ logger, deadlineMs, steps, exit: (code) => exits.push(code), signals: { on: (s, l) => signals.on(s, l) } });
  const exited = (): Promise<void> =>
    new Promise((resolve) => {
      const poll = (): void => (exits.length > 0 ? resolve() : void setTimeout(poll, 5));
      poll();
    });
  return { signals, exits, lines, exited, start };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('installShutdown', () => {
  it('runs the steps in order on SIGTERM, then exits 0', async () => {
    const order: string[] = [];
    const { signals, exits, exited, lines } = setup([
      ['one', async () => void order.push('one')],
      ['two', async () => (await sleep(20), order.push('two'))],
      ['three', async () => void order.push('three')],
    ]);
    signals.emit('SIGTERM', 'SIGTERM');
    await exited();
    expect(order).toEqual(['one', 'two', 'three']);
    expect(exits).toEqual([0]);
    expect(lines.filter((l) => l.msg === 'shutdown step done').map((l) => l.step)).toEqual(['one', 'two', 'three']);
  });

  it('goes on after a failing step, and exits 0', async () => {
    const order: string[] = [];
    const { signals, exits, exited, lines } = setup([
      ['fails', () => Promise.reject(new Error('boom'))],
      ['after', async () => void order.push('after')],
    ]);
    signals.emit('SIGINT', 'SIGINT');
    await exited();
    expect(order).toEqual(['after']);
    expect(exits).toEqual([0]);
    expect(lines.find((l) => l.msg === 'shutdown step failed')).toMatchObject({ step: 'fails', error: 'boom' });
  });

  it('abandons a step that outlasts the deadline, skips the rest, and still exits 0 by the deadline', async () => {
    const order: string[] = [];
    const started = Date.now();
    const { signals, exits, exited, lines } = setup(
      [
        ['hangs', () => new Promise(() => {})],
        ['skipped', async () => void order.push('skipped')],
      ],
      150,
    );
    signals.emit('SIGTERM', 'SIGTERM');
    await exited();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(order).toEqual([]);
    expect(exits).toEqual([0]);
    expect(lines.find((l) => l.msg === 'shutdown step failed')?.error).toMatch(/timed out/);
    expect(lines.find((l) => l.msg === 'shutdown deadline reached; skipping')).toMatchObject({ step: 'skipped' });
  });

  it('exits 1 at once on a second signal, and not again when the drain ends', async () => {
    let release!: () => void;
    const { signals, exits, lines } = setup([['slow', () => new Promise<void>((r) => (release = r))]], 5_000);
    signals.emit('SIGTERM', 'SIGTERM');
    await sleep(10);
    expect(exits).toEqual([]);
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    release();
    await sleep(20);
    expect(exits).toEqual([1]);
    expect(lines.some((l) => l.msg === 'second signal; exiting now')).toBe(true);
  });

  it('runs every step for a crash too, then exits with its code', async () => {
    const order: string[] = [];
    const { start, exits, lines } = setup([
      ['one', async () => void order.push('one')],
      ['two', async () => void order.push('two')],
    ]);
    await start({ reason: 'uncaughtException', exitCode: 1 });
    expect(order).toEqual(['one', 'two']);
    expect(exits).toEqual([1]);
    expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ reason: 'uncaughtException' });
  });

  it('a crash during a signal drain lets the drain finish but makes the exit non-zero', async () => {
    let release!: () => void;
    const order: string[] = [];
    const { signals, start, exits, exited } = setup([
      ['slow', () => new Promise<void>((r) => (release = r))],
      ['after', async () => void order.push('after')],
    ]);
    signals.emit('SIGTERM', 'SIGTERM');
    await sleep(10);
    const crashed = start({ reason: 'unhandledRejection', exitCode: 1 });
    await sleep(10);
    expect(exits).toEqual([]);
    release();
    await crashed;
    await exited();
    expect(order).toEqual(['after']);
    expect(exits).toEqual([1]);
  });
});
