import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The folder holding package.json above `from` (works from test/ under vitest and from dist/test/ compiled). */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The production command line, as in package.json's start script and the Dockerfile. */
export const BOT_ENTRY = resolve(projectRoot(import.meta.dirname), 'dist/src/main.js');
export const BOT_NODE_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=1', '--enable-source-maps'];
/** The image's allocator setting (Dockerfile ENV): the memory benchmark runs the bot with it, as production does. */
export const BOT_PRODUCTION_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

export interface BotProcessOptions {
  /** Environment for the bot (merged over a minimal base; the parent's env is NOT inherited wholesale). */
  readonly env: Record<string, string | undefined>;
  /** Reuse a data dir (restart tests); a fresh temp dir otherwise. */
  readonly dataDir?: string;
  /** Extra node flags. */
  readonly nodeFlags?: readonly string[];
  /**
   * Run this instead of the repo's build (the Dockerfile replay starts the image's CMD this way):
   * the executable, all its arguments (flags and entry) and the working directory. nodeFlags is ignored.
   */
  readonly command?: { readonly executable: string; readonly args: readonly string[]; readonly cwd: string };
  /**
   * A cgroup's `cgroup.procs` file (the memory benchmark's hard limit): the process joins that cgroup
   * before it execs node, so every byte it ever allocates is charged there. Started through /bin/sh.
   */
  readonly cgroupProcsFile?: string;
}

/** Log line emitted by the bot (its stdout is JSON lines). */
export interface BotLogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/**
 * The bot as a separate process, started the way production starts it (`node <flags> dist/src/main.js`).
 * Collects its JSON log lines for assertions.
 */
export class BotProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly lines: BotLogLine[] = [];
  readonly stderr: string[] = [];
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly ownsDataDir: boolean;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(options: BotProcessOptions) {
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tinyscribe-bot-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATA_DIR: this.dataDir,
      HEALTH_PORT: '0',
      LOG_LEVEL: 'debug',
    };
    for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
    const { command } = options;
    const executable = command ? command.executable : process.execPath;
    const args = command ? [...command.args] : [...BOT_NODE_FLAGS, ...(options.nodeFlags ?? []), BOT_ENTRY];
    const cwd = command?.cwd;
    this.child = options.cgroupProcsFile
      ? // sh writes its own pid into the cgroup, then execs node under the same pid.
        spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', options.cgroupProcsFile, executable, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(executable, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as BotLogLine);
        } catch {
          this.lines.push({ msg: line });
        }
        if (process.env.BOT_LOG) process.stderr.write(`[bot] ${line}\n`);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (process.env.BOT_LOG) process.stderr.write(`[bot:err] ${chunk}`);
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      this.exitInfo = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      return this.exitInfo;
    });
  }

  /** How the process ended, or undefined while it runs. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** Waits until a log line matches, or throws with the tail of the log. */
  async waitForLog(predicate: (line: BotLogLine) => boolean, timeoutMs = 20_000): Promise<BotLogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(predicate);
      if (hit) return hit;
      if (this.exitInfo) throw new Error(`bot exited (${JSON.stringify(this.exitInfo)}) before the expected log line:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a bot log line:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The last lines of output, for failure messages. */
  tail(n = 30): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-5)].join('\n');
  }

  /** Resolves with the exit code and signal. */
  async exit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal and waits for exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exitInfo) this.child.kill(signal);
    return this.exit(timeoutMs);
  }

  /** Kills the process if still running and removes its temp data dir (unless it was given). */
  async dispose(): Promise<void> {
    if (!this.exitInfo) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
