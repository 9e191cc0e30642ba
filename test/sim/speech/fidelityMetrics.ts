/**
 * What the pipeline did to speech, computed from what the speakers played, what reached the
 * transcription API and what the bot posted:
 *
 * - WER through the bot: per speaker, the reference sentences in the order spoken against the
 *   speaker's posted lines in the order posted (so it does not matter how the bot grouped sentences
 *   into segments); the one alignment is then split at sentence boundaries for per-clip figures
 *   (an insertion counts for the sentence of the reference word before it).
 * - Where each upload came from: its first and its last 1.5 s are located on the speakers' timelines by
 *   energy-envelope correlation (10 ms frames). The span between is "covered". Head and tail are located
 *   separately because the segmenter shortens pauses inside a segment (inserted silence is capped).
 * - Onset loss of a segment: the original's speech (10 ms frames ≥ −35 dBFS, SPEECH_THRESHOLD_DBFS) lying
 *   between the previous covered frame of that speaker's timeline (or its start) and the segment's
 *   first frame, i.e. speech just before a segment start that no upload contains, in ms. Tail loss is
 *   the same after a segment's last frame. Opus' few ms of codec delay are absorbed by the alignment.
 * - Upload cost: seconds of audio uploaded per second of speech, speech being each clip's span from its
 *   first to its last speech frame (the clips' own leading/trailing room noise is not speech).
 */
import {
  ENVELOPE_FRAME_MS,
  energyEnvelope,
  locateEnvelope,
  speechMask,
  speechSpan,
} from './envelope.js';
import { LIBRIVOX_SAMPLE_RATE } from './librivox.js';
import type { PlayedTrack } from './speechScript.js';
import type { RecordedUpload } from './UploadRecorder.js';
import { alignWords, combineWer, edgeWords, normalizeWords, summarizeAlignment, wordErrorRate, type AlignmentOp, type WerResult } from './wer.js';

/** Envelope frames of an upload's head/tail used to find it on a timeline (1.5 s). */
const LOCATE_FRAMES = 150;
/** Below this correlation an upload is reported as not located (it is then left out of coverage). */
const MIN_LOCATE_SCORE = 0.5;

/** Per clip, through one run. */
export interface ClipFidelity {
  readonly clipId: string;
  readonly speaker: string;
  readonly werOriginal: WerResult;
  /** The recognizer on the Opus round trip of the clip alone (the codec, no bot), when given. */
  readonly werCodec: WerResult | undefined;
  readonly werThrough: WerResult;
  readonly firstWordKeptOriginal: boolean;
  readonly lastWordKeptOriginal: boolean;
  readonly firstWordKeptThrough: boolean;
  readonly lastWordKeptThrough: boolean;
  /** Uploads whose located span overlaps this sentence's speech. */
  readonly segments: number;
  /** Onset loss of the first segment covering this sentence, ms (its whole speech if none covers it). */
  readonly onsetLossMs: number;
  readonly hypothesisOriginal: string;
  readonly hypothesisThrough: string;
}

/** Where one upload was found. */
export interface LocatedUpload {
  readonly index: number;
  readonly speaker: string | undefined;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  readonly score: number;
  readonly onsetLossMs: number;
  readonly tailLossMs: number;
  /** Audio in the upload before its own first / after its last speech frame (what a speech-trimming segmenter would not send), ms. */
  readonly leadingNonSpeechMs: number;
  readonly trailingNonSpeechMs: number;
  readonly text: string;
}

/** Totals of one run. */
export interface FidelityTotals {
  readonly werOriginal: WerResult;
  readonly werThrough: WerResult;
  /** werThrough − werOriginal, percentage points. */
  readonly werAddedPoints: number;
  /** Over the codec-only round trips, when given: what the pipeline itself adds, percentage points. */
  readonly werCodec: WerResult | undefined;
  readonly werAddedOverCodecPoints: number | undefined;
  /** Mean onset loss over located uploads, ms. */
  readonly onsetLossMs: number;
  readonly onsetLossMaxMs: number;
  readonly tailLossMaxMs: number;
  /** Speech (ms) that no upload covers at all. */
  readonly speechNotUploadedMs: number;
  readonly segmentsPerUtterance: number;
  readonly uploadSeconds: number;
  readonly speechSeconds: number;
  readonly uploadSecondsPerSpeechSecond: number;
  /** Sum over uploads of the audio before their first and after their last speech frame, s. */
  readonly uploadedEdgeNonSpeechSeconds: number;
  readonly uploads: number;
  readonly unlocatedUploads: number;
  readonly edgeWordsLost: readonly string[];
}

export interface FidelityReport {
  readonly clips: readonly ClipFidelity[];
  readonly uploads: readonly LocatedUpload[];
  readonly totals: FidelityTotals;
}

/** Inputs of {@link measureFidelity}. */
export interface FidelityInputs {
  readonly tracks: readonly PlayedTrack[];
  readonly uploads: readonly RecordedUpload[];
  /** Per speaker display name, the texts the bot posted for them, in posting order. */
  readonly postedTexts: ReadonlyMap<string, readonly string[]>;
  /** The recognizer's hypothesis for each original clip file. */
  readonly originalHypotheses: ReadonlyMap<string, string>;
  /** Optional: the recognizer's hypothesis for each clip after an Opus round trip without the bot. */
  readonly codecHypotheses?: ReadonlyMap<string, string>;
}

/** Computes per-clip and total fidelity figures of one run (definitions at the top of this file). */
export function measureFidelity(inputs: FidelityInputs): FidelityReport {
  const trackEnvs = inputs.tracks.map((t) => energyEnvelope(t.timeline));
  const trackSpeech = trackEnvs.map((env) => speechMask(env));
  const coverage = trackEnvs.map((env) => new Uint8Array(env.length));

  // 1. Locate every upload on a timeline.
  const placed = inputs.uploads.map((upload) => locateUpload(upload, trackEnvs));
  for (const p of placed) {
    if (p.track === undefined) continue;
    coverage[p.track]!.fill(1, p.start, p.end);
  }
  const located: LocatedUpload[] = placed.map((p) => {
    const speechBefore = p.track === undefined ? 0 : uncoveredSpeechBefore(trackSpeech[p.track]!, coverage[p.track]!, p.start);
    const speechAfter = p.track === undefined ? 0 : uncoveredSpeechAfter(trackSpeech[p.track]!, coverage[p.track]!, p.end);
    const ownEnv = energyEnvelope(p.upload.pcm);
    const ownSpan = speechSpan(speechMask(ownEnv));
    return {
      index: p.upload.index,
      speaker: p.track === undefined ? undefined : inputs.tracks[p.track]!.track.displayName,
      startMs: p.start * ENVELOPE_FRAME_MS,
      endMs: p.end * ENVELOPE_FRAME_MS,
      durationMs: (p.upload.pcm.length / LIBRIVOX_SAMPLE_RATE) * 1000,
      score: p.score,
      onsetLossMs: speechBefore * ENVELOPE_FRAME_MS,
      tailLossMs: speechAfter * ENVELOPE_FRAME_MS,
      leadingNonSpeechMs: (ownSpan ? ownSpan.first : ownEnv.length) * ENVELOPE_FRAME_MS,
      trailingNonSpeechMs: (ownSpan ? ownEnv.length - 1 - ownSpan.last : 0) * ENVELOPE_FRAME_MS,
      text: p.upload.text,
    };
  });

  // 2. Words: one alignment per speaker, split into sentences.
  const codecOf = (id: string, reference: string): WerResult | undefined => {
    const hypothesis = inputs.codecHypotheses?.get(id);
    return hypothesis === undefined ? undefined : wordErrorRate(reference, hypothesis);
  };
  const clips: ClipFidelity[] = [];
  let speechFrames = 0;
  inputs.tracks.forEach((played, t) => {
    const name = played.track.displayName;
    const hypothesis = (inputs.postedTexts.get(name) ?? []).join(' ');
    const references = played.lines.map((l) => l.clip.reference);
    const perClip = splitAlignment(references, alignWords(references.join(' '), hypothesis));
    played.lines.forEach((line, i) => {
      const original = inputs.originalHypotheses.get(line.clip.id) ?? '';
      const originalEdges = edgeWords(line.clip.reference, original);
      const startFrame = Math.round(line.startMs / ENVELOPE_FRAME_MS);
      const span = speechSpan(speechMask(energyEnvelope(line.pcm)));
      let segments = 0;
      let onsetLossMs = 0;
      if (span) {
        const first = startFrame + span.first;
        const last = startFrame + span.last;
        speechFrames += last - first + 1;
        const covering = located
          .map((u, k) => ({ u, p: placed[k]! }))
          .filter(({ p }) => p.track === t && p.start <= last && p.end > first)
          .sort((a, b) => a.p.start - b.p.start);
        segments = covering.length;
        onsetLossMs = covering.length > 0 ? covering[0]!.u.onsetLossMs : countOnes(trackSpeech[t]!, first, last + 1) * ENVELOPE_FRAME_MS;
      }
      const through = perClip[i]!;
      clips.push({
        clipId: line.clip.id,
        speaker: name,
        werOriginal: wordErrorRate(line.clip.reference, original),
        werCodec: codecOf(line.clip.id, line.clip.reference),
        werThrough: through.wer,
        firstWordKeptOriginal: originalEdges.firstWordKept,
        lastWordKeptOriginal: originalEdges.lastWordKept,
        firstWordKeptThrough: through.firstKept,
        lastWordKeptThrough: through.lastKept,
        segments,
        onsetLossMs,
        hypothesisOriginal: original,
        hypothesisThrough: through.hypothesis,
      });
    });
  });

  // 3. Totals.
  const werOriginal = combineWer(clips.map((c) => c.werOriginal));
  const werThrough = combineWer(clips.map((c) => c.werThrough));
  const codecResults = clips.flatMap((c) => (c.werCodec ? [c.werCodec] : []));
  const werCodec = codecResults.length === clips.length && clips.length > 0 ? combineWer(codecResults) : undefined;
  const inTrack = located.filter((u) => u.speaker !== undefined);
  let notUploaded = 0;
  trackSpeech.forEach((speech, t) => {
    for (let i = 0; i < speech.length; i++) if (speech[i] === 1 && coverage[t]![i] === 0) notUploaded++;
  });
  const uploadSeconds = located.reduce((sum, u) => sum + u.durationMs / 1000, 0);
  const speechSeconds = (speechFrames * ENVELOPE_FRAME_MS) / 1000;
  const edgeWordsLost = clips.flatMap((c) => [
    ...(c.firstWordKeptOriginal && !c.firstWordKeptThrough ? [`${c.clipId}: first word`] : []),
    ...(c.lastWordKeptOriginal && !c.lastWordKeptThrough ? [`${c.clipId}: last word`] : []),
  ]);
  return {
    clips,
    uploads: located,
    totals: {
      werOriginal,
      werThrough,
      werAddedPoints: werThrough.wer - werOriginal.wer,
      werCodec,
      werAddedOverCodecPoints: werCodec === undefined ? undefined : werThrough.wer - werCodec.wer,
      onsetLossMs: inTrack.length === 0 ? 0 : inTrack.reduce((s, u) => s + u.onsetLossMs, 0) / inTrack.length,
      onsetLossMaxMs: inTrack.reduce((m, u) => Math.max(m, u.onsetLossMs), 0),
      tailLossMaxMs: inTrack.reduce((m, u) => Math.max(m, u.tailLossMs), 0),
      speechNotUploadedMs: notUploaded * ENVELOPE_FRAME_MS,
      segmentsPerUtterance: clips.length === 0 ? 0 : clips.reduce((s, c) => s + c.segments, 0) / clips.length,
      uploadSeconds,
      speechSeconds,
      uploadSecondsPerSpeechSecond: speechSeconds === 0 ? 0 : uploadSeconds / speechSeconds,
      uploadedEdgeNonSpeechSeconds: located.reduce((sum, u) => sum + (u.leadingNonSpeechMs + u.trailingNonSpeechMs) / 1000, 0),
      uploads: located.length,
      unlocatedUploads: located.length - inTrack.length,
      edgeWordsLost,
    },
  };
}

/** Turns `**Name**: text` lines (Discord Markdown escaped) into per-name texts; other lines are ignored. */
export function postedTextsByName(lines: readonly string[], names: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const line of lines) {
    const match = /^\*\*(.+?)\*\*(?: _\(said at [^)]*\)_)?: (.*)$/.exec(line);
    if (!match) continue;
    const name = unescapeMarkdown(match[1]!);
    out.get(name)?.push(unescapeMarkdown(match[2]!));
  }
  return out;
}

function unescapeMarkdown(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

interface Placement {
  readonly upload: RecordedUpload;
  readonly track: number | undefined;
  /** Envelope frames on the track timeline, [start, end). */
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

/** Finds the timeline an upload came from by its head, then where its tail lies on that timeline. */
function locateUpload(upload: RecordedUpload, trackEnvs: readonly Float64Array[]): Placement {
  const env = energyEnvelope(upload.pcm);
  const n = Math.min(LOCATE_FRAMES, env.length);
  const head = env.subarray(0, n);
  const tail = env.subarray(env.length - n);
  let best: { track: number; lag: number; score: number } | undefined;
  trackEnvs.forEach((trackEnv, track) => {
    const match = locateEnvelope(head, trackEnv);
    if (match && (best === undefined || match.score > best.score)) best = { track, lag: match.lag, score: match.score };
  });
  if (best === undefined || best.score < MIN_LOCATE_SCORE) {
    return { upload, track: undefined, start: 0, end: 0, score: best?.score ?? 0 };
  }
  const tailMatch = locateEnvelope(tail, trackEnvs[best.track]!.subarray(best.lag));
  const end = tailMatch ? best.lag + tailMatch.lag + n : best.lag + env.length;
  return { upload, track: best.track, start: best.lag, end, score: Math.min(best.score, tailMatch?.score ?? best.score) };
}

/** Speech frames not covered by any upload between the previous covered frame (or 0) and `start`. */
function uncoveredSpeechBefore(speech: Uint8Array, coverage: Uint8Array, start: number): number {
  let count = 0;
  for (let i = start - 1; i >= 0 && coverage[i] === 0; i--) count += speech[i]!;
  return count;
}

/** Speech frames not covered by any upload between `end` and the next covered frame (or the timeline's end). */
function uncoveredSpeechAfter(speech: Uint8Array, coverage: Uint8Array, end: number): number {
  let count = 0;
  for (let i = end; i < speech.length && coverage[i] === 0; i++) count += speech[i]!;
  return count;
}

function countOnes(mask: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = Math.max(0, from); i < Math.min(mask.length, to); i++) n += mask[i]!;
  return n;
}

/** One alignment of concatenated sentences, cut back into per-sentence counts and edge-word checks. */
export function splitAlignment(
  references: readonly string[],
  ops: readonly AlignmentOp[],
): Array<{ wer: WerResult; firstKept: boolean; lastKept: boolean; hypothesis: string }> {
  const wordCounts = references.map((r) => normalizeWords(r).length);
  const perClip: AlignmentOp[][] = references.map(() => []);
  let clip = 0;
  let usedInClip = 0;
  for (const op of ops) {
    if (op.op !== 'ins') {
      // Move to the sentence this reference word belongs to (skipping sentences with no words).
      while (clip < references.length - 1 && usedInClip >= wordCounts[clip]!) {
        clip++;
        usedInClip = 0;
      }
      usedInClip++;
    }
    perClip[clip]!.push(op);
  }
  return perClip.map((clipOps) => {
    const refOps = clipOps.filter((o) => o.op !== 'ins');
    return {
      wer: summarizeAlignment(clipOps),
      firstKept: refOps[0]?.op === 'hit',
      lastKept: refOps[refOps.length - 1]?.op === 'hit',
      hypothesis: clipOps.flatMap((o) => (o.op === 'del' ? [] : [o.hyp])).join(' '),
    };
  });
}
