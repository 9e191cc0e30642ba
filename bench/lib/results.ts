import type { BotImpl } from './launchBot.js';

/** One scenario run, exactly the schema for bench/results/latest.json. */
export interface ScenarioResult {
  readonly name: string;
  readonly impl: BotImpl;
  readonly limitMb: number | null;
  readonly steadyRssMb: number;
  readonly peakRssMb: number;
  readonly slopeMbPerHour: number;
  /** CPU seconds of the bot process per minute of audio spoken; null where no audio was spoken (idle). */
  readonly cpuSecondsPerAudioMinute: number | null;
  readonly oomKilled: boolean;
  readonly segmentsSent: number;
  readonly segmentsPosted: number;
  readonly lostSegments: number;
}

/** The whole file. `machine` describes where and how it ran. */
export interface BenchResults {
  readonly machine: Record<string, unknown>;
  readonly scenarios: readonly ScenarioResult[];
}

const NUMBER_FIELDS = ['steadyRssMb', 'peakRssMb', 'slopeMbPerHour', 'segmentsSent', 'segmentsPosted', 'lostSegments'] as const;

/** Checks a parsed latest.json against the schema; returns the problems found (empty = valid). */
export function validateResults(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) return ['not an object'];
  const v = value as Record<string, unknown>;
  if (typeof v.machine !== 'object' || v.machine === null || Array.isArray(v.machine)) problems.push('machine is not an object');
  if (!Array.isArray(v.scenarios)) return [...problems, 'scenarios is not an array'];
  v.scenarios.forEach((s: unknown, i) => {
    const at = `scenarios[${i}]`;
    if (typeof s !== 'object' || s === null) return void problems.push(`${at} is not an object`);
    const r = s as Record<string, unknown>;
    if (typeof r.name !== 'string' || !r.name) problems.push(`${at}.name`);
    if (r.impl !== 'tinyscribe' && r.impl !== 'baseline') problems.push(`${at}.impl`);
    if (!(r.limitMb === null || (typeof r.limitMb === 'number' && r.limitMb > 0))) problems.push(`${at}.limitMb`);
    for (const f of NUMBER_FIELDS) if (typeof r[f] !== 'number' || !Number.isFinite(r[f])) problems.push(`${at}.${f}`);
    if (!(r.cpuSecondsPerAudioMinute === null || (typeof r.cpuSecondsPerAudioMinute === 'number' && Number.isFinite(r.cpuSecondsPerAudioMinute)))) {
      problems.push(`${at}.cpuSecondsPerAudioMinute`);
    }
    if (typeof r.oomKilled !== 'boolean') problems.push(`${at}.oomKilled`);
  });
  return problems;
}
