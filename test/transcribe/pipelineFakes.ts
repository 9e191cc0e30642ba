import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioSource, Segment, SegmentMeta } from '../../src/audio/Segment.js';
import { TranscribeError } from '../../src/transcribe/TranscribeError.js';
import type { Transcriber, TranscriptionRequest, TranscriptionResult } from '../../src/transcribe/Transcriber.js';
import type { PipelineWarning, Transcript } from '../../src/transcribe/TranscriptEvents.js';
import { createLogger, type Logger } from '../../src/util/logger.js';

/** Logger that records nothing visible (set TS_LOG=debug to see lines). */
export function testLogger(): Logger {
  return createLogger({ level: (process.env['TS_LOG'] as 'debug' | undefined) ?? 'silent' });
}

export function meta(overrides: Partial<SegmentMeta> = {}): SegmentMeta {
  return {
    guildId: 'g1',
    voiceChannelId: 'v1',
    textChannelId: 't1',
    userId: 'u1',
    sessionId: 's1',
    startedAt: 1_700_000_000_000,
    durationMs: 2_000,
    rmsDbfs: -20,
    speechMs: 1_800,
    ...overrides,
  };
}

/**
 * An in-memory segment whose PCM spells `word` (UTF-8, zero-padded to `bytes`), so a fake transcriber can
 * "transcribe" it back and prove that exactly these bytes travelled (through the spool too).
 */
export class MemSegment implements Segment {
  readonly byteLength: number;
  releases = 0;
  private readonly pcm: Buffer;

  constructor(
    readonly id: number,
    readonly meta: SegmentMeta,
    word: string,
    bytes = 640,
    private readonly chunkBytes = 256,
    private readonly mode: 'sync' | 'async' = 'sync',
  ) {
    this.pcm = Buffer.alloc(Math.max(bytes, Buffer.byteLength(word)));
    this.pcm.write(word, 0, 'utf8');
    // Non-zero filler after a zero terminator makes chunk boundaries and offsets matter.
    for (let i = Buffer.byteLength(word) + 1; i < this.pcm.length; i++) this.pcm[i] = (i * 7 + 1) & 0xff || 1;
    this.byteLength = this.pcm.length;
  }

  get released(): boolean {
    return this.releases > 0;
  }

  /** The PCM as stored. */
  get bytes(): Buffer {
    return this.pcm;
  }

  chunks(): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
    if (this.released) throw new Error(`segment ${this.id} read after release`);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < this.pcm.length; at += this.chunkBytes) parts.push(this.pcm.subarray(at, at + this.chunkBytes));
    if (this.mode === 'sync') return parts;
    return (async function* () {
      for (const part of parts) {
        await new Promise((resolve) => setImmediate(resolve));
        yield part;
      }
    })();
  }

  release(): void {
    this.releases++;
  }
}

/** Reads an AudioSource completely. */
export async function readAll(audio: AudioSource): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of audio.chunks()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** The word a MemSegment's PCM spells. */
export function wordOf(pcm: Buffer): string {
  const end = pcm.indexOf(0);
  return pcm.toString('utf8', 0, end < 0 ? pcm.length : end);
}

/** One transcribe() call the test can answer. */
export interface Call {
  readonly word: string;
  readonly bytes: number;
  readonly request: TranscriptionRequest;
  readonly at: number;
  resolve(result?: Partial<TranscriptionResult>): void;
  reject(error: unknown): void;
}

/**
 * A Transcriber that reads the whole audio (like a real upload), decodes the word, and then either answers
 * by `auto` or waits for the test to resolve/reject the call. Aborts reject like the real client does.
 */
export class FakeTranscriber implements Transcriber {
  readonly calls: Call[] = [];
  readonly pending: Call[] = [];
  /** Immediate answer; return an Error to fail; undefined = leave the call pending. */
  auto: ((word: string) => Partial<TranscriptionResult> | Error | undefined) | undefined;
  /** When false, abort signals are ignored (a hung server). */
  honourAbort = true;

  constructor(private readonly now: () => number = Date.now) {}

  async transcribe(request: TranscriptionRequest): Promise<TranscriptionResult> {
    const pcm = await readAll(request.audio);
    if (pcm.length !== request.audio.byteLength) throw new Error('byteLength mismatch');
    const word = wordOf(pcm);
    return new Promise<TranscriptionResult>((resolve, reject) => {
      let settled = false;
      const call: Call = {
        word,
        bytes: pcm.length,
        request,
        at: this.now(),
        resolve: (result) => {
          if (settled) return;
          settled = true;
          this.drop(call);
          resolve({ text: word, ...result });
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          this.drop(call);
          reject(error);
        },
      };
      this.calls.push(call);
      this.pending.push(call);
      if (this.honourAbort) {
        request.signal?.addEventListener('abort', () => call.reject(new TranscribeError('TRX_ABORTED', 'aborted', { retryable: true })), { once: true });
      }
      const answer = this.auto?.(word);
      if (answer instanceof Error) call.reject(answer);
      else if (answer !== undefined) call.resolve(answer);
    });
  }

  /** The pending call for `word`. */
  call(word: string): Call {
    const found = this.pending.find((c) => c.word === word);
    if (!found) throw new Error(`no pending call for ${word}; pending: ${this.pending.map((c) => c.word).join(',')}`);
    return found;
  }

  private drop(call: Call): void {
    const at = this.pending.indexOf(call);
    if (at >= 0) this.pending.splice(at, 1);
  }
}

export const serverDown = (): TranscribeError =>
  new TranscribeError('TRX_RETRIES_EXHAUSTED', 'server unavailable after 3 attempts', { retryable: true, attempts: 3, status: 503 });

export const badRequest = (): TranscribeError =>
  new TranscribeError('TRX_HTTP_STATUS', 'HTTP 400: Audio file is too short', { retryable: false, status: 400 });

/** What OpenAI says to a wrong key (its body echoes the key, masked); as TranscriptionClient reports it. */
export const OPENAI_401_BODY = '{"error":{"message":"Incorrect API key provided: sk-rotat*****-key.","code":"invalid_api_key"}}';

export const rejectedKey = (): TranscribeError =>
  new TranscribeError('TRX_HTTP_STATUS', `transcription API answered HTTP 401: ${OPENAI_401_BODY}`, {
    retryable: true,
    serviceFault: true,
    status: 401,
    bodyExcerpt: OPENAI_401_BODY,
  });

/** A 200 whose body is a proxy's HTML maintenance page. */
export const maintenancePage = (): TranscribeError =>
  new TranscribeError('TRX_BAD_RESPONSE', 'verbose_json response is not JSON', {
    retryable: true,
    serviceFault: true,
    bodyExcerpt: '<html><body>Down for maintenance</body></html>',
  });

/** Polls `condition` (real time) until true; fails the test after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets pending I/O and promise chains run (real time, short). */
export async function settle(ms = 30): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collects transcripts and warnings. */
export class Sink {
  readonly transcripts: Transcript[] = [];
  readonly warnings: { message: string; warning: PipelineWarning }[] = [];
  readonly onTranscript = (t: Transcript): void => {
    this.transcripts.push(t);
  };
  readonly onWarning = (message: string, warning: PipelineWarning): void => {
    this.warnings.push({ message, warning });
  };

  get texts(): string[] {
    return this.transcripts.map((t) => (t.fromSpool ? `${t.text} (spool)` : t.text));
  }
}

/** A fresh temporary directory and its cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tinyscribe-spool-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
