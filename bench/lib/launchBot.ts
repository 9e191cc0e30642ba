import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TinyscribeError } from '../../src/util/errors.js';
import { BOT_ENTRY, BotProcess } from '../../test/util/BotProcess.js';

/** Which implementation to run: the product, or the usual discord.js design in bench/baseline/. */
export type BotImpl = 'tinyscribe' | 'baseline';

export interface LaunchBotOptions {
  /** Reuse a data dir; a fresh temp dir otherwise. */
  readonly dataDir?: string;
  /** Node flags after the implementation's own (tinyscribe: the production flags; baseline: none). */
  readonly nodeFlags?: readonly string[];
  /** Replace the implementation's node flags altogether (tuning experiments: before/after). */
  readonly replaceNodeFlags?: readonly string[];
  /** Join this cgroup (its `cgroup.procs` path) before node starts: the hard memory limit. */
  readonly cgroupProcsFile?: string;
}

/** The folder holding the project's package.json (bench/ and dist/bench/ both sit below it). */
function projectRoot(from: string): string {
  let dir = from;
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const ROOT = projectRoot(import.meta.dirname);
/** bench/baseline/ in the source tree (plain JavaScript, never compiled; its own package.json and lockfile). */
export const BASELINE_DIR = join(ROOT, 'bench', 'baseline');
export const BASELINE_ENTRY = join(BASELINE_DIR, 'bot.mjs');

/**
 * Installs the baseline's own dependencies (`npm ci --prefix bench/baseline`) when its node_modules is missing.
 * They stay out of the product: nothing in src/ or the root package.json refers to them.
 */
export function ensureBaselineInstalled(log: (line: string) => void = () => {}): void {
  if (existsSync(join(BASELINE_DIR, 'node_modules', 'discord.js'))) return;
  log('installing the baseline (npm ci --prefix bench/baseline) …');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--prefix', BASELINE_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new TinyscribeError('BENCH_BASELINE_INSTALL_FAILED', `npm ci --prefix ${BASELINE_DIR} exited ${result.status ?? result.signal}`, { cause: result.error });
  }
}

/**
 * Starts one implementation as a child process with the same environment contract (DISCORD_TOKEN, DISCORD_API_URL,
 * TRANSCRIBE_BASE_URL, TRANSCRIBE_API_KEY, NODE_EXTRA_CA_CERTS, HEALTH_PORT, DATA_DIR, SILENCE_GAP_MS): both answer
 * /join, post `**Name**: text` lines, log JSON lines (`gateway ready`, `health listening` {port}) and serve /metrics.
 * tinyscribe runs with the production command line (BOT_NODE_FLAGS + dist/src/main.js: run `npm run build` first);
 * the baseline with the same Node 22 (process.execPath) and no tuning flags, as the usual bot is deployed.
 */
export function launchBot(impl: BotImpl, env: Record<string, string | undefined>, options: LaunchBotOptions = {}): BotProcess {
  const common = {
    env,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.cgroupProcsFile ? { cgroupProcsFile: options.cgroupProcsFile } : {}),
  };
  if (impl === 'tinyscribe') {
    if (!options.replaceNodeFlags) return new BotProcess({ ...common, nodeFlags: options.nodeFlags ?? [] });
    const args = [...options.replaceNodeFlags, ...(options.nodeFlags ?? []), BOT_ENTRY];
    return new BotProcess({ ...common, command: { executable: process.execPath, args, cwd: ROOT } });
  }
  ensureBaselineInstalled();
  const flags = [...(options.replaceNodeFlags ?? []), ...(options.nodeFlags ?? [])];
  return new BotProcess({ ...common, command: { executable: process.execPath, args: [...flags, BASELINE_ENTRY], cwd: BASELINE_DIR } });
}

/** Path of the project root (for results and docs). */
export function benchProjectRoot(): string {
  return resolve(ROOT);
}
