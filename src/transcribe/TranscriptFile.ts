import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { srtCue, transcriptTextLine } from './srt.js';
import type { Logger } from '../util/logger.js';

/** One spoken line for the transcript files. */
export interface TranscriptEntry {
  /** Epoch ms the speech started (the segment's own timeline). */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly name: string;
  /** Plain text as the API returned it (files are not Markdown: nothing is escaped). */
  readonly text: string;
}

/** The two finished files. */
export interface TranscriptFiles {
  readonly lines: number;
  readonly txt: Buffer;
  readonly srt: Buffer;
}

/**
 * A session's transcript on disk: every posted line is appended to `<session>.txt` and `<session>.srt`
 * at once, so memory stays flat however long the meeting runs and a crash loses nothing posted.
 * Times are offsets from the session start.
 */
export class TranscriptFile {
  private readonly txtPath: string;
  private readonly srtPath: string;
  private writing: Promise<void>;
  private cues = 0;
  private failed = false;

  constructor(
    dir: string,
    sessionId: string,
    private readonly sessionStartedAt: number,
    private readonly logger: Logger,
  ) {
    this.txtPath = join(dir, `${sessionId}.txt`);
    this.srtPath = join(dir, `${sessionId}.srt`);
    // Caught here: an unhandled rejection would end the process; append() reports the failure when it writes.
    this.writing = mkdir(dir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => this.logger.warn('could not create the transcript folder', { dir, error }),
    );
  }

  /** Lines appended so far. */
  get lineCount(): number {
    return this.cues;
  }

  /** Appends one line to both files (in call order). Never throws; a failed write is logged once. */
  append(entry: TranscriptEntry): void {
    const offset = entry.startedAt - this.sessionStartedAt;
    const index = ++this.cues;
    const txt = transcriptTextLine(offset, entry.name, entry.text);
    const srt = srtCue(index, offset, offset + entry.durationMs, entry.name, entry.text);
    this.writing = this.writing
      .then(async () => {
        await appendFile(this.txtPath, txt);
        await appendFile(this.srtPath, srt);
      })
      .catch((error: unknown) => {
        if (!this.failed) this.logger.error('could not append to the transcript file', { file: this.txtPath, error });
        this.failed = true;
      });
  }

  /** Waits for pending appends and reads both files back (empty buffers when nothing was said). */
  async finish(): Promise<TranscriptFiles> {
    await this.writing;
    const read = (path: string) => readFile(path).catch(() => Buffer.alloc(0));
    return { lines: this.cues, txt: await read(this.txtPath), srt: await read(this.srtPath) };
  }

  /** Deletes both files (after they were posted). */
  async remove(): Promise<void> {
    await this.writing;
    await Promise.all([rm(this.txtPath, { force: true }), rm(this.srtPath, { force: true })]);
  }
}
