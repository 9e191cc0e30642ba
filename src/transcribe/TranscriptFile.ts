import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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

/** Where a transcript belongs, kept next to it so a transcript left by a crash can still be posted. */
export interface TranscriptOwner {
  readonly guildId: string;
  readonly voiceChannelId: string;
  readonly textChannelId: string;
  readonly attachmentLimit: number;
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
  private readonly ownerPath: string;
  private writing: Promise<void>;
  private cues = 0;
  private failed = false;

  constructor(
    dir: string,
    sessionId: string,
    private readonly sessionStartedAt: number,
    private readonly logger: Logger,
    owner?: TranscriptOwner,
  ) {
    this.txtPath = join(dir, `${sessionId}.txt`);
    this.srtPath = join(dir, `${sessionId}.srt`);
    this.ownerPath = join(dir, `${sessionId}.json`);
    // Caught here: an unhandled rejection would end the process; append() reports the failure when it writes.
    this.writing = mkdir(dir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => this.logger.warn('could not create the transcript folder', { dir, error }),
    );
    if (owner) {
      this.writing = this.writing.then(() =>
        writeFile(this.ownerPath, JSON.stringify(owner)).catch((error: unknown) => this.logger.warn('could not write the transcript owner', { error })),
      );
    }
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
    await Promise.all([rm(this.txtPath, { force: true }), rm(this.srtPath, { force: true }), rm(this.ownerPath, { force: true })]);
  }
}

/** A transcript a previous process left behind (it crashed or was killed before posting it). */
export interface LeftoverTranscript {
  readonly owner: TranscriptOwner;
  readonly files: TranscriptFiles;
  /** Deletes it (once posted). */
  remove(): Promise<void>;
}

/** Finds transcripts left in `dir` by an earlier process; ones without a readable owner are skipped (and kept). */
export async function findLeftoverTranscripts(dir: string, logger: Logger): Promise<LeftoverTranscript[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: LeftoverTranscript[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const base = join(dir, name.slice(0, -'.json'.length));
    try {
      const owner = parseOwner(JSON.parse(await readFile(`${base}.json`, 'utf8')));
      const read = (path: string) => readFile(path).catch(() => Buffer.alloc(0));
      const txt = await read(`${base}.txt`);
      const srt = await read(`${base}.srt`);
      let lines = 0;
      for (const byte of txt) if (byte === 10) lines++;
      const remove = async () => {
        await Promise.all(['.txt', '.srt', '.json'].map((ext) => rm(`${base}${ext}`, { force: true })));
      };
      found.push({ owner, files: { lines, txt, srt }, remove });
    } catch (error) {
      logger.warn('skipped an unreadable leftover transcript', { file: name, error });
    }
  }
  return found;
}

function parseOwner(raw: unknown): TranscriptOwner {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const id = (k: string) => {
    const v = o[k];
    if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new Error(`owner.${k} is not an id`);
    return v;
  };
  const limit = o['attachmentLimit'];
  return {
    guildId: id('guildId'),
    voiceChannelId: id('voiceChannelId'),
    textChannelId: id('textChannelId'),
    attachmentLimit: typeof limit === 'number' && limit > 0 ? limit : 10 * 1024 * 1024,
  };
}
