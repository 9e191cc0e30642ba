/** What a metric measures; rendered as Prometheus counter, gauge or summary. */
export type MetricKind = 'counter' | 'gauge' | 'summary';

interface MetricEntry {
  readonly name: string;
  readonly kind: MetricKind;
  readonly help: string;
  value: number;
  count: number;
}

/**
 * A fixed set of process-wide counters and gauges, registered up front so that hot paths only
 * add to a number (no map growth, no allocation). Names follow Prometheus conventions.
 */
export class Metrics {
  private readonly entries = new Map<string, MetricEntry>();

  /** Registers a metric; registering the same name twice returns the existing one. */
  define(name: string, kind: MetricKind, help: string): void {
    if (!this.entries.has(name)) this.entries.set(name, { name, kind, help, value: 0, count: 0 });
  }

  /** Adds to a counter (or gauge). Unknown names are defined as counters on first use. */
  inc(name: string, by = 1): void {
    const entry = this.entries.get(name) ?? this.autoDefine(name, 'counter');
    entry.value += by;
  }

  /** Sets a gauge. */
  set(name: string, value: number): void {
    const entry = this.entries.get(name) ?? this.autoDefine(name, 'gauge');
    entry.value = value;
  }

  /** Records one observation into a summary (sum and count). */
  observe(name: string, value: number): void {
    const entry = this.entries.get(name) ?? this.autoDefine(name, 'summary');
    entry.value += value;
    entry.count += 1;
  }

  /** Current value of a counter or gauge (sum for a summary); 0 when unknown. */
  get(name: string): number {
    return this.entries.get(name)?.value ?? 0;
  }

  /** All metrics, for rendering. */
  list(): readonly Readonly<MetricEntry>[] {
    return [...this.entries.values()];
  }

  private autoDefine(name: string, kind: MetricKind): MetricEntry {
    const entry: MetricEntry = { name, kind, help: name, value: 0, count: 0 };
    this.entries.set(name, entry);
    return entry;
  }
}
