import { describe, expect, it } from 'vitest';
import { MEMORY_BEGIN, MEMORY_END, ratioTable, spliceMemorySection } from '../../bench/lib/benchmarksDoc.js';
import { countByConstructor, topGrowth } from '../../bench/lib/heapSnapshot.js';
import { ownMemoryCgroupPath, parseOomControl } from '../../bench/lib/memoryCgroup.js';
import { parseProcStatTicks, parseProcStatus, readProc } from '../../bench/lib/procStatus.js';
import { parsePrometheusGauges } from '../../bench/lib/prometheusGauges.js';
import { validateResults, type ScenarioResult } from '../../bench/lib/results.js';
import { leastSquaresSlope, median, slopeMbPerHour } from '../../bench/lib/slope.js';
import { niceStep, renderRssChart } from '../../bench/lib/svgChart.js';
import { evaluateTargets, quickGateFailures } from '../../bench/lib/targets.js';

const STATUS = `Name:\tnode\nVmPeak:\t 1234 kB\nVmHWM:\t   98304 kB\nVmRSS:\t   81920 kB\nRssAnon:\t   30720 kB\nRssFile:\t   51200 kB\nThreads:\t11\n`;

describe('/proc parsing', () => {
  it('reads VmRSS, VmHWM, RssAnon and RssFile in bytes', () => {
    expect(parseProcStatus(STATUS)).toEqual({ rssBytes: 81920 * 1024, hwmBytes: 98304 * 1024, anonBytes: 30720 * 1024, fileBytes: 51200 * 1024 });
  });
  it('answers undefined for a zombie without VmRSS', () => {
    expect(parseProcStatus('Name:\tnode\nState:\tZ (zombie)\n')).toBeUndefined();
  });
  it('counts stat fields from the last parenthesis (names may hold spaces and parentheses)', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[14 - 3] = '250';
    fields[15 - 3] = '50';
    expect(parseProcStatTicks(`1234 (my (odd) name) ${fields.join(' ')}`)).toBe(300);
    expect(parseProcStatTicks('garbage')).toBeUndefined();
  });
  it('reads this very process', () => {
    const r = readProc(process.pid)!;
    expect(r.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(r.hwmBytes).toBeGreaterThanOrEqual(r.rssBytes);
    expect(r.anonBytes + r.fileBytes).toBeLessThanOrEqual(r.rssBytes);
    expect(r.cpuSeconds).toBeGreaterThan(0);
    expect(readProc(2 ** 22 + 7)).toBeUndefined();
  });
});

describe('Prometheus gauges', () => {
  it('keeps plain samples, skips comments and labelled series', () => {
    const g = parsePrometheusGauges('# HELP x y\n# TYPE x gauge\nnodejs_heap_size_used_bytes 1.5e7\nfoo{a="b"} 3\nbar NaN\nbaz 42\n');
    expect([...g]).toEqual([
      ['nodejs_heap_size_used_bytes', 15_000_000],
      ['baz', 42],
    ]);
  });
});

describe('slope and median', () => {
  it('fits a line exactly and converts bytes/s to MB/h', () => {
    const points = Array.from({ length: 100 }, (_, i) => ({ t: i, v: 1000 + 2 * i }));
    expect(leastSquaresSlope(points)).toBeCloseTo(2, 10);
    const mbPerSecond = Array.from({ length: 10 }, (_, i) => ({ t: i * 60, v: 50 * 2 ** 20 + i * 2 ** 20 }));
    expect(slopeMbPerHour(mbPerSecond, 0)).toBeCloseTo(60, 6);
    // warm-up is left out: a jump before it does not count
    const warm = [{ t: 0, v: 0 }, ...Array.from({ length: 10 }, (_, i) => ({ t: 10 + i, v: 100 * 2 ** 20 }))];
    expect(slopeMbPerHour(warm, 5)).toBe(0);
    expect(leastSquaresSlope([{ t: 1, v: 5 }])).toBe(0);
  });
  it('takes the middle value', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('SVG chart', () => {
  it('draws one path per series, a legend entry each, guides, and escapes text', () => {
    const svg = renderRssChart(
      [
        { label: 'tinyscribe', color: '#00f', points: [[0, 40], [10, 60], [20, 62]] },
        { label: 'baseline <usual>', color: '#f00', points: [[0, 80], [20, 200]] },
      ],
      { title: 'a & b', guides: [{ mb: 256, label: '256 MB VM' }] },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('baseline &#60;usual&#62;');
    expect(svg).toContain('a &#38; b');
    expect(svg).toContain('256 MB VM');
    expect(svg).not.toContain('NaN');
    // the highest point (200 MB at t = 20 s) is drawn above the lowest (40 MB at t = 0)
    const ys = [...svg.matchAll(/<path d="M([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(ys[0]).toBeGreaterThan(ys[1]!);
  });
  it('picks 1-2-5 steps', () => {
    expect(niceStep(100)).toBe(20);
    expect(niceStep(7)).toBe(2);
    expect(niceStep(0)).toBe(1);
  });
});

const row = (over: Partial<ScenarioResult> = {}): ScenarioResult => ({
  name: 'speakers-10',
  impl: 'tinyscribe',
  limitMb: 256,
  steadyRssMb: 70,
  peakRssMb: 90,
  slopeMbPerHour: 0.5,
  cpuSecondsPerAudioMinute: 1.2,
  oomKilled: false,
  segmentsSent: 10,
  segmentsPosted: 10,
  lostSegments: 0,
  ...over,
});

describe('results schema', () => {
  it('accepts a well-formed file and names each bad field', () => {
    expect(validateResults({ machine: { node: 'v22' }, scenarios: [row(), row({ impl: 'baseline', limitMb: null, cpuSecondsPerAudioMinute: null })] })).toEqual([]);
    const bad = validateResults({ machine: [], scenarios: [{ ...row(), impl: 'other', peakRssMb: Number.NaN, oomKilled: 'no' }] });
    expect(bad).toEqual(['machine is not an object', 'scenarios[0].impl', 'scenarios[0].peakRssMb', 'scenarios[0].oomKilled']);
    expect(validateResults(null)).toEqual(['not an object']);
  });
});

describe('CI gate and targets', () => {
  it('fails on a kill, a peak over 160 MB or a lost segment, and passes otherwise', () => {
    expect(quickGateFailures([row()])).toEqual([]);
    expect(quickGateFailures([row({ oomKilled: true }), row({ peakRssMb: 160.1 }), row({ lostSegments: 1 })])).toHaveLength(3);
  });
  it('answers each target from the rows', () => {
    const t = evaluateTargets([row({ name: 'idle-1000-guilds', steadyRssMb: 75 }), row({ name: 'idle-1000-guilds', impl: 'baseline', steadyRssMb: 150 })]);
    expect(t[0]).toContain('75 MB — met');
    expect(t[1]).toContain('2.00× — **NOT met**');
    expect(t[5]).toContain('not measured');
  });
  it('divides baseline by tinyscribe per scenario and limit', () => {
    expect(ratioTable([row(), row({ impl: 'baseline', steadyRssMb: 210, peakRssMb: 270 })])).toContain('| speakers-10 | 256 | 3.00× | 3.00× |');
    const detail = (impl: 'tinyscribe' | 'baseline', anonMb: number) => ({ name: 'speakers-10', impl, limitMb: 256, anonMb, fileMb: 55, heapUsedMb: null, heapTotalMb: null, externalMb: null, arrayBuffersMb: null, cgroupMaxUsageMb: null, cpuSeconds: 1, audioSeconds: 1 });
    expect(ratioTable([row(), row({ impl: 'baseline', steadyRssMb: 210, peakRssMb: 270 })], [detail('tinyscribe', 20), detail('baseline', 50)])).toContain('| 3.00× | 3.00× | 2.50× (50 ÷ 20 MB) |');
  });
});

describe('docs section', () => {
  it('replaces only the text between the memory markers', () => {
    const doc = `# Benchmarks\n\n<!-- fidelity:begin -->\nF\n<!-- fidelity:end -->\n\n${MEMORY_BEGIN}\nold\n${MEMORY_END}\ntail\n`;
    const out = spliceMemorySection(doc, 'new table');
    expect(out).toBe(`# Benchmarks\n\n<!-- fidelity:begin -->\nF\n<!-- fidelity:end -->\n\n${MEMORY_BEGIN}\nnew table\n${MEMORY_END}\ntail\n`);
  });
  it('appends markers to a file without them, and creates a title for an empty one', () => {
    expect(spliceMemorySection('# B\n\nfidelity text\n', 'X')).toBe(`# B\n\nfidelity text\n\n${MEMORY_BEGIN}\nX\n${MEMORY_END}\n`);
    expect(spliceMemorySection('', 'X')).toBe(`# Benchmarks\n\n${MEMORY_BEGIN}\nX\n${MEMORY_END}\n`);
  });
});

describe('heap snapshot counting', () => {
  const snapshot = (objects: Array<[string, string, number]>) => {
    const strings = ['', ...new Set(objects.map((o) => o[1]))];
    const types = ['hidden', 'array', 'string', 'object', 'code', 'closure'];
    return {
      snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [types] } },
      nodes: objects.flatMap(([type, name, size], i) => [types.indexOf(type), strings.indexOf(name), i * 2 + 1, size, 0]),
      strings,
    };
  };
  it('counts objects by constructor and ranks what grew', () => {
    const before = countByConstructor(snapshot([['object', 'Map', 32], ['object', 'Segment', 100], ['string', 'hello', 16]]));
    const after = countByConstructor(
      snapshot([['object', 'Map', 32], ['object', 'Segment', 100], ['object', 'Segment', 100], ['object', 'Segment', 100], ['closure', 'onData', 40], ['string', 'x', 16]]),
    );
    expect(before.get('Segment')).toEqual({ count: 1, selfSize: 100 });
    expect(before.has('hello')).toBe(false);
    expect(topGrowth(before, after)).toEqual([
      { name: 'Segment', before: 1, after: 3, delta: 2, selfSizeDelta: 200 },
      { name: '(closure) onData', before: 0, after: 1, delta: 1, selfSizeDelta: 40 },
    ]);
    expect(() => countByConstructor({})).toThrow(/not a V8 heap snapshot/);
  });
});

describe('cgroup files', () => {
  it('reads the oom kill count and this process memory cgroup path', () => {
    expect(parseOomControl('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')).toBe(3);
    expect(parseOomControl('oom_kill_disable 0\nunder_oom 0\n')).toBe(0);
    expect(ownMemoryCgroupPath('5:devices:/\n4:memory:/process_api/abc\n0::/\n')).toBe('/process_api/abc');
    expect(ownMemoryCgroupPath('0::/user.slice\n')).toBeUndefined();
  });
});
