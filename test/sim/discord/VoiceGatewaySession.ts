import type { WebSocket } from 'ws';
import type { VoiceEncryptionMode } from './transportCrypto.js';

/** What gateway op 4 promised the bot: the voice server accepts an identify only if it matches. */
export interface VoiceJoinTicket {
  readonly guildId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly token: string;
}

/**
 * Server-side state of one voice connection (one guild). Survives socket changes through op 7 RESUME:
 * the key, the bot's SSRC and UDP address, and the speaker mappings stay, as on Discord.
 */
export class VoiceGatewaySession {
  socket: WebSocket | null = null;
  /** Last `seq` used on server→client JSON messages (count from 1: the client ignores a falsy seq). */
  seq = 0;
  mode: VoiceEncryptionMode | null = null;
  secretKey: Uint8Array | null = null;
  /** Where the bot's UDP socket is (from IP discovery). */
  botAddress: { address: string; port: number } | null = null;
  /** Speaker SSRCs this connection was told about with op 5 (user → ssrc). */
  readonly mapped = new Map<string, number>();
  /** Users announced with op 11. */
  readonly connected = new Set<string>();
  /** The highest DAVE version the bot said it supports. */
  maxDaveVersion = 0;
  private readonly sent: { seq: number; frame: string }[] = [];

  constructor(
    readonly ticket: VoiceJoinTicket,
    /** The bot's SSRC (op 2). */
    readonly ssrc: number,
  ) {}

  /** True once op 4 was sent and the bot's UDP address is known: speakers can send. */
  get ready(): boolean {
    return this.mode !== null && this.secretKey !== null && this.botAddress !== null;
  }

  /**
   * Sends a JSON message. Messages with `sequenced` carry a top-level `seq` and are kept for replay after a
   * resume (hello, heartbeat ACKs and resumed are not).
   */
  send(op: number, d: unknown, sequenced = true): Promise<void> {
    let frame: string;
    if (sequenced) {
      const seq = ++this.seq;
      frame = JSON.stringify({ op, d, seq });
      this.sent.push({ seq, frame });
      if (this.sent.length > 256) this.sent.shift();
    } else {
      frame = JSON.stringify({ op, d });
    }
    const socket = this.socket;
    if (!socket || socket.readyState !== socket.OPEN) return Promise.resolve();
    // Resolve when the frame is handed to the kernel, so a speaker can send UDP after its mapping.
    return new Promise((resolve) => socket.send(frame, () => resolve()));
  }

  /** Sequenced messages after `seqAck`, for replay on resume. */
  framesAfter(seqAck: number): string[] {
    return this.sent.filter((m) => m.seq > seqAck).map((m) => m.frame);
  }
}
