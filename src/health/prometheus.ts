import type { MetricKind } from '../util/Metrics.js';

/*
 * Hand-written instead of prom-client. Measured (median of 5 fresh processes, RSS/heapUsed after
 * 3× gc(), MiB) with the project's Node 22.23.3, `--max-old-space-size=96 --max-semi-space-size=1
 * --expose-gc`, prom-client 15.1.3 installed outside the repo (/tmp/promcheck):
 *                                          RSS    heap  | on top of the bot's deps (core, voice, ws,
 *   bare node                              43.5   3.5   |   rest, undici, opus already loaded):
 *   + this renderer, HealthServer, http    57.7   6.1   |   81.2 / 16.0  (+0.2 / +0.2)
 *   + node:http alone                      57.1   6.0   |   80.5 / 15.9  (baseline 81.0 / 15.9)
 *   + prom-client, 10 counters, 1 render   60.3   5.2   |   82.1 / 16.6  (+1.1 / +0.7)
 *   + … and collectDefaultMetrics()        61.5   5.3   |   82.3 / 16.7  (+1.3 / +0.9)
 * So prom-client would cost about 1 MiB RSS in the bot (17 MiB on its own, mostly the core modules
 * it pulls in); ours costs nothing measurable because node:http is loaded by @discordjs/ws anyway.
 * Small, but the bot's metrics are label-free and pre-aggregated by Metrics, so the renderer is
 * ~60 lines and needs none of prom-client's registry, labels, tdigest or OpenTelemetry hooks.
 */

/** Content-Type of the Prometheus text exposition format this module writes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A metric as Metrics lists it (structural, so the renderer does not depend on its internals). */
export interface MetricSnapshot {
  readonly name: string;
  readonly kind: MetricKind;
  readonly help: string;
  /** Counter/gauge value, or the sum of a summary's observations. */
  readonly value: number;
  /** Number of observations (summaries only). */
  readonly count: number;
}

/** A label-free gauge whose value is read at scrape time (process and runtime figures). */
export interface GaugeSample {
  readonly name: string;
  readonly help: string;
  readonly value: number;
}

const INVALID_NAME_CHARS = /[^a-zA-Z0-9_:]/g;

/** Turns an arbitrary metric name into a legal Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
export function sanitizeMetricName(name: string): string {
  const cleaned = name.replace(INVALID_NAME_CHARS, '_');
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** Formats a sample value as the exposition format expects (Go ParseFloat syntax, +Inf/-Inf/NaN). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// HELP text escapes only backslash and newline (format 0.0.4).
function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * Renders metrics and scrape-time gauges as Prometheus text format 0.0.4: a HELP and a TYPE line
 * before each family's samples, counters named `…_total` exactly once, summaries as `_sum` and
 * `_count`. A name that would appear twice (e.g. `x` and `x_total` both defined as counters) is
 * rendered once, first one wins, because duplicate families make the whole scrape fail.
 */
export function renderPrometheus(metrics: readonly MetricSnapshot[], gauges: readonly GaugeSample[] = []): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  const family = (name: string, type: MetricKind, help: string): boolean => {
    if (seen.has(name)) return false;
    seen.add(name);
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return true;
  };

  for (const metric of metrics) {
    const base = sanitizeMetricName(metric.name);
    switch (metric.kind) {
      case 'counter': {
        const name = base.endsWith('_total') ? base : `${base}_total`;
        if (family(name, 'counter', metric.help)) lines.push(`${name} ${formatValue(metric.value)}`);
        break;
      }
      case 'gauge':
        if (family(base, 'gauge', metric.help)) lines.push(`${base} ${formatValue(metric.value)}`);
        break;
      case 'summary':
        if (family(base, 'summary', metric.help)) {
          // Reserve the sample names too, so that no other family can reuse them.
          seen.add(`${base}_sum`).add(`${base}_count`);
          lines.push(`${base}_sum ${formatValue(metric.value)}`, `${base}_count ${formatValue(metric.count)}`);
        }
        break;
    }
  }
  for (const gauge of gauges) {
    const name = sanitizeMetricName(gauge.name);
    if (family(name, 'gauge', gauge.help)) lines.push(`${name} ${formatValue(gauge.value)}`);
  }
  // The format requires the last line to end with a newline.
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
