/**
 * On-disk format of one spool entry: ONE file, so that a single rename makes it visible atomically
 * (no sidecar that could be missing or stale after kill -9).
 *
 *   offset 0    44-byte canonical WAV header (RIFF/WAVE, fmt PCM 16 kHz mono s16, data = exact PCM size),
 *               written by audio/wav.ts; only the RIFF size is patched to also cover the trailer below
 *   44          PCM, `dataBytes` bytes
 *   44+data     0 or 1 pad byte (RIFF chunks are word-aligned)
 *   …           chunk "tsmd" (tinyscribe metadata): u32le length, UTF-8 JSON {@link SpoolRecord}, pad byte if odd
 *
 * Players ignore the unknown trailing chunk, so every spool file is also a playable WAV. A file is
 * valid only if its size is exactly what the header and trailer claim, which catches truncation.
 *
 * File names: `<startedAt, 16 digits>-<segment id, 16 digits>-<8 hex>.wav`, so that sorting the names
 * sorts by startedAt, then id; the random tail keeps names unique across restarts (ids restart at 0).
 */
import type { FileHandle } from 'node:fs/promises';
import type { SegmentMeta } from '../audio/Segment.js';
import { SAMPLE_RATE } from '../audio/Segment.js';
import type { WavInfo } from '../audio/wav.js';
import { parseWavHeader, WAV_HEADER_BYTES, writeWavHeader } from '../audio/wav.js';
import { SpoolError } from './SpoolError.js';

/** What the spool stores next to the PCM. */
export interface SpoolRecord {
  /** Id of the segment as it was in memory. */
  readonly id: number;
  readonly meta: SegmentMeta;
  /** Live upload attempts (each with the client's full retry budget) made before the segment was spooled. */
  readonly attempts: number;
  /** Epoch ms at which it was written. */
  readonly spooledAt: number;
}

/** Chunk id of the metadata trailer. */
export const SPOOL_META_CHUNK_ID = 'tsmd';
const FORMAT_VERSION = 1;
const CHUNK_HEADER_BYTES = 8;
/** Metadata larger than this is not ours (prompts are short); guards against allocating on garbage lengths. */
const MAX_RECORD_BYTES = 64 * 1024;
const NAME_PATTERN = /^(\d{16})-(\d{16})-([0-9a-f]{8})\.wav$/;

/** File name of an entry; lexical order = startedAt, then id. */
export function spoolFileName(startedAt: number, id: number, unique: string): string {
  return `${String(Math.max(0, Math.trunc(startedAt))).padStart(16, '0')}-${String(id).padStart(16, '0')}-${unique}.wav`;
}

/** Parses a name made by {@link spoolFileName}; undefined for anything else. */
export function parseSpoolFileName(name: string): { startedAt: number; id: number } | undefined {
  const match = NAME_PATTERN.exec(name);
  if (match === null) return undefined;
  return { startedAt: Number(match[1]), id: Number(match[2]) };
}

/** Serialises a record to the trailer's JSON bytes. */
export function encodeSpoolRecord(record: SpoolRecord): Buffer {
  const { meta } = record;
  const json = {
    v: FORMAT_VERSION,
    id: record.id,
    attempts: record.attempts,
    spooledAt: record.spooledAt,
    meta: {
      guildId: meta.guildId,
      voiceChannelId: meta.voiceChannelId,
      textChannelId: meta.textChannelId,
      userId: meta.userId,
      sessionId: meta.sessionId,
      startedAt: meta.startedAt,
      durationMs: meta.durationMs,
      // Digital silence is -Infinity dBFS, which JSON cannot hold; null stands for it.
      rmsDbfs: Number.isFinite(meta.rmsDbfs) ? meta.rmsDbfs : null,
      speechMs: meta.speechMs,
      language: meta.language,
      prompt: meta.prompt,
    },
  };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Total file size for `dataBytes` of PCM and `recordBytes` of metadata JSON. */
export function spoolFileBytes(dataBytes: number, recordBytes: number): number {
  return WAV_HEADER_BYTES + dataBytes + (dataBytes & 1) + CHUNK_HEADER_BYTES + recordBytes + (recordBytes & 1);
}

/** The 44-byte header of a spool file (exact data size; RIFF size includes the trailer). */
export function spoolFileHeader(dataBytes: number, recordBytes: number): Buffer {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  writeWavHeader(header, 0, dataBytes);
  header.writeUInt32LE(spoolFileBytes(dataBytes, recordBytes) - 8, 4);
  return header;
}

/** The bytes that follow the PCM: pad, "tsmd" chunk header, JSON, pad. */
export function spoolFileTrailer(dataBytes: number, record: Buffer): Buffer {
  const lead = dataBytes & 1;
  const trailer = Buffer.alloc(lead + CHUNK_HEADER_BYTES + record.length + (record.length & 1));
  trailer.write(SPOOL_META_CHUNK_ID, lead, 'latin1');
  trailer.writeUInt32LE(record.length, lead + 4);
  record.copy(trailer, lead + CHUNK_HEADER_BYTES);
  return trailer;
}

/** Reads and validates the header and trailer of an open spool file of `fileBytes` bytes. */
export async function readSpoolFile(file: FileHandle, fileBytes: number): Promise<{ dataBytes: number; record: SpoolRecord }> {
  if (fileBytes < WAV_HEADER_BYTES + CHUNK_HEADER_BYTES) throw corrupt(`file too short (${fileBytes} B)`);
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  await readFully(file, header, 0);
  let info: WavInfo;
  try {
    info = parseWavHeader(header);
  } catch (error) {
    throw corrupt('bad WAV header', error);
  }
  // Only what Spool.write produces is accepted: PCM right after a 44-byte header, 16 kHz mono.
  if (info.dataOffset !== WAV_HEADER_BYTES || info.sampleRate !== SAMPLE_RATE || info.channels !== 1) {
    throw corrupt(`unexpected WAV layout (data at ${info.dataOffset}, ${info.sampleRate} Hz, ${info.channels} ch)`);
  }
  const dataBytes = info.dataBytes;
  const chunkAt = WAV_HEADER_BYTES + dataBytes + (dataBytes & 1);
  if (chunkAt + CHUNK_HEADER_BYTES > fileBytes) throw corrupt(`truncated: ${fileBytes} B, PCM alone needs ${chunkAt}`);
  const chunkHeader = Buffer.alloc(CHUNK_HEADER_BYTES);
  await readFully(file, chunkHeader, chunkAt);
  if (chunkHeader.toString('latin1', 0, 4) !== SPOOL_META_CHUNK_ID) throw corrupt('no metadata chunk after the PCM');
  const recordBytes = chunkHeader.readUInt32LE(4);
  if (recordBytes > MAX_RECORD_BYTES) throw corrupt(`metadata chunk of ${recordBytes} B`);
  const expected = spoolFileBytes(dataBytes, recordBytes);
  if (expected !== fileBytes) throw corrupt(`size ${fileBytes} B, header and trailer say ${expected} B`);
  const json = Buffer.alloc(recordBytes);
  await readFully(file, json, chunkAt + CHUNK_HEADER_BYTES);
  return { dataBytes, record: decodeSpoolRecord(json) };
}

/** Parses and validates trailer JSON. */
export function decodeSpoolRecord(bytes: Buffer): SpoolRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw corrupt('metadata is not JSON', error);
  }
  if (!isObject(parsed) || parsed['v'] !== FORMAT_VERSION) throw corrupt('unknown metadata version');
  const meta = parsed['meta'];
  if (!isObject(meta)) throw corrupt('metadata has no meta object');
  const rms = meta['rmsDbfs'];
  const record: SpoolRecord = {
    id: num(parsed, 'id'),
    attempts: num(parsed, 'attempts'),
    spooledAt: num(parsed, 'spooledAt'),
    meta: {
      guildId: str(meta, 'guildId'),
      voiceChannelId: str(meta, 'voiceChannelId'),
      textChannelId: str(meta, 'textChannelId'),
      userId: str(meta, 'userId'),
      sessionId: str(meta, 'sessionId'),
      startedAt: num(meta, 'startedAt'),
      durationMs: num(meta, 'durationMs'),
      rmsDbfs: rms === null ? -Infinity : num(meta, 'rmsDbfs'),
      speechMs: num(meta, 'speechMs'),
      ...optionalStr(meta, 'language'),
      ...optionalStr(meta, 'prompt'),
    },
  };
  return record;
}

/** Reads exactly `target.length` bytes at `position` or throws SPOOL_CORRUPT. */
export async function readFully(file: FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await file.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw corrupt(`unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

function corrupt(message: string, cause?: unknown): SpoolError {
  return new SpoolError('SPOOL_CORRUPT', message, cause === undefined ? undefined : { cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(source: Record<string, unknown>, key: string): number {
  const value = source[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw corrupt(`metadata field ${key} is not a number`);
  return value;
}

function str(source: Record<string, unknown>, key: string): string {
  const value = source[key];
  if (typeof value !== 'string') throw corrupt(`metadata field ${key} is not a string`);
  return value;
}

function optionalStr(source: Record<string, unknown>, key: 'language' | 'prompt'): { language?: string } | { prompt?: string } {
  const value = source[key];
  if (value === undefined) return {};
  if (typeof value !== 'string') throw corrupt(`metadata field ${key} is not a string`);
  return { [key]: value };
}
