/**
 * Real speech through the real bot process and a real recognizer: two simulated speakers read the
 * LibriVox sentences (48 kHz stereo Opus, real pacing, natural pauses, talking over each other), the
 * bot segments and uploads them to the Whisper stand-in, which runs pocketsphinx. At 0 % loss the bot
 * may add at most 2 points of WER, and may not lose a sentence's first or last word that the recognizer
 * gets from the original file. "Add" is measured against the same clips after an Opus round trip without
 * any bot: Discord's codec alone costs these clips +2.8 points (2 of 71 words) with this recognizer,
 * which no bot can avoid; against the original files the figure is printed. Skipped, naming the Debian packages,
 * when pocketsphinx or the clips are absent. Full tables (loss, jitter, baseline): npm run bench:fidelity.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { detectPocketsphinx, pocketsphinxTranscriber } from '../sim/speech/pocketsphinx.js';
import { findLibrivoxClips, loadClipPcm } from '../sim/speech/librivox.js';
import { runFidelity, type FidelityRun } from '../sim/speech/fidelityRun.js';
import { OVERLAP_SCRIPT, scriptClipIds } from '../sim/speech/speechScript.js';
import { UploadRecorder } from '../sim/speech/UploadRecorder.js';
import { opusRoundTrip16kMono } from '../sim/speech/opusRoundTrip.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';

// Two recognizers of one process each: one serves the bot's uploads (so they never queue behind the
// reference clips), the other recognizes the references while the speakers talk. Two cores in all.
const detection = await detectPocketsphinx({ maxProcesses: 1 });
const referenceDetection = await detectPocketsphinx({ maxProcesses: 1 });
const corpus = await findLibrivoxClips();
const skipReason = [detection, corpus].flatMap((d) => (d.available ? [] : [d.reason])).join('; ');
if (skipReason !== '') console.warn(`[fidelity.e2e] skipped: ${skipReason}`);

describe.skipIf(skipReason !== '')(
  `speech fidelity through the bot process${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let rig: Rig | undefined;
    afterAll(async () => {
      await rig?.close();
    });

    it('adds at most 2 points of WER beyond the codec at 0 % loss and keeps every first and last word the original gives', async () => {
      if (!detection.available || !referenceDetection.available || !corpus.available) return;
      const recognizer = detection.recognizer;
      const referenceRecognizer = referenceDetection.recognizer;
      const recorder = new UploadRecorder(pocketsphinxTranscriber(recognizer));
      // Production's silence gap (the rig's default of 800 ms is for DTMF tests).
      rig = await startRig({ whisper: { transcriber: recorder.transcriber }, env: { SILENCE_GAP_MS: '1000' } });
      const { sim } = rig;
      await joinVoice(rig, [sim.members.alice, sim.members.bob]);

      const clips = corpus.clips.filter((c) => scriptClipIds(OVERLAP_SCRIPT).includes(c.id));
      const recognizeAll = (prepare: (pcm: Int16Array) => Int16Array) =>
        Promise.all(clips.map(async (c) => [c.id, await referenceRecognizer.recognize(prepare(await loadClipPcm(c)))] as const)).then(
          (pairs) => new Map(pairs),
        );
      const originals = recognizeAll((pcm) => pcm);
      const codec = recognizeAll(opusRoundTrip16kMono);
      const run: FidelityRun = await runFidelity({
        sim,
        recorder,
        script: OVERLAP_SCRIPT,
        clips,
        network: { lossPercent: 0, jitterMs: 0, seed: 7 },
        originalHypotheses: originals,
        codecHypotheses: codec,
        postedLines: () => transcriptLines(sim),
      });
      const t = run.totals;
      console.log(
        [
          `fidelity at 0 % loss, two overlapping speakers (${Math.round(run.wallMs)} ms wall, pacing lateness ≤ ${Math.round(run.maxPacingLatenessMs)} ms):`,
          ...run.clips.map(
            (c) =>
              `${c.clipId.slice(-4)} ${c.speaker}: WER original ${c.werOriginal.wer.toFixed(1)}, codec ${c.werCodec?.wer.toFixed(1)}, through ${c.werThrough.wer.toFixed(1)} %, ` +
              `segments ${c.segments}, onset loss ${c.onsetLossMs} ms | orig "${c.hypothesisOriginal}" | through "${c.hypothesisThrough}"`,
          ),
          `total WER original ${t.werOriginal.wer.toFixed(1)}, codec ${t.werCodec?.wer.toFixed(1)}, through ${t.werThrough.wer.toFixed(1)} % ` +
            `(${t.werAddedPoints.toFixed(1)} points over the original, ${t.werAddedOverCodecPoints?.toFixed(1)} over the codec); ` +
            `${t.uploads} uploads, ${t.uploadSeconds.toFixed(2)} s for ${t.speechSeconds.toFixed(2)} s of speech ` +
            `(${t.uploadSecondsPerSpeechSecond.toFixed(2)}); onset loss mean ${t.onsetLossMs.toFixed(0)} max ${t.onsetLossMaxMs} ms`,
        ].join('\n'),
      );

      expect(run.clips).toHaveLength(clips.length);
      // Every upload must be found on a speaker's timeline: otherwise the bot sent audio nobody played.
      expect(t.unlocatedUploads).toBe(0);
      expect(t.uploads).toBeGreaterThan(0);
      // Both speakers were heard and attributed (lines under each name).
      for (const c of run.clips) expect(c.hypothesisThrough, c.clipId).not.toBe('');
      expect(t.werAddedOverCodecPoints).toBeDefined();
      expect(t.werAddedOverCodecPoints!).toBeLessThanOrEqual(2);
      expect(t.edgeWordsLost).toEqual([]);
    }, 90_000);
  },
);
