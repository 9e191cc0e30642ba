import { randomInt } from 'node:crypto';
import opus from '@discordjs/opus';
import { TinyscribeError } from '../../../src/util/errors.js';
import { monotonicMs, Pacer } from './pacer.js';
import { Prng } from './prng.js';
import { buildVoicePacket, SAMPLES_PER_FRAME, SILENCE_FRAME, type PacketLayout } from './rtp.js';
import type { UdpServer } from './UdpServer.js';
import type { VoiceGatewaySession } from './VoiceGatewaySession.js';
import { VoiceOp, type VoiceServer } from './VoiceServer.js';

const FRAME_MS = 20;
/** Bytes of one 20 ms frame of 48 kHz stereo s16le PCM. */
const PCM_FRAME_BYTES = SAMPLES_PER_FRAME * 2 * 2;

/** What a speaker needs from the simulator. */
export interface SpeakerHost {
  readonly voice: VoiceServer;
  readonly udp: UdpServer;
  /** Aborted when the simulator closes: plays stop, waits end. */
  readonly signal: AbortSignal;
}

/** Options of {@link SimSpeaker}. */
export interface SimSpeakerOptions {
  readonly guildId: string;
  readonly userId: string;
  /** Fixed SSRC; random otherwise. */
  readonly ssrc?: number;
  /**
   * 'auto' (default): before the first packet of a play, and whenever the bot's voice connection changed, send
   * op 11 + op 5 if that connection has no mapping for this speaker. 'manual': only {@link SimSpeaker.announce}
   * does, so a test can send packets BEFORE the mapping (the bot must drop them).
   */
  readonly announce?: 'auto' | 'manual';
  /** Pause between sending op 5 and the first RTP packet (WS and UDP race on loopback too). Default 40 ms. */
  readonly announceLeadMs?: number;
  /** op 5 `speaking` flags (1 microphone, 2 soundshare, 4 priority). Default 1. */
  readonly speakingFlags?: number;
  /** How long a play waits for the bot's voice connection to become ready. Default 10 s. */
  readonly waitReadyMs?: number;
}

/** Packet layouts: Chrome-like plain, desktop-like extension, padded, or a realistic mix. */
export type PacketShape = 'plain' | 'extension' | 'padding' | 'mixed';

/** Options of {@link SimSpeaker.play} and {@link SimSpeaker.sendRawOpus}. Frame indexes count from 0 per play. */
export interface PlayOptions {
  /** Default 'mixed': ~87 % X=1 with a 4-byte extension, ~10 % plain, ~3 % padded (with extension). */
  readonly shape?: PacketShape;
  /** F8 FF FE frames appended (default 5 for play, 0 for sendRawOpus). */
  readonly silenceFrames?: number;
  /** First RTP sequence number (to test the u16 wrap); otherwise continues from the last play. */
  readonly seqStart?: number;
  /** First RTP timestamp (to test the u32 wrap); otherwise continues with the wall clock since the last play. */
  readonly timestampStart?: number;
  /** Network loss: this share of packets is built (sequence advances) but not sent. */
  readonly lossPercent?: number;
  /** Seed of the PRNG behind loss, jitter, mixed shapes, padding lengths and corrupt payloads. Default 1. */
  readonly seed?: number;
  /** Each packet is delayed by a uniform 0..jitterMs (packets may be reordered when > 20). */
  readonly jitterMs?: number;
  /** Sender-side gaps: no packet at all for these frames (sequence does NOT advance, timestamp does — like DTX). */
  readonly dropFrames?: ReadonlySet<number>;
  /** Add `jumpSamples` to the RTP timestamp from frame `frame` on (a clock jump without a sequence gap). */
  readonly timestampJumpAt?: { readonly frame: number; readonly jumpSamples: number };
  /** Replace the Opus payload of these frames by 40 random bytes, still correctly encrypted. */
  readonly corruptAt?: ReadonlySet<number>;
  /** Flip one bit of the auth tag of these frames (the bot's decrypt throws). */
  readonly badTagAt?: ReadonlySet<number>;
  /** Keep per-packet records and Opus bytes in the result (default true; turn off for long soaks). */
  readonly keepPackets?: boolean;
  /** Stops the play early (the result then has `aborted: true`). */
  readonly signal?: AbortSignal;
}

/** What happened to one frame. */
export type PacketFate = 'sent' | 'lost' | 'dropped' | 'unroutable';

/** One frame of a play. */
export interface PlayedPacket {
  readonly index: number;
  readonly silence: boolean;
  /** RTP sequence (null when the frame was dropped at the sender). */
  readonly sequence: number | null;
  readonly timestamp: number;
  /** The Opus payload as encrypted (the corrupt bytes for corruptAt frames). */
  readonly opus: Buffer;
  readonly layout: PacketLayout;
  readonly corrupt: boolean;
  readonly badTag: boolean;
  fate: PacketFate;
  /** Monotonic ms the packet was due / actually sent. */
  readonly dueAt: number;
  sentAt: number | undefined;
}

/** Result of a play. */
export interface PlayResult {
  /** Every frame in frame order (empty with keepPackets: false). */
  readonly packets: readonly PlayedPacket[];
  /** Packets in the order they were put on the wire (jitter can reorder). */
  readonly sent: readonly PlayedPacket[];
  /** Opus payloads of `sent`, in send order: what a subscriber should receive (minus bad-tag packets). */
  readonly sentOpus: readonly Buffer[];
  readonly counts: Readonly<Record<PacketFate, number>>;
  readonly aborted: boolean;
  /** Worst delay between a packet's due time (incl. jitter) and its send, in ms. */
  readonly maxLatenessMs: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** SSRC used. */
  readonly ssrc: number;
}

/** A source of Opus frames for one play. */
interface FrameSource {
  readonly count: number;
  opusAt(index: number): Buffer;
}

/**
 * A simulated member talking in voice. It maps its SSRC with server op 5, then sends Opus in encrypted RTP at
 * real 20 ms pacing from the simulator's UDP socket to the bot's, in the session's mode and key.
 */
export class SimSpeaker {
  private currentSsrc: number;
  private sequence = randomInt(0, 0x10000);
  private timestamp = randomInt(0, 0x100000000);
  private nonce = 0;
  private lastPlayEndedAt: number | undefined;
  private encoder: InstanceType<typeof opus.OpusEncoder> | undefined;
  private busy = false;

  constructor(
    private readonly host: SpeakerHost,
    readonly options: SimSpeakerOptions,
  ) {
    this.currentSsrc = options.ssrc ?? randomInt(1, 0xffffffff);
  }

  get guildId(): string {
    return this.options.guildId;
  }

  get userId(): string {
    return this.options.userId;
  }

  /** The SSRC packets carry now. */
  get ssrc(): number {
    return this.currentSsrc;
  }

  /** Sends op 11 (if needed) and op 5 for this speaker, then waits the lead time. */
  async announce(): Promise<void> {
    const session = await this.host.voice.waitReady(this.guildId, this.options.waitReadyMs ?? 10_000);
    await this.announceOn(session);
    await this.pause(this.options.announceLeadMs ?? 40);
  }

  /** Sends op 13 (client disconnect): the bot deletes the SSRC mapping. */
  async leave(): Promise<void> {
    const session = this.host.voice.session(this.guildId);
    if (!session) return;
    session.mapped.delete(this.userId);
    session.connected.delete(this.userId);
    await session.send(VoiceOp.ClientDisconnect, { user_id: this.userId });
  }

  /** Reconnects with a new SSRC: op 13, then op 11 + op 5 with the new SSRC. New RTP sequence and timestamp base. */
  async rejoin(newSsrc?: number): Promise<number> {
    await this.leave();
    this.currentSsrc = newSsrc ?? randomInt(1, 0xffffffff);
    this.sequence = randomInt(0, 0x10000);
    this.timestamp = randomInt(0, 0x100000000);
    this.lastPlayEndedAt = undefined;
    await this.announce();
    return this.currentSsrc;
  }

  /**
   * Encodes `pcm` (48 kHz stereo interleaved s16; a Buffer is read as little-endian) to 20 ms Opus frames and
   * sends them at real time, followed by silence frames. Resolves when the last packet is sent.
   */
  async play(pcm: Int16Array | Buffer, options: PlayOptions = {}): Promise<PlayResult> {
    const bytes = Buffer.isBuffer(pcm) ? pcm : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const encoder = (this.encoder ??= new opus.OpusEncoder(48_000, 2));
    const count = Math.ceil(bytes.length / PCM_FRAME_BYTES);
    const source: FrameSource = {
      count,
      opusAt(index) {
        const start = index * PCM_FRAME_BYTES;
        let frame = bytes.subarray(start, start + PCM_FRAME_BYTES);
        if (frame.length < PCM_FRAME_BYTES) {
          const padded = Buffer.alloc(PCM_FRAME_BYTES);
          frame.copy(padded);
          frame = padded;
        }
        // Encoded just in time: one frame per 20 ms tick keeps long clips cheap to start and small in memory.
        return encoder.encode(frame);
      },
    };
    return this.run(source, options.silenceFrames ?? 5, options);
  }

  /** Sends exactly these Opus frames (no encoding; no silence unless `silenceFrames` is given). */
  async sendRawOpus(frames: readonly Buffer[], options: PlayOptions = {}): Promise<PlayResult> {
    return this.run({ count: frames.length, opusAt: (i) => frames[i]! }, options.silenceFrames ?? 0, options);
  }

  private async announceOn(session: VoiceGatewaySession): Promise<void> {
    if (!session.connected.has(this.userId)) {
      session.connected.add(this.userId);
      void session.send(VoiceOp.ClientsConnect, { user_ids: [this.userId] });
    }
    session.mapped.set(this.userId, this.currentSsrc);
    await session.send(VoiceOp.Speaking, { user_id: this.userId, ssrc: this.currentSsrc, speaking: this.options.speakingFlags ?? 1 });
  }

  private async pause(ms: number): Promise<void> {
    const pacer = new Pacer(this.host.signal);
    try {
      await pacer.sleepUntil(monotonicMs() + ms);
    } finally {
      pacer.dispose();
    }
  }

  private async run(source: FrameSource, silenceFrames: number, options: PlayOptions): Promise<PlayResult> {
    if (this.busy) throw new TinyscribeError('SIM_SPEAKER_BUSY', `speaker ${this.userId} is already playing`);
    this.busy = true;
    const auto = (this.options.announce ?? 'auto') === 'auto';
    const controller = new AbortController();
    const abort = () => controller.abort();
    this.host.signal.addEventListener('abort', abort);
    options.signal?.addEventListener('abort', abort);
    const pacer = new Pacer(controller.signal);
    try {
      let session = await this.host.voice.waitReady(this.guildId, this.options.waitReadyMs ?? 10_000);
      if (auto && session.mapped.get(this.userId) !== this.currentSsrc) {
        await this.announceOn(session);
        await pacer.sleepUntil(monotonicMs() + (this.options.announceLeadMs ?? 40));
      }

      const prng = new Prng(options.seed ?? 1);
      const shape = options.shape ?? 'mixed';
      const keep = options.keepPackets ?? true;
      const total = source.count + silenceFrames;
      const packets: PlayedPacket[] = [];
      const sent: PlayedPacket[] = [];
      const counts: Record<PacketFate, number> = { sent: 0, lost: 0, dropped: 0, unroutable: 0 };
      const pending: { at: number; packet: Buffer; played: PlayedPacket; address: { address: string; port: number } }[] = [];

      if (options.seqStart !== undefined) this.sequence = options.seqStart & 0xffff;
      if (options.timestampStart !== undefined) {
        this.timestamp = options.timestampStart >>> 0;
      } else if (this.lastPlayEndedAt !== undefined) {
        // The RTP clock kept running while the speaker was quiet.
        const frames = Math.round((monotonicMs() - this.lastPlayEndedAt) / FRAME_MS);
        this.timestamp = (this.timestamp + frames * SAMPLES_PER_FRAME) >>> 0;
      }

      const startedAt = monotonicMs();
      let maxLatenessMs = 0;
      let next = 0;
      let aborted = false;

      // Per frame this allocates (Opus output, packet, cipher): fine for the simulator, which is not the bot's hot
      // path; timing is what matters here, and building each packet at its due time keeps memory flat.
      const produce = (index: number, dueAt: number) => {
        const silence = index >= source.count;
        if (options.timestampJumpAt?.frame === index) {
          this.timestamp = (this.timestamp + options.timestampJumpAt.jumpSamples) >>> 0;
        }
        const timestamp = this.timestamp;
        this.timestamp = (this.timestamp + SAMPLES_PER_FRAME) >>> 0;
        const corrupt = options.corruptAt?.has(index) ?? false;
        const badTag = options.badTagAt?.has(index) ?? false;
        const opusFrame = corrupt ? Buffer.from(prng.fill(new Uint8Array(40))) : silence ? SILENCE_FRAME : source.opusAt(index);
        const layout = pickLayout(shape, prng);

        if (options.dropFrames?.has(index)) {
          counts.dropped++;
          if (keep) packets.push({ index, silence, sequence: null, timestamp, opus: opusFrame, layout, corrupt, badTag, fate: 'dropped', dueAt, sentAt: undefined });
          return;
        }
        const sequence = this.sequence;
        this.sequence = (this.sequence + 1) & 0xffff;
        const played: PlayedPacket = { index, silence, sequence, timestamp, opus: opusFrame, layout, corrupt, badTag, fate: 'sent', dueAt, sentAt: undefined };
        if (keep) packets.push(played);

        const current = this.host.voice.session(this.guildId);
        if (current !== session && current?.ready) session = current;
        if (!current?.ready || !session.mode || !session.secretKey || !session.botAddress) {
          played.fate = 'unroutable';
          counts.unroutable++;
          return;
        }
        if (auto && session.mapped.get(this.userId) !== this.currentSsrc) void this.announceOn(session);
        const packet = buildVoicePacket({
          mode: session.mode,
          key: session.secretKey,
          sequence,
          timestamp,
          ssrc: this.currentSsrc,
          nonce: this.nonce,
          opus: opusFrame,
          layout,
          badTag,
        });
        this.nonce = (this.nonce + 1) >>> 0;
        if (options.lossPercent && prng.next() * 100 < options.lossPercent) {
          played.fate = 'lost';
          counts.lost++;
          return;
        }
        const at = dueAt + (options.jitterMs ? prng.next() * options.jitterMs : 0);
        let position = pending.length;
        while (position > 0 && pending[position - 1]!.at > at) position--;
        pending.splice(position, 0, { at, packet, played, address: session.botAddress });
      };

      while (next < total || pending.length > 0) {
        const produceAt = next < total ? startedAt + next * FRAME_MS : Number.POSITIVE_INFINITY;
        const sendAt = pending.length > 0 ? pending[0]!.at : Number.POSITIVE_INFINITY;
        if (!(await pacer.sleepUntil(Math.min(produceAt, sendAt)))) {
          aborted = true;
          break;
        }
        const now = monotonicMs();
        while (next < total && startedAt + next * FRAME_MS <= now) {
          produce(next, startedAt + next * FRAME_MS);
          next++;
        }
        while (pending.length > 0 && pending[0]!.at <= now) {
          const item = pending.shift()!;
          this.host.udp.send(item.packet, item.address.port, item.address.address);
          item.played.sentAt = now;
          counts.sent++;
          if (keep) sent.push(item.played);
          maxLatenessMs = Math.max(maxLatenessMs, now - item.at);
        }
      }
      const endedAt = monotonicMs();
      this.lastPlayEndedAt = endedAt;
      return {
        packets,
        sent,
        sentOpus: sent.map((p) => p.opus),
        counts,
        aborted,
        maxLatenessMs,
        startedAt,
        endedAt,
        ssrc: this.currentSsrc,
      };
    } finally {
      pacer.dispose();
      this.host.signal.removeEventListener('abort', abort);
      options.signal?.removeEventListener('abort', abort);
      this.busy = false;
    }
  }
}

/** Chooses a packet layout. Mixed follows captured desktop traffic: mostly X=1, a few padded, some plain. */
function pickLayout(shape: PacketShape, prng: Prng): PacketLayout {
  switch (shape) {
    case 'plain':
      return { extension: false, paddingLength: 0 };
    case 'extension':
      return { extension: true, paddingLength: 0 };
    case 'padding':
      return { extension: false, paddingLength: 1 + prng.int(15) };
    case 'mixed': {
      const r = prng.next();
      if (r < 0.1) return { extension: false, paddingLength: 0 };
      if (r < 0.13) return { extension: true, paddingLength: 1 + prng.int(15) };
      return { extension: true, paddingLength: 0 };
    }
  }
}
