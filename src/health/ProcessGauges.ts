import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { GaugeSample } from './prometheus.js';

export interface ProcessGaugesOptions {
  /** Sampling interval of the event-loop delay histogram in ms (Node's default: 10). */
  readonly resolutionMs?: number;
}

const NS_PER_S = 1e9;

/**
 * Process and runtime gauges read at scrape time (nothing is sampled in between, so an idle
 * scraper costs nothing). Owns an event-loop delay histogram; call {@link close} to stop it.
 */
export class ProcessGauges {
  private readonly loopDelay: IntervalHistogram;
  private readonly resolutionMs: number;
  private closed = false;

  constructor(options: ProcessGaugesOptions = {}) {
    this.resolutionMs = options.resolutionMs ?? 10;
    this.loopDelay = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.loopDelay.enable();
  }

  /**
   * Current memory and uptime figures, plus event-loop delay p99/max over the window since the
   * previous call (the histogram is reset after each read, as prom-client does, so a long-gone
   * stall does not pin the max forever).
   */
  sample(): GaugeSample[] {
    // One memoryUsage() call gives rss and the V8/external figures together; calling
    // memoryUsage.rss() as well would read the resident set a second time.
    const mem = process.memoryUsage();
    const hasDelay = this.loopDelay.count > 0;
    const p99 = hasDelay ? this.loopDelay.percentile(99) / NS_PER_S : 0;
    const max = hasDelay ? this.loopDelay.max / NS_PER_S : 0;
    this.loopDelay.reset();
    const interval = `includes the ${this.resolutionMs} ms sampling interval, window = since the previous scrape`;
    return [
      { name: 'process_resident_memory_bytes', help: 'Resident set size in bytes.', value: mem.rss },
      { name: 'nodejs_heap_size_used_bytes', help: 'V8 heap used in bytes.', value: mem.heapUsed },
      { name: 'nodejs_heap_size_total_bytes', help: 'V8 heap reserved in bytes.', value: mem.heapTotal },
      { name: 'nodejs_external_memory_bytes', help: 'Memory of C++ objects bound to JS objects (includes array buffers), bytes.', value: mem.external },
      { name: 'nodejs_array_buffers_bytes', help: 'Memory of ArrayBuffers and Buffers, bytes.', value: mem.arrayBuffers },
      { name: 'process_uptime_seconds', help: 'Seconds since the process started.', value: process.uptime() },
      { name: 'nodejs_eventloop_delay_p99_seconds', help: `Event-loop delay, 99th percentile (${interval}).`, value: p99 },
      { name: 'nodejs_eventloop_delay_max_seconds', help: `Event-loop delay, maximum (${interval}).`, value: max },
    ];
  }

  /** Stops the delay histogram's timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loopDelay.disable();
  }
}
