/**
 * One measured fidelity run: play a script of LibriVox sentences into a bot that is already in the
 * simulator's voice channel, wait until everything it uploads is transcribed and posted, and compute
 * the figures of {@link measureFidelity}. Shared by the e2e test and `npm run bench:fidelity`, for
 * tinyscribe and for the baseline bot alike (only the posted lines and the uploads are looked at).
 */
import type { DiscordSimulator } from '../discord/DiscordSimulator.js';
import { measureFidelity, postedTextsByName, type FidelityReport } from './fidelityMetrics.js';
import type { LibrivoxClip } from './librivox.js';
import { playSpeechScript, type NetworkConditions, type PlayedTrack, type ScriptTrack } from './speechScript.js';
import type { UploadRecorder } from './UploadRecorder.js';
import type { WhisperStandIn } from '../whisper/WhisperStandIn.js';

/** Inputs of {@link runFidelity}. */
export interface FidelityRunOptions {
  readonly sim: DiscordSimulator;
  /** The stand-in's backend wrapper that keeps every upload. Cleared at the start of the run. */
  readonly recorder: UploadRecorder;
  readonly script: readonly ScriptTrack[];
  readonly clips: readonly LibrivoxClip[];
  readonly network: NetworkConditions;
  /**
   * The recognizer's hypothesis per original clip (the same recognizer as behind the stand-in). May be
   * a promise, so the originals are recognized while the speakers talk.
   */
  readonly originalHypotheses: ReadonlyMap<string, string> | Promise<ReadonlyMap<string, string>>;
  /** Optional, likewise: hypotheses of the clips' Opus round trips without the bot (see opusRoundTrip.ts). */
  readonly codecHypotheses?: ReadonlyMap<string, string> | Promise<ReadonlyMap<string, string>>;
  /** When given, the HTTP body bytes of the uploads are counted from its request records. */
  readonly whisper?: WhisperStandIn;
  /** Transcript lines (`**Name**: text`) posted so far, in order. */
  readonly postedLines: () => readonly string[];
  /** The run is over once uploads, transcriptions and posts have been quiet this long after the last play. Default 3,000 ms. */
  readonly settleMs?: number;
  /** Give up waiting for quiet after this long after the last play. Default 90,000 ms. */
  readonly maxWaitMs?: number;
}

/** A run's report plus what was played. */
export interface FidelityRun extends FidelityReport {
  readonly tracks: readonly PlayedTrack[];
  /** Wall time from the first play to quiet, ms. */
  readonly wallMs: number;
  /** Worst lateness of the simulator's packet pacing over all plays (a loaded machine shows here). */
  readonly maxPacingLatenessMs: number;
  readonly packets: PacketCounts;
  /** Request body bytes of the uploads (multipart + WAV), when `whisper` was given. */
  readonly uploadBytes: number | undefined;
}

/** What the network did to the speakers' packets. */
export interface PacketCounts {
  /** Frames played (speech and the trailing silence frames). */
  readonly frames: number;
  /** Dropped by the simulated network (lossPercent). */
  readonly lost: number;
  /** Sent after a packet of a later frame of the same play (jitter reordering): late for an in-order receiver. */
  readonly overtaken: number;
}

/** Plays the script, waits for quiet, measures. Lines posted before the run are not counted. */
export async function runFidelity(options: FidelityRunOptions): Promise<FidelityRun> {
  const { recorder } = options;
  recorder.clear();
  const linesBefore = options.postedLines().length;
  const requestsBefore = options.whisper?.requests.length ?? 0;
  const started = performance.now();
  const tracks = await playSpeechScript(options.sim, options.script, options.clips, options.network);
  await waitForQuiet(options, linesBefore);
  const lines = options.postedLines().slice(linesBefore);
  const report = measureFidelity({
    tracks,
    uploads: recorder.uploads,
    postedTexts: postedTextsByName(lines, options.script.map((t) => t.displayName)),
    originalHypotheses: await options.originalHypotheses,
    ...(options.codecHypotheses ? { codecHypotheses: await options.codecHypotheses } : {}),
  });
  const maxPacingLatenessMs = Math.max(0, ...tracks.flatMap((t) => t.lines.map((l) => l.result.maxLatenessMs)));
  const uploadBytes = options.whisper?.requests.slice(requestsBefore).reduce((sum, r) => sum + r.bytes, 0);
  return { ...report, tracks, wallMs: performance.now() - started, maxPacingLatenessMs, packets: packetCounts(tracks), uploadBytes };
}

function packetCounts(tracks: readonly PlayedTrack[]): PacketCounts {
  let frames = 0;
  let lost = 0;
  let overtaken = 0;
  for (const track of tracks) {
    for (const line of track.lines) {
      frames += line.result.packets.length;
      lost += line.result.counts.lost;
      let latestIndex = -1;
      for (const p of line.result.sent) {
        if (p.index < latestIndex) overtaken++;
        else latestIndex = p.index;
      }
    }
  }
  return { frames, lost, overtaken };
}

/** Resolves once nothing changed (uploads finished, lines posted, none in flight) for settleMs. */
async function waitForQuiet(options: FidelityRunOptions, linesBefore: number): Promise<void> {
  const settleMs = options.settleMs ?? 3_000;
  const deadline = performance.now() + (options.maxWaitMs ?? 90_000);
  const state = (): string => `${options.recorder.uploads.length}/${options.recorder.inFlight}/${options.postedLines().length - linesBefore}`;
  let last = state();
  let since = performance.now();
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = state();
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (options.recorder.inFlight === 0 && performance.now() - since >= settleMs) {
      return;
    }
  }
}
