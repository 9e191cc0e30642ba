import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Segment, SegmentMeta } from '../audio/Segment.js';
import type { Clock } from '../util/Clock.js';
import { systemClock } from '../util/Clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import type { SpoolEntry } from './SpoolEntry.js';
import { SpoolError } from './SpoolError.js';
import { SpoolFileSegment } from './SpoolFileSegment.js';
import {
  encodeSpoolRecord,
  parseSpoolFileName,
  readSpoolFile,
  spoolFileBytes,
  spoolFileHeader,
  spoolFileName,
  spoolFileTrailer,
} from './spoolFormat.js';
import type { WarningListener } from './TranscriptEvents.js';

export type { SpoolEntry } from './SpoolEntry.js';

/** Defaults of {@link SpoolOptions}. */
export const SPOOL_DEFAULTS = {
  /** Fly volumes are ≥ 1 GB; half a GiB is ~4.6 h of 16 kHz mono speech. */
  maxBytes: 512 * 1024 * 1024,
  readChunkBytes: 64 * 1024,
  maxQuarantineFiles: 16,
} as const;

/** Name of the subdirectory that holds unreadable files, kept for inspection. */
export const QUARANTINE_DIR = 'quarantine';

export interface SpoolOptions {
  /** Directory of the spool (a Fly volume in production); created if missing. */
  readonly dir: string;
  /** Cap on the total size of spool files; the oldest entries are dropped to stay under it. */
  readonly maxBytes?: number;
  /** Size of each read when a spooled segment is uploaded. */
  readonly readChunkBytes?: number;
  /** Quarantined files beyond this many are deleted, oldest first. */
  readonly maxQuarantineFiles?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Told about dropped (size cap) and quarantined files, so the bot can tell the channel. */
  readonly onWarning?: WarningListener;
  readonly clock?: Clock;
}

/** Options of {@link Spool.write}. */
export interface SpoolWriteOptions {
  /** Live upload attempts already made (stored in the metadata). Default 0. */
  readonly attempts?: number;
}

const noop = (): void => {};

/*
 * Design note: the spool is where speech waits when it cannot be uploaded now (server down past the client's
 * retry budget, the PCM pool under pressure, shutdown). Nothing is lost unless the size cap forces it, and then
 * loudly:
 *
 *   pipeline ── retryable failure / pool pressure / close ──▶ write: <name>.tmp → fsync → rename → fsync(dir)
 *                                                                         │
 *   spool dir (a Fly volume)   0000017…-0000000000000007-1a2b3c4d.wav     │  name = startedAt-id-random: sorted
 *                              0000017…-0000000000000009-9f8e7d6c.wav  ◀──┘  by name is oldest first
 *                              quarantine/  (unreadable files, kept for inspection, capped)
 *        ▲ over maxBytes: the OLDEST entry is deleted, spool_dropped_segments_total++, warning posted in its channel
 *        │
 *   SpoolDrainer: oldest first, one at a time; on start-up (after a crash or redeploy), after each spool write
 *   (after its backoff: 2 s doubling to 60 s) and at once when a live upload succeeds. The transcript is posted
 *   with its original time, and the file is deleted only AFTER Discord accepted the message carrying it (or the
 *   line was dropped on purpose). At-least-once: a crash in between posts the line again after the restart,
 *   never loses it (the entry's life in detail: design note in SpoolDrainer.ts).
 *
 * Each file is a playable WAV (exact header) followed by a JSON trailer with the segment's metadata (guild,
 * channel, user, session, start time, loudness), so one file is self-contained.
 */

/**
 * Crash-safe disk queue of segments that could not be uploaded yet (format: spoolFormat.ts).
 *
 * A write goes to `<name>.tmp`, is fsynced, renamed to `<name>` and the directory is fsynced: after
 * kill -9 a file either exists complete or only as `.tmp`, which {@link Spool.open} deletes. Files that
 * are unreadable anyway (disk trouble, strangers) are moved to `quarantine/` and never block the queue.
 * Writes are serialised (one file at a time) so the size accounting stays exact.
 */
export class Spool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly readChunkBytes: number;
  private readonly maxQuarantineFiles: number;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly onWarning: WarningListener;
  private readonly clock: Clock;
  /** Sorted by name = oldest first. */
  private readonly entries: SpoolEntry[] = [];
  private totalBytes = 0;
  private writeTail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
    this.readChunkBytes = options.readChunkBytes ?? SPOOL_DEFAULTS.readChunkBytes;
    this.maxQuarantineFiles = options.maxQuarantineFiles ?? SPOOL_DEFAULTS.maxQuarantineFiles;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.onWarning = options.onWarning ?? noop;
    this.clock = options.clock ?? systemClock;
    const m = this.metrics;
    m.define('spool_segments', 'gauge', 'Segments waiting in the disk spool');
    m.define('spool_bytes', 'gauge', 'Bytes of spool files');
    m.define('spool_dropped_segments_total', 'counter', 'Spooled segments deleted unsent because the spool hit its size cap');
    m.define('spool_corrupt_files_total', 'counter', 'Spool files found truncated or unreadable');
    m.define('spool_tmp_files_removed_total', 'counter', 'Half-written *.tmp spool files deleted at start-up');
    m.define('spool_quarantined_total', 'counter', 'Spool files moved to quarantine/');
  }

  /** Opens (creates) the spool directory: deletes leftover `*.tmp`, quarantines unreadable files, indexes the rest. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.scan();
    return spool;
  }

  /** Number of entries. */
  get count(): number {
    return this.entries.length;
  }

  /** Total bytes of entries. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Entries, oldest (by startedAt, then id) first. */
  list(): readonly SpoolEntry[] {
    return [...this.entries];
  }

  /** The oldest entry, if any (no copy, for the drainer's loop). */
  oldest(): SpoolEntry | undefined {
    return this.entries[0];
  }

  /** Whether `entry` is still stored (it may have been dropped by the size cap or removed). */
  has(entry: SpoolEntry): boolean {
    return this.indexOf(entry.name) >= 0;
  }

  /**
   * Stores `segment` (streams its chunks; no concatenation). Resolves once the file is durable.
   * Does not release the segment: the caller does, whatever the outcome. Rejects with SpoolError
   * (SPOOL_WRITE, SPOOL_TOO_LARGE, SPOOL_CLOSED).
   */
  write(segment: Segment, options: SpoolWriteOptions = {}): Promise<SpoolEntry> {
    if (this.closed) return Promise.reject(new SpoolError('SPOOL_CLOSED', 'spool is closed'));
    const job = this.writeTail.then(() => this.writeNow(segment, options.attempts ?? 0));
    this.writeTail = job.then(noop, noop);
    return job;
  }

  /** Opens an entry for upload. Rejects with SPOOL_CORRUPT if the file is gone or unreadable. */
  async open(entry: SpoolEntry): Promise<SpoolFileSegment> {
    const path = join(this.dir, entry.name);
    let file: FileHandle | undefined;
    try {
      file = await open(path, 'r');
      const { size } = await file.stat();
      const { dataBytes, record } = await readSpoolFile(file, size);
      return new SpoolFileSegment(entry, path, dataBytes, record, this.readChunkBytes);
    } catch (error) {
      if (error instanceof SpoolError) throw error;
      throw new SpoolError('SPOOL_CORRUPT', `cannot read ${entry.name}: ${errorMessage(error)}`, { cause: error });
    } finally {
      await file?.close().catch(noop);
    }
  }

  /** Deletes an entry (after a successful upload). Missing files are fine; other errors are logged, not thrown. */
  async remove(entry: SpoolEntry): Promise<void> {
    this.unindex(entry.name);
    await this.unlinkQuietly(entry.name);
  }

  /** Moves an entry to quarantine/ (unreadable, or rejected again and again) and warns. */
  async quarantine(entry: SpoolEntry, reason: unknown): Promise<void> {
    this.unindex(entry.name);
    await this.moveToQuarantine(entry.name, reason);
  }

  /** Refuses further writes and waits for the ones under way. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writeTail;
  }

  private async writeNow(segment: Segment, attempts: number): Promise<SpoolEntry> {
    if (this.closed) throw new SpoolError('SPOOL_CLOSED', 'spool is closed');
    const meta = segment.meta;
    const record = encodeSpoolRecord({ id: segment.id, meta, attempts, spooledAt: this.clock.now() });
    const dataBytes = segment.byteLength;
    const fileBytes = spoolFileBytes(dataBytes, record.length);
    if (fileBytes > this.maxBytes) {
      throw new SpoolError('SPOOL_TOO_LARGE', `segment needs ${fileBytes} B, spool cap is ${this.maxBytes} B`);
    }
    await this.makeRoom(fileBytes);
    const name = spoolFileName(meta.startedAt, segment.id, randomBytes(4).toString('hex'));
    const path = join(this.dir, name);
    const tmp = `${path}.tmp`;
    let file: FileHandle | undefined;
    try {
      file = await open(tmp, 'wx');
      await writeAll(file, spoolFileHeader(dataBytes, record.length));
      let written = 0;
      for await (const chunk of segment.chunks()) {
        await writeAll(file, chunk);
        written += chunk.byteLength;
      }
      if (written !== dataBytes) throw new Error(`segment yielded ${written} B but byteLength is ${dataBytes}`);
      await writeAll(file, spoolFileTrailer(dataBytes, record));
      await file.sync();
      await file.close();
      file = undefined;
      await rename(tmp, path);
    } catch (error) {
      await file?.close().catch(noop);
      await unlink(tmp).catch(noop);
      throw new SpoolError('SPOOL_WRITE', `cannot write ${name}: ${errorMessage(error)}`, { cause: error });
    }
    // The rename is durable only once the directory itself is synced.
    await this.syncDir();
    const parsed = parseSpoolFileName(name)!;
    const entry: SpoolEntry = { name, startedAt: parsed.startedAt, id: parsed.id, bytes: fileBytes };
    this.index(entry);
    return entry;
  }

  /** Drops the oldest entries until `fileBytes` more fit under the cap. */
  private async makeRoom(fileBytes: number): Promise<void> {
    while (this.totalBytes + fileBytes > this.maxBytes && this.entries.length > 0) {
      const victim = this.entries[0]!;
      const meta = await this.peekMeta(victim);
      this.unindex(victim.name);
      await this.unlinkQuietly(victim.name);
      this.metrics.inc('spool_dropped_segments_total');
      this.logger.warn('spool full: dropped the oldest segment', { file: victim.name, maxBytes: this.maxBytes });
      this.warn('Transcription backlog is full: the oldest untranscribed speech was dropped.', {
        code: 'SPOOL_DROPPED',
        file: victim.name,
        ...(meta === undefined ? {} : { segment: meta }),
      });
    }
  }

  /** Metadata of an entry for a warning; undefined if unreadable. */
  private async peekMeta(entry: SpoolEntry): Promise<SegmentMeta | undefined> {
    try {
      return (await this.open(entry)).meta;
    } catch {
      return undefined;
    }
  }

  private async scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found = await readdir(this.dir, { withFileTypes: true });
    for (const dirent of found) {
      if (!dirent.isFile()) continue; // quarantine/ and anything else that is not a plain file
      const name = dirent.name;
      if (name.endsWith('.tmp')) {
        // A write that never reached its rename (crash, kill -9): the segment was never acknowledged as stored.
        await this.unlinkQuietly(name);
        this.metrics.inc('spool_tmp_files_removed_total');
        this.logger.info('spool: deleted half-written file', { file: name });
        continue;
      }
      const entry = await this.validate(name);
      if (entry instanceof Error) {
        this.metrics.inc('spool_corrupt_files_total');
        await this.moveToQuarantine(name, entry);
        continue;
      }
      this.entries.push(entry);
      this.totalBytes += entry.bytes;
    }
    this.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.updateGauges();
    this.logger.info('spool opened', { dir: this.dir, segments: this.entries.length, bytes: this.totalBytes });
  }

  /** Checks one file completely (name, header, size, metadata); returns the error instead of throwing. */
  private async validate(name: string): Promise<SpoolEntry | Error> {
    const parsed = parseSpoolFileName(name);
    if (parsed === undefined) return new SpoolError('SPOOL_CORRUPT', `not a spool file name: ${name}`);
    let file: FileHandle | undefined;
    try {
      file = await open(join(this.dir, name), 'r');
      const { size } = await file.stat();
      await readSpoolFile(file, size);
      return { name, startedAt: parsed.startedAt, id: parsed.id, bytes: size };
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      await file?.close().catch(noop);
    }
  }

  private async moveToQuarantine(name: string, reason: unknown): Promise<void> {
    const quarantineDir = join(this.dir, QUARANTINE_DIR);
    // Prefix with the time so that trimming removes the oldest quarantined files first.
    const target = `${String(this.clock.now()).padStart(16, '0')}-${name}`;
    try {
      await mkdir(quarantineDir, { recursive: true });
      await rename(join(this.dir, name), join(quarantineDir, target));
      this.metrics.inc('spool_quarantined_total');
      await this.trimQuarantine(quarantineDir);
    } catch (error) {
      // Quarantine is a courtesy; what matters is that the file leaves the queue.
      this.logger.error('spool: cannot quarantine, deleting instead', { file: name, error });
      await this.unlinkQuietly(name);
    }
    this.logger.warn('spool: unreadable file quarantined', { file: name, reason });
    this.warn('A stored recording could not be read and was set aside.', { code: 'SPOOL_QUARANTINED', file: name, error: reason });
  }

  private async trimQuarantine(quarantineDir: string): Promise<void> {
    const names = (await readdir(quarantineDir)).sort();
    for (const old of names.slice(0, Math.max(0, names.length - this.maxQuarantineFiles))) {
      await unlink(join(quarantineDir, old)).catch(noop);
    }
  }

  private async unlinkQuietly(name: string): Promise<void> {
    try {
      await unlink(join(this.dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error('spool: cannot delete file', { file: name, error });
      }
    }
  }

  private async syncDir(): Promise<void> {
    let dir: FileHandle | undefined;
    try {
      dir = await open(this.dir, 'r');
      await dir.sync();
    } catch (error) {
      this.logger.debug('spool: directory fsync failed', { error });
    } finally {
      await dir?.close().catch(noop);
    }
  }

  private warn(message: string, warning: Parameters<WarningListener>[1]): void {
    try {
      this.onWarning(message, warning);
    } catch (error) {
      this.logger.error('onWarning listener threw', { error });
    }
  }

  private indexOf(name: string): number {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const here = this.entries[mid]!.name;
      if (here === name) return mid;
      if (here < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private index(entry: SpoolEntry): void {
    // New files are usually the newest, so search from the end.
    let at = this.entries.length;
    while (at > 0 && this.entries[at - 1]!.name > entry.name) at--;
    this.entries.splice(at, 0, entry);
    this.totalBytes += entry.bytes;
    this.updateGauges();
  }

  private unindex(name: string): void {
    const at = this.indexOf(name);
    if (at < 0) return;
    this.totalBytes -= this.entries[at]!.bytes;
    this.entries.splice(at, 1);
    this.updateGauges();
  }

  private updateGauges(): void {
    this.metrics.set('spool_segments', this.entries.length);
    this.metrics.set('spool_bytes', this.totalBytes);
  }
}

/** Writes all of `bytes` (FileHandle.write may write less than asked). */
async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}
