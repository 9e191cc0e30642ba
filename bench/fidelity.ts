/**
 * Speech fidelity benchmark: real speech (LibriVox, Debian's pocketsphinx-testdata) read by simulated
 * Discord speakers (48 kHz stereo Opus, real pacing, natural pauses, alone and talking over each other)
 * into the real bot process, transcribed by a real recognizer (pocketsphinx) behind the OpenAI-compatible
 * stand-in. Reports, per clip and in total, WER of the recognizer on the original file, on the Opus round
 * trip alone (the codec, no bot), and through the bot; at 0, 5 and 10 % random packet loss and with 60 ms
 * jitter; for tinyscribe and for the discord.js baseline (bench/baseline, via bench/lib/launchBot.ts). Also onset loss, segments per sentence and seconds uploaded per second of speech.
 *
 *   npm run bench:fidelity            (builds first; ~6–7 min on 2 cores; needs the Debian packages
 *                                      pocketsphinx pocketsphinx-en-us pocketsphinx-testdata)
 *   FIDELITY_IMPL=tinyscribe npm run bench:fidelity     (one implementation only)
 *   npm run build && node dist/bench/fidelity.js --docs-only   (re-render the docs section from the JSON)
 *
 * Writes bench/results/fidelity.json and the fidelity section of docs/benchmarks.md (between
 * <!-- fidelity:begin --> and <!-- fidelity:end -->). Definitions: test/sim/speech/fidelityMetrics.ts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DiscordSimulator } from '../test/sim/discord/index.js';
import { WhisperStandIn } from '../test/sim/whisper/WhisperStandIn.js';
import { detectPocketsphinx, pocketsphinxTranscriber, type PocketsphinxRecognizer } from '../test/sim/speech/pocketsphinx.js';
import { findLibrivoxClips, loadClipPcm, type LibrivoxClip } from '../test/sim/speech/librivox.js';
import { runFidelity, type FidelityRun } from '../test/sim/speech/fidelityRun.js';
import { ALONE_SCRIPT, OVERLAP_SCRIPT, type ScriptTrack } from '../test/sim/speech/speechScript.js';
import { UploadRecorder } from '../test/sim/speech/UploadRecorder.js';
import { opusRoundTrip16kMono } from '../test/sim/speech/opusRoundTrip.js';
import { combineWer, wordErrorRate } from '../test/sim/speech/wer.js';
import { rigEnv, STANDIN_API_KEY, transcriptLines } from '../test/e2e/rig.js';
import type { BotProcess } from '../test/util/BotProcess.js';
import { fidelityMarkdown, replaceFidelitySection, type FidelityRow, type ClipRow } from './fidelityReport.js';
import { ensureBaselineInstalled, launchBot, type BotImpl } from './lib/launchBot.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench/results/fidelity.json');
const DOC = join(ROOT, 'docs/benchmarks.md');

/** One measured condition. */
interface Condition {
  readonly scenario: 'alone' | 'overlap';
  readonly script: readonly ScriptTrack[];
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly seed: number;
}

const CONDITIONS: readonly Condition[] = [
  { scenario: 'alone', script: ALONE_SCRIPT, lossPercent: 0, jitterMs: 0, seed: 11 },
  { scenario: 'overlap', script: OVERLAP_SCRIPT, lossPercent: 0, jitterMs: 0, seed: 7 },
  { scenario: 'overlap', script: OVERLAP_SCRIPT, lossPercent: 5, jitterMs: 0, seed: 7 },
  { scenario: 'overlap', script: OVERLAP_SCRIPT, lossPercent: 10, jitterMs: 0, seed: 7 },
  { scenario: 'overlap', script: OVERLAP_SCRIPT, lossPercent: 0, jitterMs: 60, seed: 7 },
];

async function main(): Promise<void> {
  if (process.argv.includes('--docs-only')) {
    // Re-renders the docs section from the committed JSON (no measuring).
    const saved = JSON.parse(await readFile(RESULTS, 'utf8')) as { generatedAt: string; rows: FidelityRow[] };
    await replaceFidelitySection(DOC, fidelityMarkdown(saved.rows, new Date(saved.generatedAt)));
    console.log(`rewrote the fidelity section of ${DOC} from ${RESULTS}`);
    return;
  }
  const detection = await detectPocketsphinx();
  const corpus = await findLibrivoxClips();
  if (!detection.available || !corpus.available) {
    const reasons = [detection, corpus].flatMap((d) => (d.available ? [] : [d.reason]));
    console.error(`bench:fidelity needs the Debian packages pocketsphinx pocketsphinx-en-us pocketsphinx-testdata: ${reasons.join('; ')}`);
    process.exitCode = 2;
    return;
  }
  const recognizer = detection.recognizer;
  const clips = corpus.clips;
  const onlyImpl = process.env.FIDELITY_IMPL as BotImpl | undefined;

  console.log(`recognizing ${clips.length} originals and their Opus round trips…`);
  const { original, codec } = await recognizeReferences(recognizer, clips);

  const impls: BotImpl[] = onlyImpl ? [onlyImpl] : ['tinyscribe', 'baseline'];
  const baseline = impls.includes('baseline') ? installBaseline() : { available: false as const, reason: 'not selected (FIDELITY_IMPL)' };
  const rows: FidelityRow[] = [];
  for (const impl of impls) {
    for (const condition of CONDITIONS) {
      const label = `${impl} ${condition.scenario} loss ${condition.lossPercent} % jitter ${condition.jitterMs} ms`;
      if (impl === 'baseline' && !baseline.available) {
        console.log(`${label}: not measured (${baseline.reason})`);
        rows.push(unmeasuredRow(impl, condition, clips, original, codec, baseline.reason));
        continue;
      }
      console.log(`${label}…`);
      const run = await measure(impl, condition, recognizer, clips, { original, codec });
      const row = measuredRow(impl, condition, run);
      rows.push(row);
      console.log(
        `  WER ${row.werOriginal.toFixed(1)} % original, ${row.werCodec.toFixed(1)} % codec only, ${row.werThrough!.toFixed(1)} % through ` +
          `(${signed(row.werAddedPoints!)} over original, ${signed(row.werAddedOverCodecPoints!)} over codec), ` +
          `${row.packetsOvertaken} of ${row.packetsPlayed} packets overtaken, ${row.packetsLost} lost, onset loss ${row.onsetLossMs!.toFixed(0)} ms (max ${row.onsetLossMaxMs} ms), ` +
          `${row.segmentsPerUtterance!.toFixed(2)} segments/sentence, ${row.uploadSecondsPerSpeechSecond!.toFixed(2)} s uploaded per s of speech ` +
          `(${row.uploadedEdgeNonSpeechSeconds} s of it before/after the uploads' speech, ${row.uploadMegabytes} MB), ` +
          `${Math.round(run.wallMs / 1000)} s wall, pacing lateness ≤ ${Math.round(run.maxPacingLatenessMs)} ms`,
      );
    }
  }

  const result = { generatedAt: new Date().toISOString(), recognizer: recognizer.commandLine('X.wav').join(' '), rows };
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  await replaceFidelitySection(DOC, fidelityMarkdown(rows));
  console.log(`wrote ${RESULTS} and the fidelity section of ${DOC}`);
}

/** Recognizer hypotheses of every original clip and of its Opus round trip (no bot). */
async function recognizeReferences(
  recognizer: PocketsphinxRecognizer,
  clips: readonly LibrivoxClip[],
): Promise<{ original: Map<string, string>; codec: Map<string, string> }> {
  const original = new Map<string, string>();
  const codec = new Map<string, string>();
  await Promise.all(
    clips.map(async (clip) => {
      const pcm = await loadClipPcm(clip);
      const [a, b] = await Promise.all([recognizer.recognize(pcm), recognizer.recognize(opusRoundTrip16kMono(pcm))]);
      original.set(clip.id, a);
      codec.set(clip.id, b);
    }),
  );
  return { original, codec };
}

/** One condition with a fresh simulator, stand-in and bot process. */
async function measure(
  impl: BotImpl,
  condition: Condition,
  recognizer: PocketsphinxRecognizer,
  clips: readonly LibrivoxClip[],
  references: { original: ReadonlyMap<string, string>; codec: ReadonlyMap<string, string> },
): Promise<FidelityRun> {
  const recorder = new UploadRecorder(pocketsphinxTranscriber(recognizer));
  const sim = await DiscordSimulator.start();
  const whisper = await WhisperStandIn.start({ apiKey: STANDIN_API_KEY, transcriber: recorder.transcriber });
  let bot: BotProcess | undefined;
  try {
    // Both with production's 1 s silence gap (the rig's 800 ms default is for DTMF tests).
    bot = launchBot(impl, rigEnv(sim, whisper, { SILENCE_GAP_MS: '1000', LOG_LEVEL: 'info' }));
    await sim.waitFor(() => sim.records.identifies.length > 0, 30_000, `${impl} identify`);
    await bot.waitForLog((l) => l.msg === 'gateway ready', 30_000);
    await joinMembers(sim, condition.script.map((t) => sim.members[t.member]));
    return await runFidelity({
      sim,
      recorder,
      script: condition.script,
      clips,
      network: { lossPercent: condition.lossPercent, jitterMs: condition.jitterMs, seed: condition.seed },
      originalHypotheses: references.original,
      codecHypotheses: references.codec,
      postedLines: () => transcriptLines(sim),
      whisper,
    });
  } finally {
    await bot?.dispose();
    await whisper.close();
    await sim.close();
  }
}

/** Puts the members in the voice channel and has the first run /join (what the e2e rig's joinVoice does). */
async function joinMembers(sim: DiscordSimulator, memberIds: readonly string[]): Promise<void> {
  for (const id of memberIds) sim.setVoiceState(sim.guild.id, id, sim.guild.voiceChannelId);
  const ready = sim.records.voiceReady.length;
  sim.injectInteraction({ userId: memberIds[0]!, name: 'join' });
  await sim.waitFor(() => sim.records.voiceReady.length > ready, 20_000, 'bot in voice');
}

/** Installs the baseline's own dependencies if needed; a failure turns its rows into "not measured". */
function installBaseline(): { available: true } | { available: false; reason: string } {
  try {
    ensureBaselineInstalled((line) => console.log(line));
    return { available: true };
  } catch (error) {
    return { available: false, reason: `the baseline could not be installed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function clipRows(run: FidelityRun): ClipRow[] {
  return run.clips.map((c) => ({
    clipId: c.clipId,
    speaker: c.speaker,
    refWords: c.werOriginal.refWords,
    werOriginal: c.werOriginal.wer,
    werCodec: c.werCodec?.wer ?? Number.NaN,
    werThrough: c.werThrough.wer,
    segments: c.segments,
    onsetLossMs: c.onsetLossMs,
    firstWordKept: { original: c.firstWordKeptOriginal, through: c.firstWordKeptThrough },
    lastWordKept: { original: c.lastWordKeptOriginal, through: c.lastWordKeptThrough },
    hypothesisOriginal: c.hypothesisOriginal,
    hypothesisThrough: c.hypothesisThrough,
  }));
}

function measuredRow(impl: BotImpl, condition: Condition, run: FidelityRun): FidelityRow {
  const t = run.totals;
  return {
    impl,
    scenario: condition.scenario,
    lossPercent: condition.lossPercent,
    jitterMs: condition.jitterMs,
    measured: true,
    werOriginal: round(t.werOriginal.wer),
    werCodec: round(t.werCodec?.wer ?? Number.NaN),
    werThrough: round(t.werThrough.wer),
    werAddedPoints: round(t.werAddedPoints),
    werAddedOverCodecPoints: round(t.werAddedOverCodecPoints ?? Number.NaN),
    packetsPlayed: run.packets.frames,
    packetsLost: run.packets.lost,
    packetsOvertaken: run.packets.overtaken,
    onsetLossMs: round(t.onsetLossMs),
    onsetLossMaxMs: t.onsetLossMaxMs,
    tailLossMaxMs: t.tailLossMaxMs,
    speechNotUploadedMs: t.speechNotUploadedMs,
    segmentsPerUtterance: round(t.segmentsPerUtterance, 2),
    uploadSeconds: round(t.uploadSeconds, 2),
    speechSeconds: round(t.speechSeconds, 2),
    uploadSecondsPerSpeechSecond: round(t.uploadSecondsPerSpeechSecond, 3),
    uploadedEdgeNonSpeechSeconds: round(t.uploadedEdgeNonSpeechSeconds, 2),
    uploadMegabytes: run.uploadBytes === undefined ? null : round(run.uploadBytes / 1e6, 2),
    uploads: t.uploads,
    unlocatedUploads: t.unlocatedUploads,
    edgeWordsLost: t.edgeWordsLost,
    clips: clipRows(run),
  };
}

function unmeasuredRow(
  impl: BotImpl,
  condition: Condition,
  clips: readonly LibrivoxClip[],
  original: ReadonlyMap<string, string>,
  codec: ReadonlyMap<string, string>,
  reason: string,
): FidelityRow {
  const ids = new Set(condition.script.flatMap((t) => t.lines.map((l) => l.clipId)));
  const used = clips.filter((c) => ids.has(c.id));
  return {
    impl,
    scenario: condition.scenario,
    lossPercent: condition.lossPercent,
    jitterMs: condition.jitterMs,
    measured: false,
    notMeasuredReason: reason,
    werOriginal: round(combineWer(used.map((c) => wordErrorRate(c.reference, original.get(c.id) ?? ''))).wer),
    werCodec: round(combineWer(used.map((c) => wordErrorRate(c.reference, codec.get(c.id) ?? ''))).wer),
    werThrough: null,
    werAddedPoints: null,
    werAddedOverCodecPoints: null,
    packetsPlayed: null,
    packetsLost: null,
    packetsOvertaken: null,
    onsetLossMs: null,
    onsetLossMaxMs: null,
    tailLossMaxMs: null,
    speechNotUploadedMs: null,
    segmentsPerUtterance: null,
    uploadSeconds: null,
    speechSeconds: null,
    uploadSecondsPerSpeechSecond: null,
    uploadedEdgeNonSpeechSeconds: null,
    uploadMegabytes: null,
    uploads: null,
    unlocatedUploads: null,
    edgeWordsLost: null,
    clips: [],
  };
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
