import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { concatPcm, silencePcm } from '../sim/audio/index.js';
import type { DiscordSimulator } from '../sim/discord/index.js';
import type { BotProcess } from '../util/BotProcess.js';

/** 48 kHz stereo s16 samples in one millisecond (what SimSpeaker.play takes). */
const SAMPLES_PER_MS = 48 * 2;

/** `pcm` (48 kHz stereo) padded with silence to exactly `ms` milliseconds, so a play has a known frame count. */
export function padToMs(pcm: Int16Array, ms: number): Int16Array {
  const have = pcm.length / SAMPLES_PER_MS;
  if (have > ms) throw new Error(`clip is ${have} ms, longer than ${ms} ms`);
  return have === ms ? pcm : concatPcm(pcm, silencePcm(ms - have, 48_000, 2));
}

/** Resolves after `ms` of wall time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bot's /metrics, parsed to name → value (label-free samples, as tinyscribe writes them). */
export async function botMetrics(bot: BotProcess): Promise<Map<string, number>> {
  const line = await bot.waitForLog((l) => l.msg === 'health listening', 20_000);
  const port = line.port;
  if (typeof port !== 'number') throw new Error(`health log line has no port: ${JSON.stringify(line)}`);
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  const values = new Map<string, number>();
  for (const row of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(row);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** A metric's value from {@link botMetrics} output; counters are rendered with a `_total` suffix. */
export function metric(metrics: ReadonlyMap<string, number>, name: string): number | undefined {
  return metrics.get(name) ?? metrics.get(`${name}_total`);
}

/** Resident set size of the bot process (bytes), from /proc. */
export function botRssBytes(bot: BotProcess): number {
  const status = readFileSync(`/proc/${bot.child.pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error('no VmRSS in /proc status');
  return Number(kb[1]) * 1024;
}

/** A posted transcript line taken apart: who, what, and whether it came late from the spool. */
export interface ParsedLine {
  readonly name: string;
  readonly text: string;
  readonly delayed: boolean;
}

/** Parses `**Name**: text` and the spool's `**Name** _(said at HH:MM:SS UTC, delayed)_: text`. */
export function parseLine(line: string): ParsedLine {
  const match = /^\*\*(.+?)\*\*( _\(said at \d\d:\d\d:\d\d UTC, delayed\)_)?: (.*)$/.exec(line);
  if (!match) throw new Error(`not a transcript line: ${line}`);
  return { name: match[1]!, text: match[3]!, delayed: match[2] !== undefined };
}

/** Waits until at least `n` transcript lines are posted in the guild's text channel; returns them all. */
export async function waitForLines(sim: DiscordSimulator, lines: () => string[], n: number, timeoutMs: number): Promise<string[]> {
  return sim.waitFor(() => (lines().length >= n ? lines() : undefined), timeoutMs, `${n} transcript line(s)`);
}

/** Log lines at error level, or stderr output that is not a Node warning we expect (none). */
export function botErrors(bot: BotProcess): string[] {
  return [
    ...bot.lines.filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => JSON.stringify(l)),
    ...bot.stderr.filter((chunk) => chunk.trim().length > 0),
  ];
}

/** Waits until the bot has written `n` segments to its spool (they are durable on disk then). */
export async function waitForSpooled(bot: BotProcess, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spooled = metric(await botMetrics(bot), 'segments_spooled') ?? 0;
    if (spooled >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${spooled} of ${n} segments spooled:\n${bot.tail()}`);
    await sleep(200);
  }
}

/** Complete spool files of a bot's DATA_DIR (name order = startedAt order). */
export function spoolFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'spool'))
    .filter((name) => name.endsWith('.wav'))
    .sort();
}
