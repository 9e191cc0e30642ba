import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { installCrashHandlers } from '../../src/util/crashHandlers.js';
import { installShutdown } from '../../src/util/shutdown.js';

/** Crash handlers on an emitter, wired to a real shutdown whose exit is recorded. */
function setup() {
  const source = new EventEmitter();
  const exits: number[] = [];
  const steps: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const shutdown = installShutdown({
    logger,
    deadlineMs: 1_000,
    steps: [['spool segments', async () => void steps.push('spool segments')]],
    exit: (code) => exits.push(code),
    signals: { on: () => undefined },
  });
  installCrashHandlers({ logger, shutdown, source });
  const exited = (): Promise<void> =>
    new Promise((resolve) => {
      const poll = (): void => (exits.length > 0 ? resolve() : void setTimeout(poll, 5));
      poll();
    });
  return { source, exits, steps, lines, exited };
}

describe('installCrashHandlers', () => {
  it('logs an uncaught exception with its stack, runs the orderly shutdown and exits 1', async () => {
    const { source, exits, steps, lines, exited } = setup();
    source.emit('uncaughtException', new TypeError("Cannot read properties of null (reading 'user')"));
    await exited();
    expect(steps).toEqual(['spool segments']);
    expect(exits).toEqual([1]);
    const logged = lines.find((l) => l.level === 'error');
    expect(logged).toMatchObject({ msg: 'uncaught exception; shutting down', error: { message: "Cannot read properties of null (reading 'user')" } });
    expect(String(logged?.stack)).toMatch(/TypeError: Cannot read properties of null[\s\S]*crashHandlers\.test\.ts/);
  });

  it('treats an unhandled rejection the same way, and a second one does not start a second shutdown', async () => {
    const { source, exits, steps, lines, exited } = setup();
    source.emit('unhandledRejection', 'a string, not an Error');
    source.emit('unhandledRejection', new Error('second'));
    await exited();
    await new Promise((r) => setTimeout(r, 20));
    expect(steps).toEqual(['spool segments']);
    expect(exits).toEqual([1]);
    expect(lines.filter((l) => l.msg === 'unhandled rejection; shutting down').map((l) => l.error)).toEqual([
      'a string, not an Error',
      expect.objectContaining({ message: 'second' }),
    ]);
  });
});
