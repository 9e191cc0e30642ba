import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../audio/signals.js';
import type { PlayResult } from '../discord/SimSpeaker.js';
import { ENVELOPE_FLOOR_DBFS, energyEnvelope, locateEnvelope, speechMask, speechSpan } from './envelope.js';
import { measureFidelity, postedTextsByName, splitAlignment } from './fidelityMetrics.js';
import type { PlayedTrack, ScriptTrack } from './speechScript.js';
import type { RecordedUpload } from './UploadRecorder.js';
import { alignWords } from './wer.js';

const RATE = 16_000;
const ms = (n: number): number => Math.round((n * RATE) / 1000);

/**
 * Speech-like test signal: `leadMs` of −60 dBFS room noise, then "syllables" of −20 dBFS noise
 * (120–260 ms) separated by 40–160 ms of room noise, then `tailMs` of room noise. Seeded.
 */
function syntheticSentence(seed: number, speechMs: number, leadMs = 300, tailMs = 300): Int16Array {
  const rnd = mulberry32(seed);
  const total = ms(leadMs + speechMs + tailMs);
  const pcm = new Int16Array(total);
  const room = 32768 * 10 ** (-60 / 20) * Math.sqrt(3);
  const loud = 32768 * 10 ** (-20 / 20) * Math.sqrt(3);
  for (let i = 0; i < total; i++) pcm[i] = Math.round((rnd() * 2 - 1) * room);
  let at = ms(leadMs);
  const end = ms(leadMs + speechMs);
  while (at < end) {
    const syllable = Math.min(end - at, ms(120 + rnd() * 140));
    for (let i = 0; i < syllable; i++) pcm[at + i] = Math.round((rnd() * 2 - 1) * loud);
    at += syllable + ms(40 + rnd() * 120);
  }
  return pcm;
}

const noPlay: PlayResult = {
  packets: [],
  sent: [],
  sentOpus: [],
  counts: { sent: 0, lost: 0, dropped: 0, unroutable: 0 },
  aborted: false,
  maxLatenessMs: 0,
  startedAt: 0,
  endedAt: 0,
  ssrc: 1,
};

/** One speaker, two sentences at 0 ms and 3,000 ms on the timeline. */
function twoSentenceTrack(): PlayedTrack {
  const a = syntheticSentence(1, 1_500);
  const b = syntheticSentence(2, 1_000);
  const track: ScriptTrack = { member: 'alice', displayName: 'Ally', startDelayMs: 0, lines: [] };
  const timeline = new Int16Array(ms(3_000) + b.length);
  timeline.set(a, 0);
  timeline.set(b, ms(3_000));
  return {
    track,
    timeline,
    lines: [
      { clip: { id: 'a', reference: 'one two three', wavPath: '/a.wav' }, pcm: a, startMs: 0, result: noPlay },
      { clip: { id: 'b', reference: 'four five', wavPath: '/b.wav' }, pcm: b, startMs: 3_000, result: noPlay },
    ],
  };
}

describe('energy envelope', () => {
  it('gives the level of each 10 ms frame and the floor for digital silence', () => {
    const pcm = new Int16Array(480);
    for (let i = 160; i < 320; i++) pcm[i] = i % 2 === 0 ? 16384 : -16384; // square wave at −6 dBFS
    const env = energyEnvelope(pcm);
    expect(env.length).toBe(3);
    expect(env[0]).toBe(ENVELOPE_FLOOR_DBFS);
    expect(env[1]).toBeCloseTo(-6.02, 1);
    expect([...speechMask(env)]).toEqual([0, 1, 0]);
    expect(speechSpan(speechMask(env))).toEqual({ first: 1, last: 1 });
    expect(speechSpan(new Uint8Array(4))).toBeUndefined();
  });

  it('locates a piece of a signal at its exact frame offset', () => {
    const haystack = energyEnvelope(syntheticSentence(5, 4_000));
    const needle = haystack.slice(123, 123 + 150);
    expect(locateEnvelope(needle, haystack)).toEqual({ lag: 123, score: expect.closeTo(1, 6) });
    expect(locateEnvelope(new Float64Array(10).fill(-30), haystack)).toBeUndefined(); // flat: nothing to match
    expect(locateEnvelope(haystack, needle)).toBeUndefined(); // longer than the haystack
  });
});

describe('splitAlignment', () => {
  it('cuts one alignment back into sentences; insertions go to the sentence before them', () => {
    const refs = ['a b c', 'd e'];
    const parts = splitAlignment(refs, alignWords(refs.join(' '), 'a x c d e f'));
    expect(parts.map((p) => [p.wer.substitutions, p.wer.deletions, p.wer.insertions, p.wer.refWords])).toEqual([
      [1, 0, 0, 3],
      [0, 0, 1, 2],
    ]);
    expect(parts.map((p) => [p.firstKept, p.lastKept])).toEqual([
      [true, true],
      [true, true],
    ]);
    expect(parts.map((p) => p.hypothesis)).toEqual(['a x c', 'd e f']);
  });

  it('reports a first word lost at a sentence boundary', () => {
    const refs = ['a b', 'c d'];
    const parts = splitAlignment(refs, alignWords(refs.join(' '), 'a b d'));
    expect(parts[1]).toMatchObject({ firstKept: false, lastKept: true });
    expect(parts[1]!.wer.deletions).toBe(1);
  });
});

describe('postedTextsByName', () => {
  it('reads `**Name**: text` lines per name, unescaping Markdown and skipping the delayed marker', () => {
    const lines = [
      '**Ally**: he was not',
      '**Bobby Tables** _(said at 12:00:01 UTC, delayed)_: cold\\-hearted',
      'a notice without a name',
      '**Carol**: not asked for',
      '**Ally**: an ill disposed',
    ];
    const texts = postedTextsByName(lines, ['Ally', 'Bobby Tables']);
    expect(texts.get('Ally')).toEqual(['he was not', 'an ill disposed']);
    expect(texts.get('Bobby Tables')).toEqual(['cold-hearted']);
    expect(texts.has('Carol')).toBe(false);
  });
});

describe('measureFidelity', () => {
  const upload = (pcm: Int16Array, index: number, text = ''): RecordedUpload => ({ pcm, text, index });

  it('finds uploads on the timeline and measures onset loss, coverage, cost and per-sentence WER', () => {
    const played = twoSentenceTrack();
    const t = played.timeline;
    // Sentence a uploaded whole (from 100 ms: only room noise is missing); sentence b with its first
    // 100 ms of speech (b's speech starts at 3,300 ms) cut off.
    const uploads = [upload(t.slice(ms(100), ms(2_100)), 0), upload(t.slice(ms(3_400), ms(4_600)), 1)];
    const report = measureFidelity({
      tracks: [played],
      uploads,
      postedTexts: new Map([['Ally', ['one two three', 'five']]]),
      originalHypotheses: new Map([
        ['a', 'one two three'],
        ['b', 'four five'],
      ]),
    });
    expect(report.uploads.map((u) => [u.speaker, u.startMs, u.endMs])).toEqual([
      ['Ally', 100, 2_100],
      ['Ally', 3_400, 4_600],
    ]);
    expect(report.uploads.map((u) => u.onsetLossMs)).toEqual([0, 100]);
    expect(report.totals.onsetLossMaxMs).toBe(100);
    expect(report.totals.onsetLossMs).toBe(50);
    expect(report.totals.speechNotUploadedMs).toBe(100);
    expect(report.clips.map((c) => [c.clipId, c.segments, c.onsetLossMs])).toEqual([
      ['a', 1, 0],
      ['b', 1, 100],
    ]);
    expect(report.totals.uploadSeconds).toBeCloseTo(3.2, 6);
    // Upload 0 starts 200 ms before sentence a's first syllable (at 300 ms): room noise a trimming segmenter would not send.
    expect(report.uploads[0]!.leadingNonSpeechMs).toBe(200);
    expect(report.totals.uploadedEdgeNonSpeechSeconds).toBeGreaterThanOrEqual(0.2);
    expect(report.totals.uploadSecondsPerSpeechSecond).toBeGreaterThan(1);
    // "four" was lost through the bot but recognized on the original: an edge word lost.
    expect(report.totals.werOriginal.wer).toBe(0);
    expect(report.totals.werThrough.deletions).toBe(1);
    expect(report.totals.edgeWordsLost).toEqual(['b: first word']);
    expect(report.totals.unlocatedUploads).toBe(0);
    expect(report.totals.werCodec).toBeUndefined();
  });

  it('does not place audio nobody played, and counts an unheard sentence as lost from its start', () => {
    const played = twoSentenceTrack();
    const report = measureFidelity({
      tracks: [played],
      uploads: [upload(played.timeline.slice(0, ms(2_100)), 0), upload(new Int16Array(ms(1_000)), 1)],
      postedTexts: new Map([['Ally', ['one two three']]]),
      originalHypotheses: new Map([
        ['a', 'one two three'],
        ['b', 'four five'],
      ]),
      codecHypotheses: new Map([
        ['a', 'one two three'],
        ['b', 'four'],
      ]),
    });
    expect(report.totals.unlocatedUploads).toBe(1); // digital silence matches nothing
    const b = report.clips.find((c) => c.clipId === 'b')!;
    expect(b.segments).toBe(0);
    expect(b.onsetLossMs).toBeGreaterThan(500);
    expect(report.totals.werCodec?.deletions).toBe(1);
    expect(report.totals.werAddedOverCodecPoints).toBeCloseTo((100 * 2) / 5 - 100 / 5, 6);
  });
});
