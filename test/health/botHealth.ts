import type { BotProcess } from '../util/BotProcess.js';
import { parsePrometheus, type Family } from './parsePrometheus.js';

/** The bot process's health listener port (HEALTH_PORT=0 → from its 'health listening' log line). */
export async function healthPort(bot: BotProcess): Promise<number> {
  const line = await bot.waitForLog((l) => l.msg === 'health listening', 20_000);
  if (typeof line.port !== 'number') throw new Error(`health log line has no port: ${JSON.stringify(line)}`);
  return line.port;
}

/** One GET /healthz: status and body. */
export async function healthz(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: await response.text() };
}

/** Polls /healthz every 20 ms until `accept` says yes; returns that answer, or throws with the last one. */
export async function waitForHealth(
  port: number,
  accept: (answer: { status: number; body: string }) => boolean,
  timeoutMs: number,
  what: string,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: string } | undefined;
  for (;;) {
    last = await healthz(port);
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for /healthz ${what}; last: ${last.status} ${last.body}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET /metrics, checked strictly as Prometheus text (throws on any format error). */
export async function scrape(port: number): Promise<Map<string, Family>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  if (!response.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) throw new Error(`content-type ${response.headers.get('content-type')}`);
  return parsePrometheus(await response.text());
}

/** A sample's value (`x_total`, `x_sum`, `x_count` or a gauge), or throws naming what is missing. */
export function sample(families: ReadonlyMap<string, Family>, name: string): number {
  for (const family of families.values()) {
    const value = family.samples.get(name);
    if (value !== undefined) return value;
  }
  throw new Error(`no sample ${name} in /metrics (families: ${[...families.keys()].join(', ')})`);
}
