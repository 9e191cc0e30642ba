import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRootOf } from './projectRoot.js';

const root = projectRootOf(import.meta.dirname);

/** `npm start` as a user types it, with a bare environment; --ignore-scripts skips only the prestart build (pretest built it). */
function npmStart(env: Record<string, string>): { status: number | null; output: string } {
  const run = spawnSync('npm', ['start', '--ignore-scripts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('npm start without configuration', () => {
  it('names each missing variable and where to get it, exits non-zero, and npm adds no error noise', () => {
    const { status, output } = npmStart({});
    expect(status).not.toBe(0);
    expect(status).not.toBeNull();
    expect(output).toContain('tinyscribe cannot start.');
    expect(output).toMatch(/DISCORD_TOKEN is missing: .*https:\/\/discord\.com\/developers\/applications/);
    expect(output).toMatch(/TRANSCRIBE_API_KEY is missing: .*https:\/\/platform\.openai\.com\/api-keys/);
    // No stack trace, no npm error block burying the message.
    expect(output).not.toMatch(/^npm (ERR!|error)/m);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('names only what is still missing', () => {
    const { status, output } = npmStart({ DISCORD_TOKEN: 'x'.repeat(30) });
    expect(status).not.toBe(0);
    expect(output).not.toContain('DISCORD_TOKEN is missing');
    expect(output).toContain('TRANSCRIBE_API_KEY is missing');
  });
});
