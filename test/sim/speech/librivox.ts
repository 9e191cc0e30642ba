/**
 * Real human speech for fidelity tests: the public-domain LibriVox clips (Jane Austen, "Sense and
 * Sensibility", one reader, 16 kHz mono s16 WAV) with reference transcripts that Debian's
 * `pocketsphinx-testdata` installs under /usr/share/pocketsphinx/test/data/librivox.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TinyscribeError } from '../../../src/util/errors.js';
import { resampleMono } from '../audio/signals.js';
import { parseWav } from '../whisper/parseWav.js';

/** Where `pocketsphinx-testdata` puts the clips and their `transcription` file. */
export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';
/** The Debian package that ships the clips. */
export const LIBRIVOX_PACKAGE = 'pocketsphinx-testdata';
/** The clips' format. */
export const LIBRIVOX_SAMPLE_RATE = 16_000;

/** One clip: its id (the WAV's base name), reference words and file path. */
export interface LibrivoxClip {
  readonly id: string;
  /** Reference transcript: lower-case words separated by single spaces, without `<s>`/`</s>`. */
  readonly reference: string;
  readonly wavPath: string;
}

/** The clips, or why they are not there (with the package to install). */
export type LibrivoxCorpus =
  | { readonly available: true; readonly clips: readonly LibrivoxClip[] }
  | { readonly available: false; readonly reason: string };

/** One line of a Sphinx transcription file: `<s> words … </s> (utterance-id)`. */
const TRANSCRIPTION_LINE = /^(.*?)\s*\(([^()\s]+)\)\s*$/;

/**
 * Parses a Sphinx `transcription` file (one `<s> words </s> (id)` per line; the sentence markers are
 * optional). Throws SIM_LIBRIVOX_FORMAT naming the line when one does not fit.
 */
export function parseTranscription(text: string): Array<{ id: string; reference: string }> {
  const entries: Array<{ id: string; reference: string }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const match = TRANSCRIPTION_LINE.exec(line);
    if (!match) throw new TinyscribeError('SIM_LIBRIVOX_FORMAT', `transcription line ${i + 1} has no (utterance-id): ${line}`);
    const words = match[1]!
      .split(/\s+/)
      .filter((w) => w !== '' && w !== '<s>' && w !== '</s>')
      .map((w) => w.toLowerCase());
    entries.push({ id: match[2]!, reference: words.join(' ') });
  }
  return entries;
}

/** Lists the clips named in `dir/transcription` whose WAV exists; never throws, says what is missing instead. */
export async function findLibrivoxClips(dir: string = LIBRIVOX_DIR): Promise<LibrivoxCorpus> {
  const install = `install the Debian package: apt-get install -y ${LIBRIVOX_PACKAGE}`;
  let text: string;
  try {
    text = await readFile(join(dir, 'transcription'), 'utf8');
  } catch {
    return { available: false, reason: `LibriVox clips absent: no ${join(dir, 'transcription')}; ${install}` };
  }
  const clips: LibrivoxClip[] = [];
  for (const { id, reference } of parseTranscription(text)) {
    const wavPath = join(dir, `${id}.wav`);
    try {
      if ((await stat(wavPath)).isFile()) clips.push({ id, reference, wavPath });
    } catch {
      // A transcript line without audio is skipped; the empty-corpus check below catches a broken install.
    }
  }
  if (clips.length === 0) return { available: false, reason: `LibriVox clips absent: no WAV under ${dir} matches its transcription; ${install}` };
  return { available: true, clips };
}

/** Loads a clip as 16 kHz mono s16 PCM (downmixed/resampled if a future package changes the format). */
export async function loadClipPcm(clip: Pick<LibrivoxClip, 'wavPath'>): Promise<Int16Array> {
  const wav = parseWav(await readFile(clip.wavPath));
  if (wav.channels !== 1) {
    throw new TinyscribeError('SIM_LIBRIVOX_FORMAT', `${clip.wavPath}: expected mono, got ${wav.channels} channels`);
  }
  return resampleMono(wav.pcm, wav.sampleRate, LIBRIVOX_SAMPLE_RATE);
}

/**
 * 16 kHz mono → 48 kHz stereo interleaved s16 (Discord's format) for simulated speakers: a
 * windowed-sinc interpolator (so no imaging above 8 kHz for Opus to spend bits on), same on both channels.
 */
export function upsample16kMonoTo48kStereo(pcm16kMono: Int16Array): Int16Array {
  const mono48k = resampleMono(pcm16kMono, LIBRIVOX_SAMPLE_RATE, 48_000);
  const stereo = new Int16Array(mono48k.length * 2);
  for (let i = 0; i < mono48k.length; i++) {
    const s = mono48k[i]!;
    stereo[2 * i] = s;
    stereo[2 * i + 1] = s;
  }
  return stereo;
}
