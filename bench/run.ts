/**
 * The memory benchmark (issue #4): `npm run bench [-- options]`.
 *
 *   (no option)        full run: idle-1000-guilds, speakers-10, guilds-5x5, outage; tinyscribe and baseline under a
 *                      256 MB memory cgroup, and speakers-10 under 128 MB too; writes bench/results/latest.json, the
 *                      SVG charts in bench/results/ and the memory section of docs/benchmarks.md
 *   --long             adds the 30-minute soak (tinyscribe; BENCH_SOAK_MINUTES overrides the length)
 *   --quick            CI: short idle-1000-guilds, speakers-10 and outage, tinyscribe only, 256 MB; exits 1 on a kill,
 *                      a peak over 160 MB or any lost segment; writes latest.json (not the docs)
 *   --heap-snapshots   separate run: a heap snapshot at the start and end of each scenario, top growing constructors
 *                      (bench/results/heap-snapshots.json); its figures are not the footprint
 *   --tuning           before/after of the runtime flags and MALLOC_ARENA_MAX (bench/results/tuning.json)
 *   --only a,b         scenarios by name      --impl tinyscribe,baseline      --limits 256,128 (none = sampling only)
 *   --no-docs          leave docs/benchmarks.md alone
 */
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BOT_NODE_FLAGS, BOT_PRODUCTION_ENV } from '../test/util/BotProcess.js';
import { renderMemorySection, spliceMemorySection, type HeapReport, type TuningRow } from './lib/benchmarksDoc.js';
import { benchProjectRoot, ensureBaselineInstalled, type BotImpl } from './lib/launchBot.js';
import { MemoryCgroup } from './lib/memoryCgroup.js';
import type { BenchResults, ScenarioResult } from './lib/results.js';
import { validateResults } from './lib/results.js';
import { runScenario, type RunDetail, type RunRecord, type ScenarioDefinition } from './lib/runScenario.js';
import { renderRssChart } from './lib/svgChart.js';
import { evaluateTargets, quickGateFailures } from './lib/targets.js';
import { SCENARIOS } from './scenarios.js';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const long = flag('--long');
const heapSnapshots = flag('--heap-snapshots');
const tuning = flag('--tuning');
const root = benchProjectRoot();
const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });

const isTty = process.stderr.isTTY === true;
let lastPrinted = 0;
/** The progress line: rewritten in place on a terminal, one line every 10 s in a log. */
function progress(line: string): void {
  if (isTty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
  else if (Date.now() - lastPrinted > 10_000) {
    lastPrinted = Date.now();
    process.stderr.write(`${line}\n`);
  }
}
const say = (line: string): void => void process.stderr.write(`${isTty ? '\r\x1b[2K' : ''}${line}\n`);

function pickScenarios(defaultNames: readonly string[]): ScenarioDefinition[] {
  const names = option('--only')?.split(',') ?? defaultNames;
  const picked = names.map((n) => SCENARIOS.find((s) => s.name === n));
  const unknown = names.filter((_, i) => !picked[i]);
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (have ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return picked as ScenarioDefinition[];
}
const impls = (option('--impl')?.split(',') ?? (quick || tuning ? ['tinyscribe'] : ['tinyscribe', 'baseline'])) as BotImpl[];
const limitList = (fallback: Array<number | null>): Array<number | null> =>
  option('--limits')?.split(',').map((l) => (l === 'none' ? null : Number(l))) ?? fallback;

interface Job {
  readonly scenario: ScenarioDefinition;
  readonly impl: BotImpl;
  readonly limitMb: number | null;
  readonly nodeFlags?: readonly string[];
  readonly extraEnv?: Record<string, string>;
  readonly variant?: string;
}

function plan(): Job[] {
  // tinyscribe runs with the image's environment (MALLOC_ARENA_MAX), as in production; the baseline without tuning.
  const job = (scenario: ScenarioDefinition, impl: BotImpl, limitMb: number | null): Job => ({ scenario, impl, limitMb, ...(impl === 'tinyscribe' ? { extraEnv: { ...BOT_PRODUCTION_ENV } } : {}) });
  if (heapSnapshots) {
    const scenarios = pickScenarios(['idle-1000-guilds', 'speakers-10', 'outage']);
    return scenarios.flatMap((scenario) => impls.map((impl) => job(scenario, impl, null)));
  }
  if (tuning) {
    const scenarios = pickScenarios(['idle-1000-guilds', 'speakers-10']);
    const all: Array<{ key: string; variant: string; nodeFlags?: readonly string[]; extraEnv?: Record<string, string> }> = [
      { key: 'untuned', variant: 'untuned (no flags)', nodeFlags: [] },
      { key: 'old-space', variant: 'old-space 96 only', nodeFlags: ['--max-old-space-size=96'] },
      { key: 'production', variant: 'production flags' },
      { key: 'arena', variant: 'production + MALLOC_ARENA_MAX=2', extraEnv: { MALLOC_ARENA_MAX: '2' } },
      { key: 'single-gc', variant: 'production + --single-threaded-gc', nodeFlags: [...BOT_NODE_FLAGS, '--single-threaded-gc'] },
      // jemalloc instead of glibc malloc (Debian's libjemalloc2): against native-heap creep in long sessions.
      { key: 'jemalloc', variant: 'production + jemalloc', extraEnv: { ...BOT_PRODUCTION_ENV, LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' } },
      // --lite-mode is not a candidate: it disables WebAssembly, and undici's HTTP parser (llhttp) is WebAssembly,
      // so the bot exits at its first request (measured: "ReferenceError: WebAssembly is not defined").
    ];
    const keys = option('--variants')?.split(',');
    // LD_PRELOAD of a missing library is only a warning to ld.so: the run would measure glibc under jemalloc's name.
    const missing = all.filter((v) => v.extraEnv?.LD_PRELOAD && !existsSync(v.extraEnv.LD_PRELOAD));
    for (const v of missing) say(`skipping "${v.variant}": ${v.extraEnv?.LD_PRELOAD} is not installed (apt-get install libjemalloc2)`);
    // BENCH_VARIANT_SUFFIX labels runs made from another tree (e.g. " + one undici" from a copy with an npm override).
    const suffix = process.env.BENCH_VARIANT_SUFFIX ?? '';
    const variants = all.filter((v) => (!keys || keys.includes(v.key)) && !missing.includes(v)).map((v) => ({ ...v, variant: v.variant + suffix }));
    return variants.flatMap((v) => scenarios.map((scenario) => ({ scenario, impl: 'tinyscribe' as const, limitMb: 256, variant: v.variant, ...(v.nodeFlags ? { nodeFlags: v.nodeFlags } : {}), ...(v.extraEnv ? { extraEnv: v.extraEnv } : {}) })));
  }
  if (quick) return pickScenarios(['idle-1000-guilds', 'speakers-10', 'outage']).flatMap((scenario) => impls.map((impl) => job(scenario, impl, 256)));
  const names = ['idle-1000-guilds', 'speakers-10', 'guilds-5x5', 'outage', ...(long ? ['soak'] : [])];
  const jobs: Job[] = [];
  for (const scenario of pickScenarios(names)) {
    const limits = limitList(scenario.name === 'speakers-10' ? [256, 128] : [256]);
    for (const limitMb of limits) for (const impl of impls) if (!(scenario.name === 'soak' && impl === 'baseline' && !option('--impl'))) jobs.push(job(scenario, impl, limitMb));
  }
  return jobs;
}

function machine(): Record<string, unknown> {
  const c = cpus();
  const probe = MemoryCgroup.create(`tinyscribe-bench-${process.pid}-probe`, 256);
  const cgroupState = probe instanceof MemoryCgroup ? 'cgroup v1 memory controller: hard limits applied' : `no hard limit (${probe.error}); sampling only`;
  if (probe instanceof MemoryCgroup) probe.remove();
  const lscpu = spawnSync('nproc', [], { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString(),
    cpu: `${c[0]?.model ?? '?'} × ${c.length} (nproc ${lscpu ?? '?'})`,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGbAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
    kernel: release(),
    node: process.version,
    tinyscribeCommand: `${Object.entries(BOT_PRODUCTION_ENV).map(([k, v]) => `${k}=${v} `).join('')}node ${BOT_NODE_FLAGS.join(' ')} dist/src/main.js`,
    baselineCommand: 'node bench/baseline/bot.mjs (no flags; discord.js 14.28.1, @discordjs/voice 0.19.2, prism-media 1.3.5)',
    memoryLimit: cgroupState,
    sharedMachine: 'other helpers ran tests on the same 2 CPUs during this run: CPU figures are upper bounds',
    mode: quick ? 'quick' : heapSnapshots ? 'heap-snapshots' : tuning ? 'tuning' : long ? 'full + long' : 'full',
  };
}

function chart(records: readonly RunRecord[], scenario: string): string | undefined {
  const colors: Record<string, string> = { 'tinyscribe 256': '#1f77b4', 'tinyscribe 128': '#17becf', 'tinyscribe none': '#1f77b4', 'baseline 256': '#d62728', 'baseline 128': '#ff7f0e', 'baseline none': '#d62728' };
  const mine = records.filter((r) => r.result.name === scenario);
  if (!mine.length) return undefined;
  const series = mine.map((r) => {
    const key = `${r.result.impl} ${r.result.limitMb ?? 'none'}`;
    // one point a second is plenty for the picture (the table uses every sample)
    const points = r.samples.filter((_, i) => i % 4 === 0).map((s) => [Math.round(s.t * 10) / 10, Math.round((s.rssBytes / 2 ** 20) * 10) / 10] as const);
    return { label: `${r.result.impl}${r.result.limitMb ? ` ≤${r.result.limitMb} MB` : ''}${r.result.oomKilled ? ' (killed)' : ''}`, color: colors[key] ?? '#555', points };
  });
  const file = `rss-${scenario}.svg`;
  const guides = [{ mb: 256, label: '256 MB VM' }, ...(scenario === 'speakers-10' ? [{ mb: 128, label: '128 MB limit' }] : [])];
  writeFileSync(join(resultsDir, file), renderRssChart(series, { title: `${scenario}: RSS over time`, guides }));
  return file;
}

function readJson<T>(file: string): T | undefined {
  const path = join(resultsDir, file);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

function writeDocs(results: BenchResults, records: readonly RunRecord[], charts: Array<{ scenario: string; path: string }>, details: readonly RunDetail[]): void {
  const docPath = join(root, 'docs', 'benchmarks.md');
  const existing = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const tuningRows = readJson<TuningRow[]>('tuning.json');
  const heap = readJson<HeapReport[]>('heap-snapshots.json');
  const notes: string[] = [];
  for (const r of records) {
    if (r.cgroup && 'error' in r.cgroup) notes.push(`${r.result.name}/${r.result.impl}: ${r.cgroup.error} — sampled without a hard limit.`);
    if (r.cgroup && 'failcnt' in r.cgroup && r.cgroup.failcnt > 0) notes.push(`${r.result.name}/${r.result.impl} ≤${r.result.limitMb} MB: the cgroup hit its limit ${r.cgroup.failcnt} times (reclaim; page cache counts there too).`);
    if (r.killedDuringRun) notes.push(`${r.result.name}/${r.result.impl}: the bot exited during the run (${JSON.stringify(r.exit)}).`);
  }
  const section = renderMemorySection({
    results,
    commands: ['npm run bench                    # this table (≈ 25 min)', 'npm run bench -- --long          # + 30-minute soak', 'npm run bench -- --quick         # CI gate (< 2 min)', 'npm run bench -- --heap-snapshots # separate run: top growing constructors', 'npm run bench -- --tuning         # flag before/after'],
    charts: charts.map((c) => ({ scenario: c.scenario, path: `../bench/results/${c.path}` })),
    descriptions: SCENARIOS.map((s) => ({ name: s.name, description: s.description })),
    targets: evaluateTargets(results.scenarios),
    notes,
    details,
    ...(tuningRows ? { tuning: tuningRows } : {}),
    ...(heap ? { heap } : {}),
  });
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(docPath, spliceMemorySection(existing, section));
  say(`wrote ${docPath}`);
}

function printTable(rows: readonly ScenarioResult[]): void {
  const cols = ['name', 'impl', 'limitMb', 'steadyRssMb', 'peakRssMb', 'slopeMbPerHour', 'cpuSecondsPerAudioMinute', 'oomKilled', 'segmentsSent', 'segmentsPosted', 'lostSegments'] as const;
  const cells = [cols.map(String), ...rows.map((r) => cols.map((c) => String(r[c])))];
  const widths = cols.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) say(row.map((v, i) => v.padEnd(widths[i]!)).join('  '));
}

async function main(): Promise<number> {
  const jobs = plan();
  if (jobs.some((j) => j.impl === 'baseline')) ensureBaselineInstalled(say);
  const meta = machine();
  say(`tinyscribe memory benchmark — ${meta.mode}, ${jobs.length} run(s); ${String(meta.memoryLimit)}`);
  const records: RunRecord[] = [];
  const variants: Array<{ job: Job; record: RunRecord }> = [];
  for (const [i, job] of jobs.entries()) {
    say(`(${i + 1}/${jobs.length}) ${job.scenario.name} — ${job.impl}${job.limitMb ? ` under ${job.limitMb} MB` : ''}${job.variant ? ` — ${job.variant}` : ''}`);
    const record = await runScenario({
      scenario: job.scenario,
      impl: job.impl,
      limitMb: job.limitMb,
      quick,
      heapSnapshots,
      ...(job.nodeFlags ? { nodeFlags: job.nodeFlags } : {}),
      ...(job.extraEnv ? { extraEnv: job.extraEnv } : {}),
      progress,
    });
    const r = record.result;
    say(`   steady ${r.steadyRssMb} MB, peak ${r.peakRssMb} MB, slope ${r.slopeMbPerHour} MB/h, cpu ${r.cpuSecondsPerAudioMinute ?? '–'} s/audio-min, posted ${r.segmentsPosted}/${r.segmentsSent}${r.oomKilled ? ', KILLED' : ''}`);
    for (const l of record.lost.slice(0, 10)) say(`     lost: ${l}`);
    if (record.lost.length) for (const l of record.botLogTail.slice(-8)) say(`     bot: ${l.slice(0, 300)}`);
    if (record.heapGrowth) for (const g of record.heapGrowth.slice(0, 10)) say(`     +${g.delta}\t${g.name} (${g.before} → ${g.after}, ${(g.selfSizeDelta / 1024).toFixed(1)} KB)`);
    records.push(record);
    variants.push({ job, record });
  }
  const results: BenchResults = { machine: meta, scenarios: records.map((r) => r.result) };
  const problems = validateResults(JSON.parse(JSON.stringify(results)));
  if (problems.length) throw new Error(`results do not fit the schema: ${problems.join(', ')}`);
  say('');
  printTable(results.scenarios);

  if (heapSnapshots) {
    const heap: HeapReport[] = records.map((r) => ({ name: r.result.name, impl: r.result.impl, snapshotMb: r.heapSnapshotMb ?? [], growth: r.heapGrowth ?? [] }));
    writeFileSync(join(resultsDir, 'heap-snapshots.json'), `${JSON.stringify(heap, null, 2)}\n`);
    say(`wrote bench/results/heap-snapshots.json`);
    return 0;
  }
  if (tuning) {
    const rows = new Map<string, TuningRow>();
    for (const { job, record } of variants) {
      const key = job.variant ?? 'production flags';
      const prev = rows.get(key);
      const flags = job.nodeFlags ? job.nodeFlags.join(' ') || '(none)' : BOT_NODE_FLAGS.join(' ');
      const env = Object.entries(job.extraEnv ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
      rows.set(key, { variant: key, nodeFlags: flags, env, results: [...(prev?.results ?? []), record.result] });
    }
    // Variants measured before stay unless measured again.
    const kept = (readJson<TuningRow[]>('tuning.json') ?? []).filter((t) => !rows.has(t.variant));
    writeFileSync(join(resultsDir, 'tuning.json'), `${JSON.stringify([...kept, ...rows.values()], null, 2)}\n`);
    say('wrote bench/results/tuning.json');
    return 0;
  }
  // A partial run (--only, or --long --only soak) replaces its own rows in the previous results and keeps the rest.
  const sameRun = (a: { name: string; impl: string; limitMb: number | null }, b: { name: string; impl: string; limitMb: number | null }): boolean =>
    a.name === b.name && a.impl === b.impl && a.limitMb === b.limitMb;
  const previous = option('--only') && !quick ? readJson<BenchResults>('latest.json') : undefined;
  const previousDetails = previous ? (readJson<RunDetail[]>('details.json') ?? []) : [];
  const merged: BenchResults = previous
    ? { machine: { ...meta, mergedWith: `rows not rerun come from the run of ${String(previous.machine.date)}` }, scenarios: [...previous.scenarios.filter((p) => !results.scenarios.some((r) => sameRun(p, r))), ...results.scenarios] }
    : results;
  const details: RunDetail[] = [...previousDetails.filter((p) => !records.some((r) => sameRun(p, r.detail))), ...records.map((r) => r.detail)];
  const order = (r: { name: string }): number => SCENARIOS.findIndex((s) => s.name === r.name);
  const sortRows = <T extends { name: string; impl: string; limitMb: number | null }>(rows: T[]): T[] =>
    rows.sort((a, b) => order(a) - order(b) || (b.limitMb ?? 0) - (a.limitMb ?? 0) || a.impl.localeCompare(b.impl) * -1);
  const finalResults: BenchResults = { machine: merged.machine, scenarios: sortRows([...merged.scenarios]) };
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(finalResults, null, 2)}\n`);
  if (!quick) writeFileSync(join(resultsDir, 'details.json'), `${JSON.stringify(sortRows(details), null, 2)}\n`);
  say('wrote bench/results/latest.json');
  if (quick) {
    const failures = quickGateFailures(results.scenarios);
    for (const f of failures) say(`FAIL: ${f}`);
    say(failures.length ? `bench --quick: ${failures.length} failure(s)` : 'bench --quick: ok (no kill under 256 MB, peaks ≤ 160 MB, nothing lost)');
    return failures.length ? 1 : 0;
  }
  for (const s of new Set(records.map((r) => r.result.name))) chart(records, s);
  const charts = [...new Set(finalResults.scenarios.map((r) => r.name))].filter((s) => existsSync(join(resultsDir, `rss-${s}.svg`))).map((s) => ({ scenario: s, path: `rss-${s}.svg` }));
  for (const t of evaluateTargets(finalResults.scenarios)) say(`target: ${t}`);
  if (!flag('--no-docs')) writeDocs(finalResults, records, charts, sortRows(details));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
