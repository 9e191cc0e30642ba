/**
 * A real speech recognizer for fidelity tests: CMU pocketsphinx (Debian packages `pocketsphinx` +
 * `pocketsphinx-en-us`) run as a child process on a temporary 16 kHz mono WAV. Its accuracy is modest;
 * what tests measure is the difference between the original audio and what tinyscribe uploads, so the
 * recognizer must be deterministic (it is: same samples in, same words out) and used the same way on both.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../../../src/util/Clock.js';
import { TinyscribeError, errorMessage } from '../../../src/util/errors.js';
import { resampleMono } from '../audio/signals.js';
import { wavFile } from '../audio/wav.js';
import type { TranscribeFn } from '../whisper/types.js';
import { ConcurrencyLimit } from './ConcurrencyLimit.js';

/** The CLI of Debian's pocketsphinx 0.8+5prealpha (bookworm). pocketsphinx ≥ 5 ships `pocketsphinx single` instead. */
export const POCKETSPHINX_BINARY = 'pocketsphinx_continuous';
/** Where `pocketsphinx-en-us` installs the US English model. */
export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
/** The Debian packages to install when the recognizer is absent. */
export const POCKETSPHINX_PACKAGES = ['pocketsphinx', 'pocketsphinx-en-us'] as const;
/** The recognizer's input format (its `-samprate` default; the WAV header must agree). */
export const RECOGNIZER_SAMPLE_RATE = 16_000;
/** Default per-process timeout. A warm run takes ~0.4 s + ~0.35 s per second of audio; the first run after install, with a cold page cache for the 26 MB language model, took 23 s. */
export const DEFAULT_RECOGNIZE_TIMEOUT_MS = 60_000;
/** Default number of recognizer processes at once (each holds ~110 MB and one core). */
export const DEFAULT_MAX_PROCESSES = 2;
/** How much of the process's stderr log to keep for error messages. */
const STDERR_TAIL_BYTES = 4096;

/** Paths of the model files given to the CLI (explicit, so we do not depend on compiled-in defaults). */
export interface PocketsphinxModel {
  /** Acoustic model directory (`-hmm`). */
  readonly hmm: string;
  /** Language model (`-lm`). */
  readonly lm: string;
  /** Pronunciation dictionary (`-dict`). */
  readonly dict: string;
}

/** Options for {@link detectPocketsphinx}. */
export interface PocketsphinxOptions {
  /** Path of `pocketsphinx_continuous`; default: looked up on PATH, then /usr/bin. */
  binary?: string;
  /** Model directory laid out like `pocketsphinx-en-us`'s. Default {@link POCKETSPHINX_MODEL_DIR}. */
  modelDir?: string;
  /** Kill a recognizer process after this long. Default {@link DEFAULT_RECOGNIZE_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Processes at once. Default {@link DEFAULT_MAX_PROCESSES}. */
  maxProcesses?: number;
  /** For timeouts and timings. Default: the system clock. */
  clock?: Clock;
  /** Directory for the temporary WAV files. Default: os.tmpdir(). */
  tmpDir?: string;
}

/** The recognizer is usable, or why not (with the packages to install). */
export type PocketsphinxDetection =
  | { readonly available: true; readonly recognizer: PocketsphinxRecognizer }
  | { readonly available: false; readonly reason: string };

/** One recognized word with its times in the submitted audio. */
export interface RecognizedWord {
  /** Dictionary base form, lower-case (`i'm(2)` → `i'm`). */
  readonly word: string;
  readonly startSec: number;
  readonly endSec: number;
  /** Posterior probability 0..1 as the CLI prints it. */
  readonly confidence: number;
}

/** What one recognizer run produced. */
export interface Recognition {
  /** All utterances' hypotheses joined by one space, lower-case ('' for silence). */
  readonly text: string;
  /** One hypothesis per utterance the recognizer's own VAD found, in order. */
  readonly utterances: readonly string[];
  /** Non-filler words with times (fillers such as `<s>`, `<sil>`, `[NOISE]` are left out). */
  readonly words: readonly RecognizedWord[];
  /** Wall time of the process, ms (spawn to exit). */
  readonly processMs: number;
  /** Time spent waiting for a free process slot, ms. */
  readonly queuedMs: number;
}

/** Finds pocketsphinx and its model; never throws, says what is missing instead. */
export async function detectPocketsphinx(options: PocketsphinxOptions = {}): Promise<PocketsphinxDetection> {
  const install = `install the Debian packages: apt-get install -y ${POCKETSPHINX_PACKAGES.join(' ')}`;
  const binary = options.binary ?? (await findOnPath(POCKETSPHINX_BINARY)) ?? `/usr/bin/${POCKETSPHINX_BINARY}`;
  if (!(await isExecutable(binary))) {
    const newer = await findOnPath('pocketsphinx');
    const hint = newer ? ` (found ${newer}, the pocketsphinx ≥ 5 CLI, which this helper does not drive)` : '';
    return { available: false, reason: `pocketsphinx recognizer absent: no executable ${binary}${hint}; ${install}` };
  }
  const modelDir = options.modelDir ?? POCKETSPHINX_MODEL_DIR;
  const model: PocketsphinxModel = {
    hmm: join(modelDir, 'en-us'),
    lm: join(modelDir, 'en-us.lm.bin'),
    dict: join(modelDir, 'cmudict-en-us.dict'),
  };
  for (const path of [join(model.hmm, 'mdef'), model.lm, model.dict]) {
    if (!(await isFile(path))) {
      return { available: false, reason: `pocketsphinx model absent: missing ${path}; ${install}` };
    }
  }
  return { available: true, recognizer: new PocketsphinxRecognizer(binary, model, options) };
}

/** Runs pocketsphinx on PCM; create it with {@link detectPocketsphinx}. At most `maxProcesses` run at once. */
export class PocketsphinxRecognizer {
  private readonly limit: ConcurrencyLimit;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly tmpDir: string;

  constructor(
    readonly binary: string,
    readonly model: PocketsphinxModel,
    options: Pick<PocketsphinxOptions, 'timeoutMs' | 'maxProcesses' | 'clock' | 'tmpDir'> = {},
  ) {
    this.limit = new ConcurrencyLimit(options.maxProcesses ?? DEFAULT_MAX_PROCESSES);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RECOGNIZE_TIMEOUT_MS;
    this.clock = options.clock ?? systemClock;
    this.tmpDir = options.tmpDir ?? tmpdir();
  }

  /** The command line for one WAV file (for reports and for reproducing a run by hand). */
  commandLine(wavPath: string): string[] {
    return [
      this.binary,
      '-infile', wavPath,
      '-hmm', this.model.hmm,
      '-lm', this.model.lm,
      '-dict', this.model.dict,
      // Word times (for onset measurements); the hypothesis lines are printed as well.
      '-time', 'yes',
    ];
  }

  /** The lower-cased hypothesis for 16 kHz mono s16 PCM ('' for silence). */
  async recognize(pcm16kMono: Int16Array): Promise<string> {
    return (await this.recognizeDetailed(pcm16kMono)).text;
  }

  /** Hypothesis, per-utterance text, word times and timings for 16 kHz mono s16 PCM. */
  async recognizeDetailed(pcm16kMono: Int16Array): Promise<Recognition> {
    const queuedAt = this.clock.monotonic();
    return this.limit.run(async () => {
      const queuedMs = this.clock.monotonic() - queuedAt;
      const dir = await mkdtemp(join(this.tmpDir, 'tinyscribe-psphinx-'));
      try {
        const wavPath = join(dir, 'audio.wav');
        await writeFile(wavPath, wavFile(pcm16kMono, RECOGNIZER_SAMPLE_RATE, 1));
        const started = this.clock.monotonic();
        const stdout = await this.runProcess(this.commandLine(wavPath));
        const processMs = this.clock.monotonic() - started;
        return { ...parsePocketsphinxOutput(stdout), processMs, queuedMs };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  /** Spawns the CLI, collects stdout, and fails with a coded error on timeout, spawn error or non-zero exit. */
  private runProcess(argv: readonly string[]): Promise<string> {
    const [command, ...args] = argv as [string, ...string[]];
    return new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let errTail = Buffer.alloc(0);
      let timedOut = false;
      let timer: TimerHandle | null = this.clock.setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      const stopTimer = (): void => {
        if (timer !== null) this.clock.clearTimeout(timer);
        timer = null;
      };
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      // The CLI logs ~8 KB of INFO lines per run to stderr; keep only the end, where errors are.
      child.stderr.on('data', (chunk: Buffer) => {
        errTail = Buffer.concat([errTail, chunk]);
        if (errTail.length > STDERR_TAIL_BYTES) errTail = errTail.subarray(errTail.length - STDERR_TAIL_BYTES);
      });
      child.once('error', (error) => {
        stopTimer();
        reject(new TinyscribeError('SIM_PSPHINX_SPAWN', `could not start ${command}: ${errorMessage(error)}`, { cause: error }));
      });
      child.once('close', (code, signal) => {
        stopTimer();
        if (timedOut) {
          reject(new TinyscribeError('SIM_PSPHINX_TIMEOUT', `${command} did not finish within ${this.timeoutMs} ms`));
        } else if (code !== 0) {
          const log = errorLines(errTail.toString('utf8'));
          reject(new TinyscribeError('SIM_PSPHINX_FAILED', `${command} exited with ${code ?? signal}: ${log}`));
        } else {
          resolve(Buffer.concat(out).toString('utf8'));
        }
      });
    });
  }
}

/**
 * An OpenAI-compatible backend for the Whisper stand-in: `WhisperStandIn.start({ transcriber:
 * pocketsphinxTranscriber(recognizer) })` serves pocketsphinx's hypothesis with the stand-in's endpoint,
 * fields and validation. A factory, not a constant, so the process limit belongs to one recognizer.
 */
export function pocketsphinxTranscriber(recognizer: PocketsphinxRecognizer): TranscribeFn {
  return async (pcm, sampleRate) => {
    const pcm16k = sampleRate === RECOGNIZER_SAMPLE_RATE ? pcm : resampleMono(pcm, sampleRate, RECOGNIZER_SAMPLE_RATE);
    const text = await recognizer.recognize(pcm16k);
    // Same convention as the DTMF backend: clearly speech vs clearly silence.
    return { text, noSpeechProb: text === '' ? 0.9 : 0.02 };
  };
}

/** `word start end confidence`, as printed by `-time yes`. */
const WORD_LINE = /^(\S+) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/;
/** `<s>`, `</s>`, `<sil>`, `[NOISE]`, `[SPEECH]`, `++GARBAGE++`: the model's filler words. */
const FILLER = /^(<.*>|\[.*\]|\+\+.*\+\+)$/;

/** Parses the CLI's stdout (`-time yes`): hypothesis lines, each followed by its word lines. */
export function parsePocketsphinxOutput(stdout: string): Pick<Recognition, 'text' | 'utterances' | 'words'> {
  const utterances: string[] = [];
  const words: RecognizedWord[] = [];
  for (const rawLine of stdout.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    const match = WORD_LINE.exec(line);
    if (match) {
      const word = match[1]!.toLowerCase();
      if (FILLER.test(word)) continue;
      words.push({
        word: word.replace(/\(\d+\)$/, ''), // alternate pronunciation marker
        startSec: Number(match[2]),
        endSec: Number(match[3]),
        confidence: Number(match[4]),
      });
    } else {
      utterances.push(line.toLowerCase().replace(/\s+/g, ' '));
    }
  }
  return { text: utterances.join(' '), utterances, words };
}

/** ERROR/FATAL lines of a pocketsphinx log, or its last line if there are none. */
function errorLines(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /^(ERROR|FATAL)/.test(l));
  return (errors.length > 0 ? errors : lines.slice(-1)).join(' | ') || '(no log)';
}

/** First executable `name` on PATH, or undefined. */
async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
