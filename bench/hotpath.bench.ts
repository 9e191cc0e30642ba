/**
 * Micro-benchmark of the per-packet audio path: Opus decode + write into a pool slab + frame energy.
 *
 * Run (plain script compiled by tsc; the flags give GC control and a young generation big enough that no
 * scavenge runs inside a 1,000-packet measuring batch):
 *
 *   npm run bench:hotpath   (= npm run build && node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 dist/bench/hotpath.bench.js)
 *
 * Reports, per scenario over 100,000 packets: ns/packet; bytes allocated per packet on the JS heap and in
 * ArrayBuffer backing stores (process.memoryUsage().arrayBuffers), from the growth over 100 batches of
 * 1,000 packets with a forced GC before each (batches in which V8 ran a GC of its own are discarded):
 * the median batch (includes the per-segment work: a 30 s segment is sealed every 1,500 packets) and the
 * smallest batch (pure per-packet work); and, counted exactly, the bytes of the new Buffers the native
 * decode() returned.
 *
 * Scenarios:
 *   decode only               the native @discordjs/opus decode() alone (its own output copy)
 *   segmenter + real decoder  SpeakerSegmenter.onPacket with RTP, sealing 30 s segments (released at once)
 *   segmenter + stub decoder  the same with a decoder that returns one preallocated frame: our code alone
 *   frameRmsDbfs              the energy function on one 640-byte frame
 */
import { createRequire } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DecoderPool } from '../src/audio/DecoderPool.js';
import { frameRmsDbfs } from '../src/audio/energy.js';
import { createOpusDecoder, type OpusDecoder } from '../src/audio/OpusDecoder.js';
import { PcmSlabPool } from '../src/audio/PcmSlabPool.js';
import { SpeakerSegmenter } from '../src/audio/SpeakerSegmenter.js';
import type { Clock } from '../src/util/Clock.js';
import { Metrics } from '../src/util/Metrics.js';
import { toneBurst } from '../test/sim/audio/signals.js';

const PACKETS = 100_000;
const BATCH = 1_000;
const WARMUP = 20_000;

type OpusModule = typeof import('@discordjs/opus');
const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as OpusModule;

/** 10 s of a three-tone speech stand-in as real 20 ms Opus packets (48 kHz stereo, like a Discord client). */
function makePackets(): Buffer[] {
  const encoder = new OpusEncoder(48_000, 2);
  const pcm = toneBurst([220, 450, 910], 10_000, { sampleRate: 48_000, channels: 2, amplitude: 0.3 });
  const step = 960 * 2;
  const packets: Buffer[] = [];
  for (let offset = 0; offset + step <= pcm.length; offset += step) {
    packets.push(encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset + offset * 2, step * 2)));
  }
  return packets;
}

/** A clock the loop moves by 20 ms per packet (calls allocate nothing). */
class SteppingClock implements Clock {
  time = 1_700_000_000_000;
  now(): number {
    return this.time;
  }
  monotonic(): number {
    return this.time;
  }
  setTimeout(): never {
    throw new Error('not used');
  }
  clearTimeout(): void {}
}

interface Scenario {
  name: string;
  /** Runs packets [from, to) of the endless stream. */
  run(from: number, to: number): void;
  /** Bytes returned by decode() so far. */
  decodedBytes(): number;
}

/** Wraps a decoder to count the bytes its decode() returns (a Float64Array counter: no boxing). */
function counting(factory: () => OpusDecoder): { factory: () => OpusDecoder; total: () => number } {
  const bytes = new Float64Array(1);
  return {
    factory: () => {
      const inner = factory();
      return {
        decode(packet: Buffer): Buffer {
          const out = inner.decode(packet);
          bytes[0]! += out.byteLength;
          return out;
        },
      };
    },
    total: () => bytes[0]!,
  };
}

function segmenterScenario(name: string, packets: readonly Buffer[], factory: () => OpusDecoder, native: boolean): Scenario {
  const decoderFactory = counting(factory);
  const clock = new SteppingClock();
  const pool = new PcmSlabPool();
  const segmenter = new SpeakerSegmenter(
    { guildId: '1', voiceChannelId: '2', textChannelId: '3', userId: '4', sessionId: 'bench' },
    { pool, decoders: new DecoderPool(decoderFactory.factory), clock, metrics: new Metrics(), onSegment: (s) => s.release() },
  );
  // One reused header object, as the voice session passes its RTP tap.
  const rtp = { sequence: 0, timestamp: 0 };
  return {
    name,
    run(from, to) {
      for (let i = from; i < to; i++) {
        rtp.sequence = i & 0xffff;
        rtp.timestamp = (i * 960) >>> 0;
        segmenter.onPacket(packets[i % packets.length]!, rtp);
        clock.time += 20;
      }
    },
    // The stub hands back one preallocated Buffer: nothing is allocated, so nothing to report.
    decodedBytes: native ? decoderFactory.total : () => Number.NaN,
  };
}

function decodeOnlyScenario(packets: readonly Buffer[]): Scenario {
  const counter = counting(createOpusDecoder);
  const decoder = counter.factory();
  return {
    name: 'decode only',
    run(from, to) {
      for (let i = from; i < to; i++) decoder.decode(packets[i % packets.length]!);
    },
    decodedBytes: counter.total,
  };
}

function energyScenario(): Scenario {
  const frame = Buffer.alloc(640);
  for (let i = 0; i < 320; i++) frame.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), i * 2);
  // A typed-array sink: a captured `let sink` holding a double would box it on every iteration (the
  // harness's allocation, not the function's).
  const sink = new Float64Array(8);
  return {
    name: 'frameRmsDbfs',
    run(from, to) {
      for (let i = from; i < to; i++) sink[i & 7] = frameRmsDbfs(frame, 0, 640);
    },
    decodedBytes: () => Number.NaN,
  };
}

interface Result {
  name: string;
  nsPerPacket: number;
  heapBytesPerPacket: number;
  minHeapBytesPerPacket: number;
  arrayBufferBytesPerPacket: number;
  /** Exact: bytes of the Buffers decode() returned (the native side allocates each one). */
  decodedBytesPerPacket: number;
  batchesUsed: number;
  batchesWithGc: number;
}

async function measure(scenario: Scenario, gc: () => void, gcTimes: number[]): Promise<Result> {
  let cursor = 0;
  scenario.run(cursor, (cursor += WARMUP));

  gc();
  const t0 = process.hrtime.bigint();
  scenario.run(cursor, (cursor += PACKETS));
  const nsPerPacket = Number(process.hrtime.bigint() - t0) / PACKETS;

  const heap: number[] = [];
  const arrayBuffers: number[] = [];
  let used = 0;
  let withGc = 0;
  for (let b = 0; b < PACKETS / BATCH; b++) {
    gc();
    // Backing stores of dead ArrayBuffers are freed by a background sweeper after the GC; wait for it so
    // the arrayBuffers counter does not drop inside the window (and for the observer to report the GC).
    await sleep(15);
    const start = performance.now();
    const before = process.memoryUsage();
    scenario.run(cursor, (cursor += BATCH));
    const after = process.memoryUsage();
    const end = performance.now();
    await sleep(0);
    if (gcTimes.some((t) => t >= start && t <= end)) {
      withGc++;
      continue;
    }
    heap.push(after.heapUsed - before.heapUsed);
    arrayBuffers.push(after.arrayBuffers - before.arrayBuffers);
    used++;
  }
  // Median batch: robust against the odd batch in which the ArrayBuffer sweeper still freed memory.
  const perPacket = (values: number[]): number => {
    if (values.length === 0) return Number.NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]! / BATCH;
  };
  return {
    name: scenario.name,
    nsPerPacket,
    heapBytesPerPacket: perPacket(heap),
    minHeapBytesPerPacket: used === 0 ? Number.NaN : Math.min(...heap) / BATCH,
    arrayBufferBytesPerPacket: perPacket(arrayBuffers),
    decodedBytesPerPacket: scenario.decodedBytes() / cursor,
    batchesUsed: used,
    batchesWithGc: withGc,
  };
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (see the command at the top of bench/hotpath.bench.ts)');
  const gcTimes: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcTimes.push(entry.startTime, entry.startTime + entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });

  const packets = makePackets();
  const stub = Buffer.alloc(640);
  for (let i = 0; i < 320; i++) stub.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), i * 2);
  const scenarios = [
    decodeOnlyScenario(packets),
    segmenterScenario('segmenter + real decoder', packets, createOpusDecoder, true),
    segmenterScenario('segmenter + stub decoder', packets, () => ({ decode: () => stub }), false),
    energyScenario(),
  ];
  const results: Result[] = [];
  for (const scenario of scenarios) results.push(await measure(scenario, gc, gcTimes));
  observer.disconnect();

  console.log(`node ${process.version}, ${PACKETS} packets per scenario (+${WARMUP} warm-up), memory over ${PACKETS / BATCH} batches of ${BATCH}`);
  console.table(
    results.map((r) => ({
      scenario: r.name,
      'ns/packet': Math.round(r.nsPerPacket),
      'heap B/packet (median batch)': r.heapBytesPerPacket.toFixed(1),
      'heap B/packet (min batch)': r.minHeapBytesPerPacket.toFixed(1),
      'ArrayBuffer B/packet': r.arrayBufferBytesPerPacket.toFixed(1),
      'decode() new Buffer B/packet': Number.isNaN(r.decodedBytesPerPacket) ? '-' : r.decodedBytesPerPacket.toFixed(1),
      'batches used (GC-free)': `${r.batchesUsed}/${r.batchesUsed + r.batchesWithGc}`,
    })),
  );
}

await main();
