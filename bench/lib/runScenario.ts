import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rigEnv, STANDIN_API_KEY } from '../../test/e2e/rig.js';
import { DiscordSimulator, type DiscordSimulatorOptions } from '../../test/sim/discord/index.js';
import { WhisperStandIn } from '../../test/sim/whisper/WhisperStandIn.js';
import type { BotProcess } from '../../test/util/BotProcess.js';
import { countSnapshotFile, topGrowth, type Growth } from './heapSnapshot.js';
import { launchBot, type BotImpl } from './launchBot.js';
import { MemoryCgroup, type CgroupReport } from './memoryCgroup.js';
import { MemorySampler, type MemorySample } from './MemorySampler.js';
import type { BenchChannel, Utterance } from './Conversation.js';
import { countPosted, postedLines } from './Conversation.js';
import type { ScenarioResult } from './results.js';
import { median, slopeMbPerHour } from './slope.js';

const MB = 1024 * 1024;

/** What a scenario body gets: the running rig, and hooks to mark its phases. */
export interface ScenarioContext {
  readonly sim: DiscordSimulator;
  readonly whisper: WhisperStandIn;
  readonly bot: BotProcess;
  readonly sampler: MemorySampler;
  readonly quick: boolean;
  /** The channels set up before launch, already joined (/join answered, voice Ready). */
  readonly channels: readonly BenchChannel[];
  /** Updates the progress line's scenario-specific part. */
  status(text: string): void;
  /** True once the bot has exited (killed under the limit): bodies stop waiting. */
  botGone(): boolean;
}

/** What a scenario body reports back. */
export interface ScenarioOutcome {
  readonly said: readonly Utterance[];
  /** Sampler times (s) bounding the steady-state window for the median RSS. */
  readonly steadyFrom: number;
  readonly steadyTo: number;
  /** Samples before this (s) are warm-up and left out of the slope. */
  readonly warmupSeconds: number;
  /** CPU is counted from this sampler time (s) on. */
  readonly cpuFrom: number;
}

/** A benchmark scenario: how to shape the simulator, which channels to talk in, and the body. */
export interface ScenarioDefinition {
  readonly name: string;
  /** One line for the docs. */
  readonly description: string;
  simOptions(quick: boolean): DiscordSimulatorOptions;
  /** Adds members / voice states before the bot logs in; the channels to /join in (none for idle). */
  setup(sim: DiscordSimulator): BenchChannel[];
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
  /** How long to wait, after talking, for every utterance to come back as a line. */
  drainMs(quick: boolean): number;
}

export interface RunPlan {
  readonly scenario: ScenarioDefinition;
  readonly impl: BotImpl;
  /** Hard memory limit (memory cgroup), or null for sampling only. */
  readonly limitMb: number | null;
  readonly quick: boolean;
  /** Take a heap snapshot at the start and the end (separate run: figures not quoted as the footprint). */
  readonly heapSnapshots: boolean;
  /** Replace the implementation's node flags (tuning experiments); undefined = as deployed. */
  readonly nodeFlags?: readonly string[];
  /** Extra bot environment (tuning experiments, e.g. MALLOC_ARENA_MAX). */
  readonly extraEnv?: Record<string, string>;
  readonly progress: (line: string) => void;
}

/** Everything a run produced: the schema row plus what the report and chart need. */
export interface RunRecord {
  readonly result: ScenarioResult;
  readonly samples: readonly MemorySample[];
  readonly cgroup: CgroupReport | { readonly error: string } | null;
  readonly exit: { code: number | null; signal: string | null } | undefined;
  readonly killedDuringRun: boolean;
  readonly heapGrowth?: readonly Growth[];
  readonly heapSnapshotMb?: readonly number[];
  readonly cpuSeconds: number;
  readonly audioSeconds: number;
  /** Medians over the steady window of the parts of memory (MB), and the cgroup's peak charge. */
  readonly detail: RunDetail;
  /** Each lost utterance, with what its speaker's lines said instead. */
  readonly lost: readonly string[];
  /** The bot's last warnings and errors. */
  readonly botLogTail: readonly string[];
  readonly nodeFlags: readonly string[] | 'default';
  readonly extraEnv: Record<string, string>;
}

/** Where the steady RSS goes, for the breakdown table (bench/results/details.json). */
export interface RunDetail {
  readonly name: string;
  readonly impl: BotImpl;
  readonly limitMb: number | null;
  readonly anonMb: number;
  readonly fileMb: number;
  readonly heapUsedMb: number | null;
  readonly heapTotalMb: number | null;
  readonly externalMb: number | null;
  readonly arrayBuffersMb: number | null;
  readonly cgroupMaxUsageMb: number | null;
  readonly cpuSeconds: number;
  readonly audioSeconds: number;
}

/** Waits until the bot's diagnostic dir holds `count` finished snapshots (size stable for 1 s). */
async function waitForSnapshots(dir: string, count: number, timeoutMs = 120_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let lastSizes = '';
  for (;;) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).sort();
    const sizes = files.map((f) => statSync(join(dir, f)).size).join(',');
    if (files.length >= count && sizes === lastSizes && !sizes.split(',').includes('0')) return files.map((f) => join(dir, f));
    if (Date.now() > deadline) throw new Error(`heap snapshot ${count} did not appear in ${dir}`);
    lastSizes = sizes;
    await sleep(1_000);
  }
}

/** Runs one scenario against one implementation under one limit, from a fresh simulator to a removed cgroup. */
export async function runScenario(plan: RunPlan): Promise<RunRecord> {
  const { scenario, impl, limitMb, quick } = plan;
  const sim = await DiscordSimulator.start(scenario.simOptions(quick));
  const whisper = await WhisperStandIn.start({ apiKey: STANDIN_API_KEY });
  const channels = scenario.setup(sim);
  const cgroup = limitMb === null ? null : MemoryCgroup.create(`tinyscribe-bench-${process.pid}-${limitMb}`, limitMb);
  const diagDir = plan.heapSnapshots ? mkdtempSync(join(tmpdir(), 'tinyscribe-heap-')) : undefined;
  const snapshotFlags = diagDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${diagDir}`] : [];
  const extraEnv = plan.extraEnv ?? {};
  const bot = launchBot(impl, rigEnv(sim, whisper, { LOG_LEVEL: 'info', ...extraEnv }), {
    ...(cgroup instanceof MemoryCgroup ? { cgroupProcsFile: cgroup.procsFile } : {}),
    ...(plan.nodeFlags ? { replaceNodeFlags: [...plan.nodeFlags, ...snapshotFlags] } : { nodeFlags: snapshotFlags }),
  });
  let sampler: MemorySampler | undefined;
  let phase = 'starting';
  let extra = '';
  let stopping = false;
  const tag = `${scenario.name} ${impl}${limitMb === null ? '' : ` ≤${limitMb}MB`}`;
  const ticker = setInterval(() => {
    const s = sampler?.last;
    const rss = s ? `rss ${(s.rssBytes / MB).toFixed(1)} MB peak ${(s.hwmBytes / MB).toFixed(1)} MB` : '';
    plan.progress(`[${tag}] ${phase} ${sampler ? `${sampler.now().toFixed(0)}s` : ''} ${rss} ${extra}`);
  }, 1_000);
  try {
    const health = await bot.waitForLog((l) => l.msg === 'health listening', 30_000);
    sampler = new MemorySampler({ pid: bot.child.pid!, metricsPort: Number(health.port) });
    phase = 'login';
    await bot.waitForLog((l) => l.msg === 'gateway ready', 60_000);
    for (const c of channels) {
      phase = `join ${channels.indexOf(c) + 1}/${channels.length}`;
      sim.injectInteraction({ guildId: c.guildId, channelId: c.textChannelId, userId: c.speakers[0]!.userId, name: 'join' });
      await sim.waitFor(() => sim.voiceConnection(c.guildId)?.ready || bot.exitStatus !== undefined, 30_000, `bot in voice in ${c.guildId}`);
    }
    if (diagDir) process.kill(bot.child.pid!, 'SIGUSR2');
    phase = 'running';
    const ctx: ScenarioContext = {
      sim,
      whisper,
      bot,
      sampler,
      quick,
      channels,
      status: (text) => (extra = text),
      botGone: () => bot.exitStatus !== undefined,
    };
    const outcome = await scenario.run(ctx);
    phase = 'draining';
    const drainDeadline = performance.now() + scenario.drainMs(quick);
    while (performance.now() < drainDeadline && bot.exitStatus === undefined && countPosted(sim, outcome.said) < outcome.said.length) {
      extra = `posted ${countPosted(sim, outcome.said)}/${outcome.said.length}`;
      await sleep(500);
    }
    const endT = sampler.now();
    let heapGrowth: Growth[] | undefined;
    let heapSnapshotMb: number[] | undefined;
    if (diagDir && bot.exitStatus === undefined) {
      phase = 'heap snapshot';
      await waitForSnapshots(diagDir, 1);
      process.kill(bot.child.pid!, 'SIGUSR2');
      const files = await waitForSnapshots(diagDir, 2);
      heapSnapshotMb = files.map((f) => statSync(f).size / MB);
      phase = 'counting';
      heapGrowth = topGrowth(countSnapshotFile(files[0]!), countSnapshotFile(files[files.length - 1]!));
    }
    sampler.stop();
    const killedDuringRun = bot.exitStatus !== undefined;
    const lost: string[] = [];
    stopping = true;
    phase = 'stopping';
    const exit = killedDuringRun ? bot.exitStatus : await bot.stop('SIGTERM', 15_000);
    const cgroupReport = cgroup instanceof MemoryCgroup ? cgroup.report() : cgroup;
    const samples = sampler.samples;
    const inRun = samples.filter((s) => s.t <= endT);
    const steady = inRun.filter((s) => s.t >= outcome.steadyFrom && s.t <= outcome.steadyTo).map((s) => s.rssBytes);
    const peakBytes = Math.max(0, ...inRun.map((s) => Math.max(s.rssBytes, s.hwmBytes)));
    const cpuStart = inRun.find((s) => s.t >= outcome.cpuFrom)?.cpuSeconds ?? 0;
    const cpuSeconds = (inRun[inRun.length - 1]?.cpuSeconds ?? 0) - cpuStart;
    const audioSeconds = outcome.said.reduce((a, u) => a + u.audioSeconds, 0);
    const posted = countPosted(sim, outcome.said);
    if (posted < outcome.said.length) {
      // Name what was lost and what that speaker's lines said instead, so a failure can be read from the log.
      const lines = new Map(outcome.said.map((u) => [u.textChannelId, postedLines(sim, u.textChannelId)]));
      for (const u of outcome.said) {
        const mine = lines.get(u.textChannelId)!.filter((l) => l.name === u.name);
        if (!mine.some((l) => l.digits === u.digits)) lost.push(`${u.name} said ${u.digits}; their lines: ${mine.map((l) => l.digits).join(' ')}`);
      }
    }
    const oomKilled = (cgroupReport !== null && 'oomKills' in cgroupReport && cgroupReport.oomKills > 0) || (killedDuringRun && exit?.signal === 'SIGKILL');
    const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
    const result: ScenarioResult = {
      name: scenario.name,
      impl,
      limitMb: cgroup instanceof MemoryCgroup ? limitMb : null,
      steadyRssMb: round((steady.length ? median(steady) : (inRun[inRun.length - 1]?.rssBytes ?? 0)) / MB),
      peakRssMb: round(peakBytes / MB),
      slopeMbPerHour: round(slopeMbPerHour(inRun.map((s) => ({ t: s.t, v: s.rssBytes })), outcome.warmupSeconds), 2),
      cpuSecondsPerAudioMinute: audioSeconds > 0 ? round(cpuSeconds / (audioSeconds / 60), 2) : null,
      oomKilled,
      segmentsSent: outcome.said.length,
      segmentsPosted: posted,
      lostSegments: outcome.said.length - posted,
    };
    const steadySamples = inRun.filter((s) => s.t >= outcome.steadyFrom && s.t <= outcome.steadyTo);
    const window = steadySamples.length ? steadySamples : inRun.slice(-4);
    const med = (pick: (s: MemorySample) => number | undefined): number | null => {
      const values = window.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? round(median(values) / MB) : null;
    };
    const detail: RunDetail = {
      name: scenario.name,
      impl,
      limitMb: result.limitMb,
      anonMb: med((s) => s.anonBytes) ?? 0,
      fileMb: med((s) => s.fileBytes) ?? 0,
      heapUsedMb: med((s) => s.heapUsedBytes),
      heapTotalMb: med((s) => s.heapTotalBytes),
      externalMb: med((s) => s.externalBytes),
      arrayBuffersMb: med((s) => s.arrayBuffersBytes),
      cgroupMaxUsageMb: cgroupReport && 'maxUsageBytes' in cgroupReport ? round(cgroupReport.maxUsageBytes / MB) : null,
      cpuSeconds: round(cpuSeconds, 2),
      audioSeconds: round(audioSeconds),
    };
    return {
      result,
      detail,
      samples,
      cgroup: cgroupReport,
      exit: exit ? { code: exit.code, signal: exit.signal } : undefined,
      killedDuringRun,
      ...(heapGrowth ? { heapGrowth } : {}),
      ...(heapSnapshotMb ? { heapSnapshotMb } : {}),
      cpuSeconds,
      audioSeconds,
      lost,
      botLogTail: bot.lines.filter((l) => l.level === 'warn' || l.level === 'error').slice(-20).map((l) => JSON.stringify(l)),
      nodeFlags: plan.nodeFlags ?? 'default',
      extraEnv,
    };
  } catch (error) {
    if (!stopping) process.stderr.write(`\n[${tag}] failed: ${String(error)}\n${bot.tail(20)}\n`);
    throw error;
  } finally {
    clearInterval(ticker);
    // BENCH_BOT_LOG_DIR=dir keeps each run's bot log (JSON lines) for reading afterwards.
    if (process.env.BENCH_BOT_LOG_DIR) {
      writeFileSync(join(process.env.BENCH_BOT_LOG_DIR, `${scenario.name}-${impl}-${limitMb ?? 'none'}.log`), `${bot.lines.map((l) => JSON.stringify(l)).join('\n')}\n${bot.stderr.join('')}`);
    }
    sampler?.stop();
    await bot.dispose();
    await whisper.close();
    await sim.close();
    if (cgroup instanceof MemoryCgroup) {
      await sleep(200);
      cgroup.remove();
    }
    if (diagDir && existsSync(diagDir)) rmSync(diagDir, { recursive: true, force: true });
  }
}
