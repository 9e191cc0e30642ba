import type { Clock } from '../util/Clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { resolveAudioOptions, type AudioOptions } from './AudioOptions.js';
import { AUDIO_METRIC } from './audioMetrics.js';
import type { DecoderPool } from './DecoderPool.js';
import { SILENCE_DBFS, storeFrameRmsDbfs } from './energy.js';
import type { OpusDecoder } from './OpusDecoder.js';
import type { PcmSlabPool } from './PcmSlabPool.js';
import { NO_SSRC, REORDER, ReorderBuffer, type OrderedPacketSink, type OrderedRtp } from './ReorderBuffer.js';
import { FRAME_BYTES, FRAME_MS, type Segment, type SegmentMeta } from './Segment.js';
import { SlabSegment } from './SlabSegment.js';

/*
 * Design note: one speaker's segmenter. @discordjs/voice hands us bare Opus packets; RtpHeaderTap reads each
 * datagram's RTP sequence and timestamp just before the library does (the header is not encrypted in the
 * rtpsize modes), so the segmenter places every packet on the AUDIO's own 48 kHz timeline, not on arrival time.
 * UDP may deliver a packet after a later one, so RTP packets first pass a small ReorderBuffer (sequence order):
 *
 *   arrival:  f0 f1 f3 f2 f4 ...   f3 is held (≤ reorderHoldMs, ≤ ceil(reorderHoldMs/20) packets) until f2 comes,
 *   placed:   f0 f1 f2 f3 f4 ...   then both go on in order (audio_reordered_packets); in-order packets never wait.
 *             If f2 never comes the hold expires (next packet, or checkIdle) and the gap is concealed as below;
 *             a packet behind what was already placed is dropped (audio_late_packets). Held packets are always
 *             placed before a seal (checkIdle, flush, close), a new SSRC, or a packet without RTP, so nothing is
 *             stuck or moved across segments.
 *
 *   RTP timestamp ──▶  |f0|f1|f2|  |f4|f5|......(1.4 s, no packets)......|f76|f77|  ...
 *   20 ms slots        |  audio |PLC| audio |                               | new segment
 *                                 ▲ hole ≤ maxPlcMs (200): Opus concealment, durations stay true
 *                      hole < silenceGapMs: digital silence, at most maxInsertedSilenceMs (≤ 1 s), never ∝ jump
 *                      hole ≥ silenceGapMs, a backwards jump, or a new SSRC (user rejoined): seal, start anew
 *                      no packet for silenceGapMs of wall time (checkIdle, Discord sends nothing in silence): seal
 *
 * Wrap-around is plain u32/u16 arithmetic ((ts - last) >>> 0), so 2^32 → 0 and 65535 → 0 are ordinary steps.
 * Each packet fills exactly one 640-byte slot copied into slabs of the shared PcmSlabPool (no per-packet
 * allocation of ours; the native decode returns its own Buffer). At maxSegmentMs the segment is cut at the
 * quietest 20 ms of its last splitSearchMs. At seal time a segment with less than minSpeechMs of frames above
 * speechThresholdDbfs (silence, −60 dBFS noise) is dropped, its slabs freed; otherwise it is handed on with its
 * slabs (SlabSegment), which stay owned until the server has answered or the spool holds a copy.
 * Without RTP (tap not attached) the same rules run on arrival time with a jitter allowance.
 */

/**
 * RTP header fields of the packet being delivered (read by the voice session's UDP tap).
 * Read during the call only, never kept: the session can pass one reused object (e.g. its RtpHeaderTap).
 */
export interface RtpInfo {
  /** u16, wraps 65535 → 0. */
  readonly sequence: number;
  /** u32 on a 48 kHz clock, +960 per 20 ms frame; wraps 2^32 → 0. */
  readonly timestamp: number;
  /** When given, a change of SSRC ends the segment (a new stream). */
  readonly ssrc?: number;
}

/** The parts of a segment's meta that are fixed for a speaker in a session. */
export type SegmentMetaBase = Omit<SegmentMeta, 'startedAt' | 'durationMs' | 'rmsDbfs' | 'speechMs'>;

/** Collaborators of a {@link SpeakerSegmenter}. */
export interface SpeakerSegmenterDeps {
  readonly pool: PcmSlabPool;
  readonly decoders: DecoderPool;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /**
   * Receives each sealed segment, which it then owns (it must call release()). Called synchronously from
   * onPacket/checkIdle/flush. If it throws, the error is counted and logged and the segment is released.
   */
  readonly onSegment: (segment: Segment) => void;
  /** Source of segment ids; pass one shared counter so ids are unique across speakers. Default: per speaker, from 1. */
  readonly nextSegmentId?: () => number;
  readonly logger?: Logger;
}

/** 48 kHz RTP ticks in one 20 ms frame. */
const RTP_TICKS_PER_FRAME = 960;
const RTP_TICKS_PER_MS = 48;
const U32_HALF = 0x80000000;
const U32_RANGE = 0x100000000;
/** The share of loudest frames whose mean power is a segment's rmsDbfs. */
const LOUDEST_FRACTION = 0.1;

/** What produced a 20 ms frame; kept per frame to trim a segment's end. */
const KIND_AUDIO = 0;
const KIND_CONCEALED = 1;
const KIND_INSERTED_SILENCE = 2;
/** Decoded from the 3-byte Opus silence frame F8 FF FE that clients send at the end of a talk spurt. */
const KIND_SILENCE_PACKET = 3;

/**
 * Turns one speaker's Opus packets into sealed, time-true PCM segments held in the shared slab pool.
 * One instance per speaker, reused across segments; all working memory is allocated in the constructor.
 *
 * Timeline: the RTP timestamp is the authority (wrap-safe u32 arithmetic), packets taken in RTP sequence order
 * (a ReorderBuffer holds the few that overtook a missing one, for at most reorderHoldMs); without RTP, arrival time.
 * Each packet fills exactly one 20 ms slot (Discord sends 20 ms frames; a packet the decoder rejects, or
 * one that decodes to any other length, is counted as corrupt and its slot concealed with PLC). Holes: ≤ maxPlcMs → PLC; shorter than
 * silenceGapMs → digital silence capped at maxInsertedSilenceMs; longer, backwards, or a new SSRC → the
 * segment is sealed and a new one starts. checkIdle() seals after silenceGapMs of wall-clock quiet.
 */
export class SpeakerSegmenter {
  private readonly o: AudioOptions;
  private readonly base: SegmentMetaBase;
  private readonly pool: PcmSlabPool;
  private readonly decoders: DecoderPool;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly onSegment: (segment: Segment) => void;
  private readonly nextSegmentId: () => number;
  private readonly logger: Logger | undefined;

  private readonly maxFrames: number;
  private readonly lateWindowTicks: number;
  /** Puts RTP packets back in sequence order before they are placed (see the design note). */
  private readonly reorder: ReorderBuffer;
  /** The reorder buffer's sink: place() for an RTP packet. Made once here, so delivering allocates nothing. */
  private readonly placeRtp: OrderedPacketSink;
  /** Slab indices of the open segment, in order (capacity: one max-length segment). */
  private readonly slabs: Int32Array;
  private slabCount = 0;
  /** Whole 20 ms frames in the open segment; its PCM is frames × 640 bytes. */
  private frames = 0;
  private readonly frameDb: Float32Array;
  private readonly frameKind: Uint8Array;
  /** Scratch for the loudness sort at seal time. */
  private readonly sortScratch: Float32Array;
  /** Scratch for one frame copied out of the slabs (the tail of a split segment). */
  private readonly frameScratch = Buffer.alloc(FRAME_BYTES);
  /** Decoding an empty packet runs Opus packet-loss concealment. */
  private readonly emptyPacket = Buffer.alloc(0);

  private open = false;
  private closed = false;
  private startedAt = 0;
  private decoder: OpusDecoder | null = null;
  private localIds = 0;

  /** Wall time of the last packet (for checkIdle). */
  private lastArrivalMs = Number.NEGATIVE_INFINITY;
  /** RTP state of the previous packet; `rtpValid` is false when it had none. */
  private rtpValid = false;
  private lastTs = 0;
  private lastSeq = 0;
  private lastSsrc = -1;
  /** Arrival-time timeline: wall time `anchorMs` is timeline frame 0; `anchorFrames` slots passed since. */
  private anchorMs = 0;
  private anchorFrames = 0;
  /** Packets reported lost (decrypt failures) since the last packet; used only without RTP. */
  private pendingLost = 0;

  /** Per-segment results of measure(), kept in fields to avoid returning an object. */
  private measuredSpeechMs = 0;
  private measuredRmsDbfs = SILENCE_DBFS;

  constructor(base: SegmentMetaBase, deps: SpeakerSegmenterDeps, options: Partial<AudioOptions> = {}) {
    this.o = resolveAudioOptions(options);
    this.base = base;
    this.pool = deps.pool;
    this.decoders = deps.decoders;
    this.clock = deps.clock;
    this.metrics = deps.metrics;
    this.onSegment = deps.onSegment;
    this.nextSegmentId = deps.nextSegmentId ?? (() => ++this.localIds);
    this.logger = deps.logger;
    this.maxFrames = this.o.maxSegmentMs / FRAME_MS;
    this.lateWindowTicks = Math.max(FRAME_MS, this.o.maxPlcMs) * RTP_TICKS_PER_MS;
    this.slabs = new Int32Array(Math.ceil((this.maxFrames * FRAME_BYTES) / this.pool.slabBytes));
    this.frameDb = new Float32Array(this.maxFrames);
    this.frameKind = new Uint8Array(this.maxFrames);
    this.sortScratch = new Float32Array(this.maxFrames);
    this.placeRtp = (opus, rtp) => this.place(opus, rtp);
    // A packet up to silenceGapMs behind is late; further behind it can only be a new stream (sequence reset).
    const depth = Math.ceil(this.o.reorderHoldMs / FRAME_MS);
    this.reorder = new ReorderBuffer(depth, this.o.reorderHoldMs, this.o.silenceGapMs / FRAME_MS, this.clock, this.placeRtp);
  }

  /** True while a segment is being built. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Milliseconds of PCM in the open segment. */
  get bufferedMs(): number {
    return this.frames * FRAME_MS;
  }

  /** True while this speaker holds a decoder from the pool. */
  get hasDecoder(): boolean {
    return this.decoder !== null;
  }

  /**
   * One Opus packet from this speaker, with its RTP header fields or null when the tap had none.
   * Per-packet path: this code allocates nothing (no closures, arrays, objects or strings; the reorder buffer
   * keeps a reference to `opus`, never a copy); the only allocation is the new Buffer that the native decode()
   * returns. Never throws, never blocks.
   */
  onPacket(opus: Buffer, rtp: RtpInfo | null): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.lastArrivalMs = now;
    if (rtp === null) {
      // Arrival-time path, as without a reorder buffer; RTP packets still held go first so none is overtaken.
      this.reorder.drain();
      this.place(opus, null);
      return;
    }
    const result = this.reorder.push(opus, rtp);
    if (result === REORDER.late || result === REORDER.duplicate) this.metrics.inc(AUDIO_METRIC.latePackets);
    else if (result === REORDER.reordered) this.metrics.inc(AUDIO_METRIC.reorderedPackets);
  }

  /**
   * Places one packet on the timeline: RTP ones in sequence order (from the reorder buffer), others (rtp null) as
   * they arrive. Per-packet path: allocates nothing (times and u32 RTP fields are read from objects, not passed as
   * arguments, which V8 may box on a call it does not inline).
   */
  private place(opus: Buffer, rtp: OrderedRtp | null): void {
    const now = rtp !== null ? rtp.arrivedAt : this.lastArrivalMs;
    if (this.decoder === null) {
      this.decoder = this.decoders.acquire();
      if (this.decoder === null) {
        this.metrics.inc(AUDIO_METRIC.decoderUnavailable);
        this.metrics.inc(AUDIO_METRIC.droppedMs, FRAME_MS);
        return;
      }
    }

    let missing = 0; // 20 ms slots between the previous packet and this one
    if (!this.open) {
      this.startSegment(now);
    } else if (rtp !== null && this.rtpValid) {
      const step = (rtp.timestamp - this.lastTs) >>> 0;
      const newSsrc = rtp.ssrc !== NO_SSRC && rtp.ssrc !== this.lastSsrc;
      if (newSsrc) {
        this.restart(now);
      } else if (step === 0 || step > U32_HALF) {
        // Not forward. A duplicated packet or one the reorder buffer could not wait for (sequence not advancing,
        // shortly behind) lost its slot to PLC already: drop it. Anything else is a new stream.
        const back = step === 0 ? 0 : U32_RANGE - step;
        const seqStep = (rtp.sequence - this.lastSeq) & 0xffff;
        if (back <= this.lateWindowTicks && (seqStep === 0 || seqStep > 0x8000)) {
          this.metrics.inc(AUDIO_METRIC.latePackets);
          return;
        }
        this.restart(now);
      } else {
        missing = Math.round(step / RTP_TICKS_PER_FRAME) - 1;
      }
    } else {
      // No RTP for this packet or the previous one: measure the hole by arrival time, with a jitter allowance.
      const behind = now - (this.anchorMs + this.anchorFrames * FRAME_MS);
      if (behind > this.o.arrivalJitterMs) missing = Math.floor(behind / FRAME_MS);
      // Early (a burst after a stall, or less network delay than before): follow the earliest arrivals,
      // so that lateness is measured against the fastest path and a later hole is not hidden.
      else if (behind < 0) this.reanchor(now);
      if (this.pendingLost > missing) missing = this.pendingLost;
    }
    this.pendingLost = 0;

    if (missing > 0) this.fillHole(missing, now);

    if (rtp !== null) {
      this.rtpValid = true;
      this.lastTs = rtp.timestamp;
      this.lastSeq = rtp.sequence;
      if (rtp.ssrc !== NO_SSRC) this.lastSsrc = rtp.ssrc;
      // With RTP the arrival timeline only matters if the next packet lacks RTP: keep it at this packet.
      this.reanchor(now);
    } else {
      this.rtpValid = false;
    }
    this.decodePacket(opus);
  }

  /**
   * The session lost a packet of this speaker (decryption failed). Counted; with RTP the next packet's
   * timestamp shows the hole and it is concealed then (so nothing is counted twice); without RTP the
   * next packet conceals at least this many slots.
   */
  onLostPacket(): void {
    this.metrics.inc(AUDIO_METRIC.decryptFailures);
    if (this.open) this.pendingLost++;
  }

  /**
   * Called from the session's timer: places held packets whose gap waited more than reorderHoldMs (a speaker who
   * went quiet sends no next packet to trigger that), seals the open segment once no packet came for
   * silenceGapMs, and gives the decoder back to the pool after decoderIdleMs without packets.
   */
  checkIdle(nowMs: number): void {
    this.reorder.expire(nowMs);
    const quietMs = nowMs - this.lastArrivalMs;
    if (quietMs >= this.o.silenceGapMs) {
      this.reorder.drain(); // already empty (reorderHoldMs < silenceGapMs); explicit because a seal must never leave any
      if (this.open) this.seal();
    }
    if (this.decoder !== null && !this.open && quietMs >= this.o.decoderIdleMs) {
      this.decoders.release(this.decoder);
      this.decoder = null;
    }
  }

  /** Places any held packets, then seals the open segment now (speaker left, session ends). */
  flush(): void {
    this.reorder.drain();
    this.seal();
  }

  /** Seals what is open, returns the decoder, and ignores packets from now on. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.reorder.drain();
    this.seal();
    this.closed = true;
    if (this.decoder !== null) {
      this.decoders.release(this.decoder);
      this.decoder = null;
    }
  }

  private startSegment(now: number): void {
    this.open = true;
    this.startedAt = now;
    this.frames = 0;
    this.slabCount = 0;
    this.reanchor(now);
  }

  /** A new stream (new SSRC, timestamp jump backwards, long pause): seal and start over at this packet. */
  private restart(now: number): void {
    this.seal();
    this.startSegment(now);
  }

  private reanchor(now: number): void {
    this.anchorMs = now;
    this.anchorFrames = 0;
  }

  private fillHole(missing: number, now: number): void {
    const gapMs = missing * FRAME_MS;
    if (gapMs <= this.o.maxPlcMs) {
      this.conceal(missing);
    } else if (gapMs < this.o.silenceGapMs) {
      // A pause inside an utterance: bounded silence, never an amount proportional to the jump.
      const frames = Math.floor(Math.min(gapMs, this.o.maxInsertedSilenceMs) / FRAME_MS);
      for (let i = 0; i < frames; i++) this.appendFrame(null, 0, KIND_INSERTED_SILENCE);
      this.metrics.inc(AUDIO_METRIC.insertedSilenceMs, frames * FRAME_MS);
      this.reanchor(now);
    } else {
      this.restart(now);
    }
  }

  /** Decodes and appends one packet as exactly one 20 ms frame. */
  private decodePacket(opus: Buffer): void {
    const isSilencePacket = opus.length === 3 && opus[0] === 0xf8 && opus[1] === 0xff && opus[2] === 0xfe;
    let pcm: Buffer;
    try {
      pcm = this.decoder!.decode(opus); // new Buffer from the native side (the library's copy, not ours)
    } catch {
      // "The compressed data passed is corrupted": conceal the slot and go on.
      this.metrics.inc(AUDIO_METRIC.corruptPackets);
      this.conceal(1);
      return;
    }
    if (pcm.length !== FRAME_BYTES) {
      // Discord clients send 20 ms frames only, so anything else is not speech: 40 random bytes decode
      // "successfully" about a third of the time, mostly to 2.5–60 ms of noise. Count and conceal it like a
      // packet the decoder rejected. (A random payload that happens to decode to exactly 20 ms cannot be told
      // from speech; it costs one 20 ms slot of noise.)
      this.metrics.inc(AUDIO_METRIC.corruptPackets);
      this.conceal(1);
      return;
    }
    this.appendFrame(pcm, 0, isSilencePacket ? KIND_SILENCE_PACKET : KIND_AUDIO);
  }

  /** Appends `count` frames of packet-loss concealment (one PLC call yields 360 ms; the first frames are used). */
  private conceal(count: number): void {
    let plc: Buffer | null = null;
    let used = 0;
    for (let i = 0; i < count; i++) {
      if (plc === null || (used + 1) * FRAME_BYTES > plc.length) {
        plc = this.decodePlc();
        used = 0;
      }
      if (plc === null || plc.length < FRAME_BYTES) {
        this.appendFrame(null, 0, KIND_CONCEALED); // decoder failed even at PLC: keep the duration true
      } else {
        this.appendFrame(plc, used * FRAME_BYTES, KIND_CONCEALED);
        used++;
      }
    }
    this.metrics.inc(AUDIO_METRIC.concealedMs, count * FRAME_MS);
  }

  private decodePlc(): Buffer | null {
    try {
      return this.decoder!.decode(this.emptyPacket);
    } catch {
      return null;
    }
  }

  /** One 20 ms slot of the timeline: split if the segment is full, then store it (`src` null = silence). */
  private appendFrame(src: Buffer | null, offset: number, kind: number): void {
    this.anchorFrames++;
    if (this.frames === this.maxFrames) this.splitAtQuietest();
    this.storeFrame(src, offset, kind);
  }

  /**
   * Copies 640 bytes into the open segment's slabs (taking a new slab when needed) and records the
   * frame's energy and kind. Pool empty: the frame is dropped and counted; nothing throws or grows.
   * Per-frame path: no allocation (Buffer#copy/fill into existing views).
   */
  private storeFrame(src: Buffer | null, offset: number, kind: number): void {
    const slabBytes = this.pool.slabBytes;
    const pos = this.frames * FRAME_BYTES;
    if (pos + FRAME_BYTES > this.slabCount * slabBytes) {
      const index = this.pool.alloc();
      if (index < 0) {
        this.metrics.inc(AUDIO_METRIC.droppedMs, FRAME_MS);
        return;
      }
      this.slabs[this.slabCount++] = index;
    }
    let done = 0;
    while (done < FRAME_BYTES) {
      const at = pos + done;
      const slab = Math.floor(at / slabBytes);
      const inSlab = at - slab * slabBytes;
      const n = Math.min(FRAME_BYTES - done, slabBytes - inSlab);
      const view = this.pool.slab(this.slabs[slab]!);
      if (src === null) view.fill(0, inSlab, inSlab + n);
      else src.copy(view, inSlab, offset + done, offset + done + n);
      done += n;
    }
    if (src === null) this.frameDb[this.frames] = SILENCE_DBFS;
    else storeFrameRmsDbfs(this.frameDb, this.frames, src, offset, FRAME_BYTES);
    this.frameKind[this.frames] = kind;
    this.frames++;
  }

  /**
   * The segment reached maxSegmentMs: cut it at the quietest frame of the last splitSearchMs, emit the
   * head, and start the next segment with the tail. Copying the tail (≤ splitSearchMs of PCM) happens
   * once per segment, not per packet.
   */
  private splitAtQuietest(): void {
    const n = this.frames;
    const search = Math.min(n - 1, this.o.splitSearchMs / FRAME_MS);
    let cut = n - search;
    let quietest = this.frameDb[cut]!;
    for (let i = cut + 1; i < n; i++) {
      // `<=` prefers the latest of equally quiet frames: a longer head, less to copy.
      if (this.frameDb[i]! <= quietest) {
        quietest = this.frameDb[i]!;
        cut = i;
      }
    }
    this.metrics.inc(AUDIO_METRIC.segmentsSplit);
    const headFrames = this.trimmedLength(cut);
    this.measure(headFrames);
    const speechMs = this.measuredSpeechMs;
    const rmsDbfs = this.measuredRmsDbfs;
    const headSlabs = this.slabs.slice(0, this.slabCount);
    const headStartedAt = this.startedAt;

    // The tail becomes the start of the next segment, on the same audio timeline.
    this.slabCount = 0;
    this.frames = 0;
    this.startedAt = headStartedAt + cut * FRAME_MS;
    const slabBytes = this.pool.slabBytes;
    for (let f = cut; f < n; f++) {
      // frameKind[f] is read before index f - cut (< f) is overwritten by storeFrame.
      const kind = this.frameKind[f]!;
      let done = 0;
      while (done < FRAME_BYTES) {
        const at = f * FRAME_BYTES + done;
        const slab = Math.floor(at / slabBytes);
        const inSlab = at - slab * slabBytes;
        const len = Math.min(FRAME_BYTES - done, slabBytes - inSlab);
        this.pool.slab(headSlabs[slab]!).copy(this.frameScratch, done, inSlab, inSlab + len);
        done += len;
      }
      this.storeFrame(this.frameScratch, 0, kind);
    }
    this.finish(headSlabs, headFrames, headStartedAt, speechMs, rmsDbfs);
  }

  /** Ends the open segment: trims it, then emits or discards it. */
  private seal(): void {
    if (!this.open) return;
    this.open = false;
    const frames = this.trimmedLength(this.frames);
    this.measure(frames);
    const slabs = this.slabs.slice(0, this.slabCount);
    this.slabCount = 0;
    this.frames = 0;
    this.finish(slabs, frames, this.startedAt, this.measuredSpeechMs, this.measuredRmsDbfs);
  }

  /** Frames left after dropping trailing end-of-spurt silence frames (when configured). */
  private trimmedLength(frames: number): number {
    if (!this.o.trimTrailingSilence) return frames;
    let n = frames;
    while (n > 0 && (this.frameKind[n - 1] === KIND_SILENCE_PACKET || this.frameKind[n - 1] === KIND_INSERTED_SILENCE)) n--;
    return n;
  }

  /** Speech ms (frames at or above the threshold) and the mean level of the loudest 10 % of frames. */
  private measure(frames: number): void {
    let speechFrames = 0;
    for (let i = 0; i < frames; i++) {
      const db = this.frameDb[i]!;
      if (db >= this.o.speechThresholdDbfs) speechFrames++;
      this.sortScratch[i] = db;
    }
    this.measuredSpeechMs = speechFrames * FRAME_MS;
    if (frames === 0) {
      this.measuredRmsDbfs = SILENCE_DBFS;
      return;
    }
    const sorted = this.sortScratch.subarray(0, frames).sort(); // ascending; once per segment
    const top = Math.max(1, Math.ceil(frames * LOUDEST_FRACTION));
    let power = 0;
    for (let i = frames - top; i < frames; i++) power += 10 ** (sorted[i]! / 10);
    this.measuredRmsDbfs = 10 * Math.log10(power / top);
  }

  /** Hands a sealed segment on (keeping only the slabs it needs), or frees everything if it holds no speech. */
  private finish(slabs: Int32Array, frames: number, startedAt: number, speechMs: number, rmsDbfs: number): void {
    const bytes = frames * FRAME_BYTES;
    const keep = Math.ceil(bytes / this.pool.slabBytes);
    if (frames === 0 || speechMs < this.o.minSpeechMs) {
      for (let i = 0; i < slabs.length; i++) this.pool.free(slabs[i]!);
      this.metrics.inc(AUDIO_METRIC.segmentsDiscardedSilence);
      return;
    }
    for (let i = keep; i < slabs.length; i++) this.pool.free(slabs[i]!);
    const meta: SegmentMeta = { ...this.base, startedAt, durationMs: frames * FRAME_MS, rmsDbfs, speechMs };
    const segment = new SlabSegment(this.pool, this.nextSegmentId(), meta, keep === slabs.length ? slabs : slabs.subarray(0, keep), bytes);
    this.metrics.inc(AUDIO_METRIC.segmentsEmitted);
    try {
      this.onSegment(segment);
    } catch (error) {
      // The receive path must not throw; the callback did not take the segment, so its slabs go back.
      this.metrics.inc(AUDIO_METRIC.segmentCallbackErrors);
      this.logger?.error('onSegment failed; segment released', { segmentId: segment.id, error: errorMessage(error) });
      segment.release();
    }
  }
}
