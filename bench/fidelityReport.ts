/**
 * Rows of bench/results/fidelity.json and the fidelity section of docs/benchmarks.md. The section is
 * only ever rewritten between its markers; the rest of the file (e.g. the memory section, which its own
 * generator owns) is left byte for byte as it was.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { BotImpl } from './lib/launchBot.js';

export const FIDELITY_BEGIN = '<!-- fidelity:begin -->';
export const FIDELITY_END = '<!-- fidelity:end -->';

/** One clip in one condition. WERs in percent. */
export interface ClipRow {
  readonly clipId: string;
  readonly speaker: string;
  readonly refWords: number;
  readonly werOriginal: number;
  readonly werCodec: number;
  readonly werThrough: number;
  readonly segments: number;
  readonly onsetLossMs: number;
  readonly firstWordKept: { readonly original: boolean; readonly through: boolean };
  readonly lastWordKept: { readonly original: boolean; readonly through: boolean };
  readonly hypothesisOriginal: string;
  readonly hypothesisThrough: string;
}

/** One condition for one bot; the measured fields are null when the bot could not be measured. */
export interface FidelityRow {
  readonly impl: BotImpl;
  readonly scenario: 'alone' | 'overlap';
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly measured: boolean;
  readonly notMeasuredReason?: string;
  /** Recognizer on the original files, percent. */
  readonly werOriginal: number;
  /** Recognizer on the Opus round trip of the files (the codec alone, no bot), percent. */
  readonly werCodec: number;
  /** Recognizer on what the bot uploaded, read from what it posted, percent. */
  readonly werThrough: number | null;
  /** werThrough − werOriginal, percentage points (the issue's measure). */
  readonly werAddedPoints: number | null;
  /** werThrough − werCodec: what the bot adds beyond Discord's codec, percentage points. */
  readonly werAddedOverCodecPoints: number | null;
  readonly packetsPlayed: number | null;
  readonly packetsLost: number | null;
  /** Packets that arrived after a packet of a later frame (reordered by jitter). */
  readonly packetsOvertaken: number | null;
  readonly onsetLossMs: number | null;
  readonly onsetLossMaxMs: number | null;
  readonly tailLossMaxMs: number | null;
  readonly speechNotUploadedMs: number | null;
  readonly segmentsPerUtterance: number | null;
  readonly uploadSeconds: number | null;
  readonly speechSeconds: number | null;
  readonly uploadSecondsPerSpeechSecond: number | null;
  /** Seconds of the uploads before their first and after their last speech frame (room noise, silence). */
  readonly uploadedEdgeNonSpeechSeconds: number | null;
  /** Upload request bodies, MB (10^6 bytes). */
  readonly uploadMegabytes: number | null;
  readonly uploads: number | null;
  readonly unlocatedUploads: number | null;
  readonly edgeWordsLost: readonly string[] | null;
  readonly clips: readonly ClipRow[];
}

/** The Markdown between the fidelity markers (without the markers). */
export function fidelityMarkdown(rows: readonly FidelityRow[], generatedAt = new Date()): string {
  const out: string[] = [];
  out.push('## Speech fidelity (real speech, real recognizer)');
  out.push('');
  out.push(
    'Five LibriVox sentences (Debian `pocketsphinx-testdata`, 71 words, one reader) are read by simulated Discord ' +
      'speakers — 48 kHz stereo Opus, 20 ms real-time pacing, natural pauses of 0.6–2 s, `alone` (one speaker, five ' +
      'sentences) or `overlap` (two speakers talking over each other) — into the bot process. Its uploads go to the ' +
      'OpenAI-compatible stand-in running pocketsphinx; WER is computed on what the bot posted. *Original* is the ' +
      'recognizer on the WAV files, *codec only* on the same files after an Opus encode/decode without any bot, ' +
      '*through* via the bot. Onset loss: ms of the original\'s speech (10 ms frames ≥ −35 dBFS) just before a ' +
      'segment start that no upload contains. Definitions: `test/sim/speech/fidelityMetrics.ts`. ' +
      `Command: \`npm run bench:fidelity\`. Generated ${generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  );
  out.push('');
  out.push(
    '| bot | scenario | loss | jitter | packets overtaken | WER original | WER codec only | WER through | added over original | added over codec | onset loss mean / max | tail loss max | speech not uploaded | segments / sentence | uploaded s / speech s | of it non-speech at upload edges | upload MB |',
  );
  out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    const cells = r.measured
      ? [
          pct(r.werThrough),
          points(r.werAddedPoints),
          points(r.werAddedOverCodecPoints),
          `${num(r.onsetLossMs, 0)} / ${num(r.onsetLossMaxMs, 0)} ms`,
          `${num(r.tailLossMaxMs, 0)} ms`,
          `${num(r.speechNotUploadedMs, 0)} ms`,
          num(r.segmentsPerUtterance, 2),
          num(r.uploadSecondsPerSpeechSecond, 2),
          `${num(r.uploadedEdgeNonSpeechSeconds, 1)} s`,
          num(r.uploadMegabytes, 2),
        ]
      : ['not measured', '', '', '', '', '', '', '', '', ''];
    const overtaken = r.packetsOvertaken === null || !r.packetsPlayed ? '–' : `${((100 * r.packetsOvertaken) / r.packetsPlayed).toFixed(1)} %`;
    out.push(`| ${r.impl} | ${r.scenario} | ${r.lossPercent} % | ${r.jitterMs} ms | ${overtaken} | ${pct(r.werOriginal)} | ${pct(r.werCodec)} | ${cells.join(' | ')} |`);
  }
  const unmeasured = rows.filter((r) => !r.measured);
  if (unmeasured.length > 0) {
    const reasons = [...new Set(unmeasured.map((r) => `${r.impl}: ${r.notMeasuredReason ?? 'unknown'}`))];
    out.push('');
    out.push(`Not measured — ${reasons.join('; ')}.`);
  }

  const ours = rows.filter((r) => r.impl === 'tinyscribe' && r.measured);
  if (ours.length > 0) {
    out.push('');
    out.push('Per sentence, tinyscribe (WER in %; *first/last* = first and last reference word recognized: original → through, in the `overlap` 0 % run):');
    out.push('');
    out.push(`| clip | words | original | codec only | ${ours.map((r) => `${r.scenario} ${r.lossPercent} %${r.jitterMs ? ` / ${r.jitterMs} ms` : ''}`).join(' | ')} | first / last |`);
    out.push(`|---|--:|--:|--:|${ours.map(() => '--:').join('|')}|---|`);
    const reference = ours.find((r) => r.scenario === 'overlap' && r.lossPercent === 0 && r.jitterMs === 0) ?? ours[0]!;
    for (const clip of reference.clips) {
      const through = ours.map((r) => {
        const c = r.clips.find((x) => x.clipId === clip.clipId);
        return c ? `${c.werThrough.toFixed(1)}` : '–';
      });
      const edge = (e: { original: boolean; through: boolean }): string => `${e.original ? 'yes' : 'no'}→${e.through ? 'yes' : 'no'}`;
      out.push(
        `| ${clip.clipId.replace('sense_and_sensibility_01_austen_64kb-', '')} | ${clip.refWords} | ${clip.werOriginal.toFixed(1)} | ${clip.werCodec.toFixed(1)} | ${through.join(' | ')} | ${edge(clip.firstWordKept)} / ${edge(clip.lastWordKept)} |`,
      );
    }
    out.push('');
    out.push('Targets (issue #7), tinyscribe:');
    out.push('');
    for (const line of targetLines(rows)) out.push(`- ${line}`);
  }
  return out.join('\n');
}

/** The issue's targets, each with the measured values and met / not met. */
export function targetLines(rows: readonly FidelityRow[]): string[] {
  const ours = rows.filter((r) => r.impl === 'tinyscribe' && r.measured);
  const at = (loss: number) => ours.filter((r) => r.lossPercent === loss && r.jitterMs === 0);
  const verdict = (ok: boolean): string => (ok ? '**met**' : '**not met**');
  const added = (list: readonly FidelityRow[]) =>
    list.map((r) => `${r.scenario} ${points(r.werAddedPoints)} (${points(r.werAddedOverCodecPoints)} over the codec alone)`).join(', ');
  const lines: string[] = [];
  const zero = at(0);
  lines.push(`WER added ≤ 1 point at 0 % loss: ${added(zero)} — ${verdict(zero.length > 0 && zero.every((r) => (r.werAddedPoints ?? Infinity) <= 1))}`);
  const five = at(5);
  lines.push(`WER added ≤ 3 points at 5 % loss: ${added(five)} — ${verdict(five.length > 0 && five.every((r) => (r.werAddedPoints ?? Infinity) <= 3))}`);
  const onsetMax = Math.max(...ours.map((r) => r.onsetLossMaxMs ?? Infinity));
  lines.push(`0 ms onset loss: worst segment start over all runs ${num(onsetMax, 0)} ms — ${verdict(onsetMax === 0)}`);
  const cost = Math.max(...ours.map((r) => r.uploadSecondsPerSpeechSecond ?? Infinity));
  lines.push(`≤ 1.2 s uploaded per s of speech: worst run ${num(cost, 2)} — ${verdict(cost <= 1.2)}`);
  const baseline = rows.filter((r) => r.impl === 'baseline');
  if (baseline.length === 0 || baseline.some((r) => !r.measured)) {
    lines.push('better than the baseline on every line: not measured (no baseline rows)');
  } else {
    const worse = ours.filter((r) => {
      const b = baseline.find((x) => x.scenario === r.scenario && x.lossPercent === r.lossPercent && x.jitterMs === r.jitterMs);
      return b !== undefined && (r.werThrough ?? Infinity) > (b.werThrough ?? Infinity);
    });
    lines.push(
      `better than the baseline on every line (WER through): ${worse.length === 0 ? '' : `worse or equal on ${worse.map((r) => `${r.scenario} ${r.lossPercent} % / ${r.jitterMs} ms`).join(', ')} — `}${verdict(worse.length === 0)}`,
    );
  }
  return lines;
}

/** Rewrites only the text between the fidelity markers (appending the markers when the file has none). */
export async function replaceFidelitySection(path: string, body: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const begin = text.indexOf(FIDELITY_BEGIN);
  const end = text.indexOf(FIDELITY_END);
  const section = `${FIDELITY_BEGIN}\n${body}\n${FIDELITY_END}`;
  const next =
    begin >= 0 && end > begin
      ? text.slice(0, begin) + section + text.slice(end + FIDELITY_END.length)
      : `${text.replace(/\n*$/, '\n\n')}${section}\n`;
  await writeFile(path, next);
}

function pct(x: number | null): string {
  return x === null ? '–' : `${x.toFixed(1)} %`;
}

function points(x: number | null): string {
  return x === null ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

function num(x: number | null, digits: number): string {
  return x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}
