import type { WebSocket } from 'ws';

/** Gateway intent bits that gate dispatches (the subset the simulator sends). */
export const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildVoiceStates: 1 << 7,
  GuildMessages: 1 << 9,
  MessageContent: 1 << 15,
} as const;

/** Which intent an event needs; events not listed are always sent (READY, RESUMED, INTERACTION_CREATE, VOICE_SERVER_UPDATE…). */
const INTENT_OF_EVENT: Readonly<Record<string, number>> = {
  GUILD_CREATE: Intent.Guilds,
  GUILD_UPDATE: Intent.Guilds,
  GUILD_DELETE: Intent.Guilds,
  GUILD_ROLE_CREATE: Intent.Guilds,
  GUILD_ROLE_UPDATE: Intent.Guilds,
  GUILD_ROLE_DELETE: Intent.Guilds,
  CHANNEL_CREATE: Intent.Guilds,
  CHANNEL_UPDATE: Intent.Guilds,
  CHANNEL_DELETE: Intent.Guilds,
  THREAD_CREATE: Intent.Guilds,
  THREAD_UPDATE: Intent.Guilds,
  THREAD_DELETE: Intent.Guilds,
  VOICE_STATE_UPDATE: Intent.GuildVoiceStates,
  GUILD_MEMBER_ADD: Intent.GuildMembers,
  GUILD_MEMBER_UPDATE: Intent.GuildMembers,
  GUILD_MEMBER_REMOVE: Intent.GuildMembers,
  PRESENCE_UPDATE: Intent.GuildPresences,
  MESSAGE_CREATE: Intent.GuildMessages,
  MESSAGE_UPDATE: Intent.GuildMessages,
  MESSAGE_DELETE: Intent.GuildMessages,
};

/** A buffered dispatch frame, kept for replay on RESUME. */
interface BufferedFrame {
  readonly s: number;
  readonly frame: string;
}

/**
 * One gateway session (what READY's session_id names). It outlives sockets: while the bot is disconnected,
 * dispatches still get sequence numbers and wait in a byte-bounded buffer, and RESUME replays those after the
 * bot's last seen `seq` — the behaviour @discordjs/ws relies on.
 */
export class GatewaySession {
  /** Last sequence number used (dispatches count from 1). */
  seq = 0;
  /** The socket currently attached, or null while disconnected. */
  socket: WebSocket | null = null;
  private readonly buffer: BufferedFrame[] = [];
  private bufferBytes = 0;
  /** Highest `s` evicted from the buffer; a resume from before it cannot be served. */
  private evictedUpTo = 0;

  constructor(
    readonly id: string,
    readonly intents: number,
    readonly largeThreshold: number,
    private readonly maxBufferBytes: number,
  ) {}

  /** Whether the session's intents allow event `t`. */
  allows(t: string): boolean {
    const needed = INTENT_OF_EVENT[t];
    return needed === undefined || (this.intents & needed) !== 0;
  }

  /** Assigns the next sequence number, buffers the frame and sends it if a socket is attached. */
  dispatch(t: string, d: unknown): number {
    const s = ++this.seq;
    const frame = JSON.stringify({ op: 0, t, s, d });
    this.buffer.push({ s, frame });
    this.bufferBytes += frame.length;
    while (this.bufferBytes > this.maxBufferBytes && this.buffer.length > 1) {
      const old = this.buffer.shift()!;
      this.bufferBytes -= old.frame.length;
      this.evictedUpTo = old.s;
    }
    if (this.socket && this.socket.readyState === this.socket.OPEN) this.socket.send(frame);
    return s;
  }

  /** Frames after `seq`, or null when some of them were already evicted (or `seq` is from the future). */
  framesAfter(seq: number): string[] | null {
    if (seq < this.evictedUpTo || seq > this.seq) return null;
    return this.buffer.filter((f) => f.s > seq).map((f) => f.frame);
  }
}
