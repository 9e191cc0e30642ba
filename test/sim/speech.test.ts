import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downmix48kStereoTo16kMono, rmsDbfs, toneBurst } from './audio/signals.js';
import { wavFile } from './audio/wav.js';
import { ConcurrencyLimit } from './speech/ConcurrencyLimit.js';
import { findLibrivoxClips, loadClipPcm, parseTranscription, upsample16kMonoTo48kStereo, type LibrivoxClip } from './speech/librivox.js';
import {
  detectPocketsphinx,
  parsePocketsphinxOutput,
  pocketsphinxTranscriber,
  PocketsphinxRecognizer,
  type Recognition,
} from './speech/pocketsphinx.js';
import { alignWords, combineWer, edgeWords, normalizeWords, wordErrorRate, type WerResult } from './speech/wer.js';
import { WhisperStandIn } from './whisper/WhisperStandIn.js';

describe('normalizeWords', () => {
  it('lower-cases, splits hyphens and punctuation, keeps inner apostrophes, collapses whitespace', () => {
    expect(normalizeWords("  Cold-hearted,\tDON'T — stop.\n 'Quoted' ")).toEqual(['cold', 'hearted', "don't", 'stop', 'quoted']);
    expect(normalizeWords('It’s 42!')).toEqual(["it's", '42']);
    expect(normalizeWords(' ,.;  ')).toEqual([]);
  });
});

describe('wordErrorRate', () => {
  it('is zero for the same words whatever the case and punctuation', () => {
    expect(wordErrorRate('The cat sat.', 'the  CAT, sat')).toEqual({
      substitutions: 0,
      deletions: 0,
      insertions: 0,
      hits: 3,
      refWords: 3,
      hypWords: 3,
      wer: 0,
    });
  });

  it('counts one deletion', () => {
    const r = wordErrorRate('the cat sat on the mat', 'the cat sat on mat');
    expect([r.substitutions, r.deletions, r.insertions, r.refWords]).toEqual([0, 1, 0, 6]);
    expect(r.wer).toBeCloseTo(100 / 6, 10);
  });

  it('counts a substitution and an insertion', () => {
    const r = wordErrorRate('a b c d', 'a x c d e');
    expect([r.substitutions, r.deletions, r.insertions, r.hits, r.refWords, r.hypWords, r.wer]).toEqual([1, 0, 1, 3, 4, 5, 50]);
  });

  it('scores real pocketsphinx output against the LibriVox references', () => {
    const a = wordErrorRate('he was not an ill disposed young man', 'he was not an illness those young man');
    expect([a.substitutions, a.deletions, a.insertions, a.refWords, a.wer]).toEqual([2, 0, 0, 8, 25]);
    const b = wordErrorRate(
      'and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them',
      'and mr john guess what and then at leisure to consider how much there might be greatly in his power to do how about',
    );
    expect([b.substitutions, b.deletions, b.insertions, b.hits, b.refWords]).toEqual([6, 0, 2, 16, 22]);
    expect(b.wer).toBeCloseTo((100 * 8) / 22, 10);
    const c = wordErrorRate(
      'unless to be rather cold hearted and rather selfish is to be ill disposed',
      'hello study rather cold hearted and rather selfish is to the oldest those',
    );
    expect([c.substitutions, c.deletions, c.insertions, c.refWords]).toEqual([5, 1, 0, 14]);
  });

  it('handles empty texts', () => {
    expect(wordErrorRate('one two three', '')).toMatchObject({ deletions: 3, wer: 100 });
    expect(wordErrorRate('', '')).toMatchObject({ refWords: 0, wer: 0 });
    expect(wordErrorRate('', 'hello')).toMatchObject({ insertions: 1, refWords: 0, wer: 100 });
    expect(wordErrorRate('one two', 'a b c d')).toMatchObject({ substitutions: 2, insertions: 2, wer: 200 });
  });

  it('aligns word by word, preferring alignments with more hits', () => {
    expect(alignWords('a b', 'b c')).toEqual([
      { op: 'del', ref: 'a' },
      { op: 'hit', ref: 'b', hyp: 'b' },
      { op: 'ins', hyp: 'c' },
    ]);
    expect(alignWords('a b a', 'a').map((o) => o.op)).toEqual(['del', 'del', 'hit']);
  });

  it('combines clips by summing errors and words', () => {
    const parts: WerResult[] = [wordErrorRate('a b c d', 'a b c d'), wordErrorRate('e f', 'e')];
    expect(combineWer(parts)).toMatchObject({ deletions: 1, refWords: 6, hits: 5 });
    expect(combineWer(parts).wer).toBeCloseTo(100 / 6, 10);
  });
});

describe('edgeWords', () => {
  it('reports a lost first word', () => {
    expect(edgeWords('he was not', 'was not')).toEqual({ firstWord: 'he', lastWord: 'not', firstWordKept: false, lastWordKept: true });
  });
  it('reports a lost (substituted) last word', () => {
    expect(edgeWords('he might even have been made amiable himself', 'he might even have been made the amiable itself')).toMatchObject({
      firstWordKept: true,
      lastWordKept: false,
    });
  });
  it('is not fooled by inserted words before the first or after the last', () => {
    expect(edgeWords('he was not', 'uh he was not um')).toMatchObject({ firstWordKept: true, lastWordKept: true });
  });
  it('says nothing is kept for an empty hypothesis or reference', () => {
    expect(edgeWords('a b', '')).toMatchObject({ firstWordKept: false, lastWordKept: false });
    expect(edgeWords('', 'a')).toEqual({ firstWord: undefined, lastWord: undefined, firstWordKept: false, lastWordKept: false });
  });
});

describe('parseTranscription', () => {
  it('reads Sphinx transcription lines, dropping the sentence markers', () => {
    const text = '<s> he was not an ill disposed young man </s> (sense_and_sensibility_01_austen_64kb-0880)\n\nHELLO World (clip-2)\n';
    expect(parseTranscription(text)).toEqual([
      { id: 'sense_and_sensibility_01_austen_64kb-0880', reference: 'he was not an ill disposed young man' },
      { id: 'clip-2', reference: 'hello world' },
    ]);
  });
  it('names the line that has no utterance id', () => {
    expect(() => parseTranscription('(a)\n<s> no id </s>\n')).toThrow(/line 2/);
  });
});

describe('upsample16kMonoTo48kStereo', () => {
  it('gives identical channels at 3× the frames and survives the stand-in’s way back to 16 kHz mono', () => {
    const speechBand = toneBurst([300, 1200, 3400], 500, { sampleRate: 16_000, channels: 1, amplitude: 0.5 });
    const up = upsample16kMonoTo48kStereo(speechBand);
    expect(up.length).toBe(speechBand.length * 6);
    for (let i = 0; i < up.length; i += 2) if (up[i] !== up[i + 1]) throw new Error(`channels differ at frame ${i / 2}`);
    const back = downmix48kStereoTo16kMono(up);
    expect(back.length).toBe(speechBand.length);
    // Compare away from the edges, where the windowed sinc sees zeros.
    const inner = (pcm: Int16Array) => pcm.subarray(400, pcm.length - 400);
    const diff = new Int16Array(inner(back).length);
    for (let i = 0; i < diff.length; i++) diff[i] = inner(back)[i]! - inner(speechBand)[i]!;
    expect(rmsDbfs(inner(speechBand)) - rmsDbfs(diff)).toBeGreaterThan(40); // SNR of the round trip, dB
  });
});

describe('ConcurrencyLimit', () => {
  it('never runs more than max jobs and starts waiters in order', async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const jobs = [0, 1, 2, 3, 4].map((n) =>
      limit.run(async () => {
        started.push(n);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return n * 10;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limit.queued).toBe(3);
    while (releases.length > 0 || started.length < 5) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(jobs)).toEqual([0, 10, 20, 30, 40]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limit.active).toBe(0);
  });
  it('frees the slot when a job throws', async () => {
    const limit = new ConcurrencyLimit(1);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 'next')).toBe('next');
  });
});

/** What `pocketsphinx_continuous -time yes` printed for two utterances of the LibriVox clips 0880 and 0930. */
const TWO_UTTERANCES_OUTPUT = `he was not an illness those young man
<s> 0.000 0.060 0.999500
<sil> 0.070 0.200 0.694306
he 0.210 0.320 0.998701
was(2) 0.330 0.540 0.999800
[SPEECH] 0.980 1.100 0.535598
man 2.330 2.790 0.905008
</s> 2.800 3.090 1.000000
he might even have been made the amiable himself
<s> 4.880 4.970 0.999900
i'm(2) 5.210 5.370 0.044750
</s> 8.010 8.270 1.000000`;

describe('parsePocketsphinxOutput', () => {
  it('joins utterance hypotheses and keeps non-filler word times', () => {
    const parsed = parsePocketsphinxOutput(TWO_UTTERANCES_OUTPUT);
    expect(parsed.utterances).toEqual(['he was not an illness those young man', 'he might even have been made the amiable himself']);
    expect(parsed.text).toBe('he was not an illness those young man he might even have been made the amiable himself');
    expect(parsed.words.map((w) => w.word)).toEqual(['he', 'was', 'man', "i'm"]);
    expect(parsed.words[3]).toEqual({ word: "i'm", startSec: 5.21, endSec: 5.37, confidence: 0.04475 });
  });
  it('gives empty text for silence (no output)', () => {
    expect(parsePocketsphinxOutput('')).toEqual({ text: '', utterances: [], words: [] });
  });
});

describe('PocketsphinxRecognizer process handling (fake CLI scripts)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'speech-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const script = async (name: string, body: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  };
  const model = { hmm: '/m/en-us', lm: '/m/en-us.lm.bin', dict: '/m/cmudict-en-us.dict' };
  const pcm = new Int16Array(1600);

  it('passes a real 16 kHz mono WAV and the model paths, and parses stdout', async () => {
    // Echoes the WAV's header fields it was given, as a "hypothesis", to prove what the CLI received.
    const bin = await script(
      'echoing',
      'f="$2"; rate=$(od -An -tu4 -j24 -N4 "$f" | tr -d " "); ch=$(od -An -tu2 -j22 -N2 "$f" | tr -d " "); ' +
        'echo "RATE $rate CHANNELS $ch $3 $4 $5 $6 $7 $8 $9 ${10}"; echo "hello 0.100 0.300 0.9"',
    );
    const r = await new PocketsphinxRecognizer(bin, model).recognizeDetailed(pcm);
    expect(r.text).toBe('rate 16000 channels 1 -hmm /m/en-us -lm /m/en-us.lm.bin -dict /m/cmudict-en-us.dict -time yes');
    expect(r.words).toEqual([{ word: 'hello', startSec: 0.1, endSec: 0.3, confidence: 0.9 }]);
  });

  it('fails with SIM_PSPHINX_FAILED and the log’s ERROR line on a non-zero exit', async () => {
    const bin = await script('failing', 'echo "INFO: x" >&2; echo "ERROR: \\"acmod.c\\", line 78: no mdef" >&2; exit 1');
    await expect(new PocketsphinxRecognizer(bin, model).recognize(pcm)).rejects.toMatchObject({
      code: 'SIM_PSPHINX_FAILED',
      message: expect.stringContaining('no mdef'),
    });
  });

  it('kills a hung process after timeoutMs (SIM_PSPHINX_TIMEOUT)', async () => {
    const bin = await script('hanging', 'exec sleep 30');
    const started = performance.now();
    await expect(new PocketsphinxRecognizer(bin, model, { timeoutMs: 200 }).recognize(pcm)).rejects.toMatchObject({
      code: 'SIM_PSPHINX_TIMEOUT',
    });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('runs at most maxProcesses at once', async () => {
    // Each run notes its start and end in a shared log; overlap is counted from the log.
    const log = join(dir, 'overlap.log');
    const bin = await script('slow', `echo start >> ${log}; sleep 0.2; echo end >> ${log}; echo ok`);
    const recognizer = new PocketsphinxRecognizer(bin, model, { maxProcesses: 2 });
    const texts = await Promise.all([0, 1, 2, 3, 4].map(() => recognizer.recognize(pcm)));
    expect(texts).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    let running = 0;
    let peak = 0;
    for (const line of (await readFile(log, 'utf8')).trim().split('\n')) {
      running += line === 'start' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(2);
  });

  it('detection names the Debian packages when something is missing', async () => {
    const noBinary = await detectPocketsphinx({ binary: join(dir, 'absent') });
    expect(noBinary).toMatchObject({ available: false, reason: expect.stringContaining('pocketsphinx pocketsphinx-en-us') });
    const noModel = await detectPocketsphinx({ binary: await script('present', 'exit 0'), modelDir: join(dir, 'no-model') });
    expect(noModel).toMatchObject({ available: false, reason: expect.stringContaining('pocketsphinx model absent') });
    const noClips = await findLibrivoxClips(join(dir, 'no-clips'));
    expect(noClips).toMatchObject({ available: false, reason: expect.stringContaining('pocketsphinx-testdata') });
  });
});

// Real speech through the real recognizer: only when Debian's packages are installed.
const detection = await detectPocketsphinx();
const corpus = await findLibrivoxClips();
const skipReason = [detection, corpus].flatMap((d) => (d.available ? [] : [d.reason])).join('; ');
if (skipReason !== '') {
  console.warn(`[speech.test] skipping the pocketsphinx/LibriVox tests: ${skipReason}`);
}

/** Per-clip measurements, filled by beforeAll and printed at the end. */
interface ClipRun {
  clip: LibrivoxClip;
  audioSec: number;
  direct: Recognition;
  viaStandIn: { text: string; status: number; roundTripMs: number };
  /** Only for the shortest clip: the 48 kHz resampling costs CPU that the recognizer needs. */
  via48kStereo?: { text: string; status: number; roundTripMs: number };
  wer: WerResult;
}

describe.skipIf(skipReason !== '')(
  `pocketsphinx on the LibriVox clips${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const runs: ClipRun[] = [];
    let standIn: WhisperStandIn;
    let totalMs = 0;

    /** Uploads a WAV like an OpenAI client does (undici FormData, real multipart) and returns the json text. */
    async function transcribeViaStandIn(wav: Buffer): Promise<{ text: string; status: number; roundTripMs: number }> {
      const form = new FormData();
      form.append('file', new Blob([wav], { type: 'audio/wav' }), 'segment.wav');
      form.append('model', 'whisper-1');
      form.append('response_format', 'json');
      const started = performance.now();
      const res = await request(`${standIn.baseUrl}/audio/transcriptions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-speech' },
        body: form,
      });
      const body = await res.body.text();
      const roundTripMs = performance.now() - started;
      const text = res.statusCode === 200 ? (JSON.parse(body) as { text: string }).text : body;
      return { text, status: res.statusCode, roundTripMs };
    }

    beforeAll(async () => {
      if (!detection.available || !corpus.available) return;
      const recognizer = detection.recognizer;
      standIn = await WhisperStandIn.start({ apiKey: 'sk-speech', transcriber: pocketsphinxTranscriber(recognizer) });
      const pcms = await Promise.all(corpus.clips.map((clip) => loadClipPcm(clip)));
      const shortest = pcms.reduce((best, pcm, i) => (pcm.length < pcms[best]!.length ? i : best), 0);
      const started = performance.now();
      // All recognizer runs are queued at once; the recognizer's own limit keeps two processes busy.
      await Promise.all(
        corpus.clips.map(async (clip, i) => {
          const pcm = pcms[i]!;
          const [direct, viaStandIn, via48kStereo] = await Promise.all([
            recognizer.recognizeDetailed(pcm),
            transcribeViaStandIn(wavFile(pcm, 16_000, 1)),
            i === shortest ? transcribeViaStandIn(wavFile(upsample16kMonoTo48kStereo(pcm), 48_000, 2)) : undefined,
          ]);
          const wer = wordErrorRate(clip.reference, direct.text);
          runs.push({ clip, audioSec: pcm.length / 16_000, direct, viaStandIn, ...(via48kStereo ? { via48kStereo } : {}), wer });
        }),
      );
      totalMs = performance.now() - started;
      runs.sort((a, b) => a.clip.id.localeCompare(b.clip.id));
    }, 120_000);

    afterAll(async () => {
      await standIn?.close();
    });

    it('recognizes every clip, directly and through the OpenAI-compatible stand-in, with the same words', () => {
      expect(runs.length).toBe(corpus.available ? corpus.clips.length : 0);
      for (const run of runs) {
        expect(run.direct.text, run.clip.id).not.toBe('');
        expect(run.viaStandIn.status, run.clip.id).toBe(200);
        expect(run.viaStandIn.text, run.clip.id).toBe(run.direct.text);
        if (run.via48kStereo) {
          // Simulated speakers' 16 kHz → 48 kHz stereo and the stand-in's way back must not change a word.
          expect(run.via48kStereo.status, run.clip.id).toBe(200);
          expect(run.via48kStereo.text, run.clip.id).toBe(run.direct.text);
        }
        // Word times must lie inside the clip.
        const lastWord = run.direct.words[run.direct.words.length - 1]!;
        expect(lastWord.endSec, run.clip.id).toBeLessThanOrEqual(run.audioSec + 0.05);
      }
      expect(runs.filter((r) => r.via48kStereo).length).toBe(1);
      expect(standIn.requests.filter((r) => r.decodedText !== undefined).length).toBe(runs.length + 1);
    });

    it('is a usable recognizer on these clips (corpus WER well under 50 %) and reports per-clip numbers', () => {
      const corpusWer = combineWer(runs.map((r) => r.wer));
      const lines = runs.map((r) => {
        const w = r.wer;
        const edges = edgeWords(r.clip.reference, r.direct.text);
        return [
          r.clip.id.replace('sense_and_sensibility_01_austen_64kb-', 'ss01-'),
          `${r.audioSec.toFixed(2)} s`,
          `WER ${w.wer.toFixed(1)} % (S${w.substitutions} D${w.deletions} I${w.insertions} / ${w.refWords})`,
          ...(r.via48kStereo ? [`48k-stereo round trip ${wordErrorRate(r.clip.reference, r.via48kStereo.text).wer.toFixed(1)} %`] : []),
          `first ${edges.firstWordKept ? 'kept' : 'LOST'} last ${edges.lastWordKept ? 'kept' : 'LOST'}`,
          `recognize ${Math.round(r.direct.processMs)} ms (queued ${Math.round(r.direct.queuedMs)} ms)`,
          `stand-in ${Math.round(r.viaStandIn.roundTripMs)} ms`,
          `hyp "${r.direct.text}"`,
        ].join(' | ');
      });
      console.log(
        [
          'pocketsphinx on LibriVox originals:',
          ...lines,
          `corpus WER ${corpusWer.wer.toFixed(1)} % (${corpusWer.substitutions + corpusWer.deletions + corpusWer.insertions}/${corpusWer.refWords}); ` +
            `${runs.length * 2 + 1} recognitions in ${Math.round(totalMs)} ms wall`,
        ].join('\n'),
      );
      expect(corpusWer.refWords).toBeGreaterThan(50);
      expect(corpusWer.wer).toBeLessThan(50);
      for (const r of runs) expect(r.wer.wer, r.clip.id).toBeLessThan(80);
    });
  },
);
