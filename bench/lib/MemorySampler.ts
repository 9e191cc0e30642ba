import { parsePrometheusGauges } from './prometheusGauges.js';
import { readProc } from './procStatus.js';

/** One 250 ms sample of the bot process. Heap figures come from its /metrics and may lag RSS by one scrape. */
export interface MemorySample {
  /** Seconds since the sampler started. */
  readonly t: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
  readonly anonBytes: number;
  readonly fileBytes: number;
  readonly cpuSeconds: number;
  readonly heapUsedBytes?: number;
  readonly heapTotalBytes?: number;
  readonly externalBytes?: number;
  readonly arrayBuffersBytes?: number;
}

export interface MemorySamplerOptions {
  readonly pid: number;
  /** The bot's health port, for heapUsed/heapTotal/external/arrayBuffers (process.memoryUsage() at scrape time). */
  readonly metricsPort?: number;
  readonly intervalMs?: number;
  readonly ticksPerSecond?: number;
}

/**
 * Samples a process every 250 ms: RSS, VmHWM and CPU time from /proc (which does not disturb it), plus the
 * heap figures from one GET /metrics (a process.memoryUsage() call, microseconds). A scrape still in flight
 * is not overlapped; its slot reuses the previous heap figures.
 */
export class MemorySampler {
  readonly samples: MemorySample[] = [];
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private heap: Pick<MemorySample, 'heapUsedBytes' | 'heapTotalBytes' | 'externalBytes' | 'arrayBuffersBytes'> = {};
  private scraping = false;

  constructor(private readonly options: MemorySamplerOptions) {
    this.timer = setInterval(() => this.tick(), options.intervalMs ?? 250);
    this.tick();
  }

  /** Seconds since start. */
  now(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** The last sample, if any. */
  get last(): MemorySample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Stops sampling (takes one final /proc reading if the process still runs). */
  stop(): void {
    clearInterval(this.timer);
    this.readProcOnce();
  }

  private tick(): void {
    this.readProcOnce();
    if (this.options.metricsPort !== undefined && !this.scraping) void this.scrape(this.options.metricsPort);
  }

  private readProcOnce(): void {
    const proc = readProc(this.options.pid, this.options.ticksPerSecond);
    if (proc) this.samples.push({ t: this.now(), ...proc, ...this.heap });
  }

  private async scrape(port: number): Promise<void> {
    this.scraping = true;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1_000) });
      const g = parsePrometheusGauges(await res.text());
      const pick = (name: string): number | undefined => g.get(name);
      this.heap = {
        ...(pick('nodejs_heap_size_used_bytes') !== undefined ? { heapUsedBytes: pick('nodejs_heap_size_used_bytes')! } : {}),
        ...(pick('nodejs_heap_size_total_bytes') !== undefined ? { heapTotalBytes: pick('nodejs_heap_size_total_bytes')! } : {}),
        ...(pick('nodejs_external_memory_bytes') !== undefined ? { externalBytes: pick('nodejs_external_memory_bytes')! } : {}),
        ...(pick('nodejs_array_buffers_bytes') !== undefined ? { arrayBuffersBytes: pick('nodejs_array_buffers_bytes')! } : {}),
      };
    } catch {
      // the bot is busy or gone: keep the previous figures
    } finally {
      this.scraping = false;
    }
  }
}
