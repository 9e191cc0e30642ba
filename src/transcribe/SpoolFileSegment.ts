import { open } from 'node:fs/promises';
import type { Segment, SegmentMeta } from '../audio/Segment.js';
import { WAV_HEADER_BYTES } from '../audio/wav.js';
import type { SpoolEntry } from './SpoolEntry.js';
import type { SpoolRecord } from './spoolFormat.js';
import { readFully } from './spoolFormat.js';

/** A segment whose PCM stays in its spool file and is read in fixed-size pieces on each `chunks()` call. */
export class SpoolFileSegment implements Segment {
  readonly id: number;
  readonly meta: SegmentMeta;
  /** Live upload attempts made before the segment was spooled. */
  readonly attempts: number;
  readonly spooledAt: number;

  constructor(
    readonly entry: SpoolEntry,
    private readonly path: string,
    readonly byteLength: number,
    record: SpoolRecord,
    private readonly chunkBytes: number,
  ) {
    this.id = record.id;
    this.meta = record.meta;
    this.attempts = record.attempts;
    this.spooledAt = record.spooledAt;
  }

  /** Opens the file anew on every call (each upload attempt) and yields the PCM in `chunkBytes` pieces. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const file = await open(this.path, 'r');
    try {
      let position = WAV_HEADER_BYTES;
      let left = this.byteLength;
      while (left > 0) {
        // A fresh buffer per piece, not one reused buffer: a socket may still hold the previous piece in its
        // write queue when the next one is requested. One allocation per 64 KiB of disk read is cheap.
        const piece = Buffer.allocUnsafe(Math.min(this.chunkBytes, left));
        await readFully(file, piece, position);
        position += piece.length;
        left -= piece.length;
        yield piece;
      }
    } finally {
      await file.close();
    }
  }

  /** Nothing to free: the file stays until the drainer deletes it after a successful upload. */
  release(): void {}
}
