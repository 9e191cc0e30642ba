import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { TinyscribeError } from '../../../src/util/errors.js';
import type { Logger } from '../../../src/util/logger.js';
import type { Emit } from './events.js';
import { rawToString, redactToken } from './GatewayServer.js';
import type { SimRecords } from './records.js';
import type { VoiceEncryptionMode } from './transportCrypto.js';
import { VoiceGatewaySession, type VoiceJoinTicket } from './VoiceGatewaySession.js';

/** Voice gateway v8 opcodes used here (discord-api-types VoiceOpcodes). */
export const VoiceOp = {
  Identify: 0,
  SelectProtocol: 1,
  Ready: 2,
  Heartbeat: 3,
  SessionDescription: 4,
  Speaking: 5,
  HeartbeatAck: 6,
  Resume: 7,
  Hello: 8,
  Resumed: 9,
  ClientsConnect: 11,
  ClientDisconnect: 13,
} as const;

/** Options of {@link VoiceServer}. */
export interface VoiceServerOptions {
  readonly cert: string;
  readonly key: string;
  readonly records: SimRecords;
  readonly emit: Emit;
  /** Modes offered in op 2, in order (the client takes the first it supports). */
  readonly modes: readonly VoiceEncryptionMode[];
  /** Close with 4017 when identify's max_dave_protocol_version < 1 (Discord's rule since March 2026). */
  readonly strictDave: boolean;
  readonly heartbeatIntervalMs: number;
  readonly udpPort: () => number;
  readonly logger?: Logger | undefined;
}

interface Connection {
  readonly socket: WebSocket;
  session: VoiceGatewaySession | null;
  guildId: string | null;
  closingWith: number | null;
}

/**
 * Voice gateway v8 over TLS (wss://127.0.0.1:PORT/?v=8; @discordjs/voice hard-codes wss). Identify is accepted
 * only with the session ID and token that the main gateway handed out for that guild. It always answers
 * dave_protocol_version 0, so transport-encrypted Opus reaches the bot without an MLS group.
 */
export class VoiceServer {
  private readonly https: Server;
  private readonly wss: WebSocketServer;
  private readonly tickets = new Map<string, VoiceJoinTicket>();
  private readonly sessions = new Map<string, VoiceGatewaySession>();
  private readonly connections = new Set<Connection>();
  private readonly readyWaiters = new Set<{ guildId: string; resolve: (s: VoiceGatewaySession) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private port = 0;
  private modes: readonly VoiceEncryptionMode[];
  private strictDave: boolean;

  constructor(private readonly options: VoiceServerOptions) {
    this.modes = options.modes;
    this.strictDave = options.strictDave;
    this.https = createServer({ cert: options.cert, key: options.key });
    this.wss = new WebSocketServer({ server: this.https, perMessageDeflate: false });
    this.wss.on('connection', (socket, req) => this.onConnection(socket, req));
  }

  /** Listens on 127.0.0.1; resolves with the port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.https.once('error', reject);
      this.https.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.https.address() as AddressInfo).port;
    return this.port;
  }

  /** "127.0.0.1:PORT", the VOICE_SERVER_UPDATE endpoint (no scheme: the client prepends wss://). */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Modes offered to the next identify, in order. */
  setModes(modes: readonly VoiceEncryptionMode[]): void {
    this.modes = [...modes];
  }

  /** Turns 4017 enforcement on or off for the next identify. */
  setStrictDave(strict: boolean): void {
    this.strictDave = strict;
  }

  /** Accepts the next identify for this guild (replaces an older ticket: each op 4 gets a new token). */
  expect(ticket: VoiceJoinTicket): void {
    this.tickets.set(ticket.guildId, ticket);
  }

  /** Forgets the ticket after a leave; an open socket is left for the client to close, as Discord does. */
  forget(guildId: string): void {
    this.tickets.delete(guildId);
  }

  /** The guild's current voice session (ready or not). */
  session(guildId: string): VoiceGatewaySession | undefined {
    return this.sessions.get(guildId);
  }

  /** Resolves with the guild's session once it is ready (key sent, UDP address known). */
  waitReady(guildId: string, timeoutMs: number): Promise<VoiceGatewaySession> {
    const current = this.sessions.get(guildId);
    if (current?.ready) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const waiter = {
        guildId,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.readyWaiters.delete(waiter);
          reject(new TinyscribeError('SIM_VOICE_NOT_READY', `no ready voice connection for guild ${guildId} after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.readyWaiters.add(waiter);
    });
  }

  /** Sends a server→client op on the guild's voice socket (sequenced). */
  sendOp(guildId: string, op: number, d: unknown): Promise<void> {
    const session = this.sessions.get(guildId);
    return session ? session.send(op, d) : Promise.resolve();
  }

  /** Closes the guild's voice socket with `code` (4014 = disconnected, 4015 = crashed/resume, 4006 = session invalid…). */
  closeVoice(guildId: string, code: number, reason = 'simulated close'): void {
    for (const connection of this.connections) {
      if (connection.guildId === guildId) this.closeWith(connection, code, reason);
    }
  }

  /** Handles an IP discovery request: remembers where the bot's UDP socket is. */
  onDiscovery(ssrc: number, remote: RemoteInfo): boolean {
    for (const session of this.sessions.values()) {
      if (session.ssrc === ssrc) {
        session.botAddress = { address: remote.address, port: remote.port };
        this.checkReady(session);
        return true;
      }
    }
    return false;
  }

  /** Closes all sockets and the TLS server; pending waits reject. */
  async close(): Promise<void> {
    for (const waiter of this.readyWaiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new TinyscribeError('SIM_CLOSED', 'simulator closed'));
    }
    this.readyWaiters.clear();
    for (const connection of this.connections) {
      connection.closingWith = 1001;
      connection.socket.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const closed = new Promise<void>((resolve) => this.https.close(() => resolve()));
    this.https.closeAllConnections();
    await closed;
  }

  private onConnection(socket: WebSocket, req: IncomingMessage): void {
    const connection: Connection = { socket, session: null, guildId: null, closingWith: null };
    this.connections.add(connection);
    socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    socket.on('close', (code, reason) => this.onClose(connection, code, reason.toString()));
    socket.on('error', (error) => this.options.logger?.warn('sim voice socket error', { error }));
    const version = new URL(req.url ?? '/', 'wss://127.0.0.1').searchParams.get('v');
    if (version !== '8') {
      this.closeWith(connection, 4020, `Simulator speaks voice gateway v8 (got v=${version ?? 'none'})`);
      return;
    }
    socket.send(JSON.stringify({ op: VoiceOp.Hello, d: { v: 8, heartbeat_interval: this.options.heartbeatIntervalMs } }));
  }

  private closeWith(connection: Connection, code: number, reason: string): void {
    connection.closingWith = code;
    connection.socket.close(code, reason);
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    this.connections.delete(connection);
    if (connection.session?.socket === connection.socket) connection.session.socket = null;
    const record = {
      guildId: connection.guildId,
      code: connection.closingWith ?? code,
      reason,
      initiatedBy: connection.closingWith === null ? ('client' as const) : ('server' as const),
      at: performance.now(),
    };
    this.options.records.voiceCloses.push(record);
    this.options.emit('voiceClose', record);
  }

  private record(connection: Connection, op: number, d: unknown, binary: boolean): void {
    const record = { guildId: connection.guildId, op, d, binary, at: performance.now() };
    this.options.records.voiceOps.push(record);
    this.options.emit('voiceOp', record);
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      // DAVE binary opcodes from the client: [opcode u8][payload]. Recorded, never answered (no MLS here).
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      this.record(connection, bytes[0] ?? -1, { bytes: bytes.length - 1 }, true);
      return;
    }
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(rawToString(data)) as { op?: unknown; d?: unknown };
    } catch {
      this.closeWith(connection, 4002, 'Failed to decode payload');
      return;
    }
    const op = typeof payload.op === 'number' ? payload.op : -1;
    const d = asObject(payload.d);
    if (op !== VoiceOp.Identify && op !== VoiceOp.Resume) this.record(connection, op, payload.d, false);
    switch (op) {
      case VoiceOp.Identify:
        this.onIdentify(connection, d);
        return;
      case VoiceOp.Resume:
        this.onResume(connection, d);
        return;
      case VoiceOp.Heartbeat:
        connection.socket.send(JSON.stringify({ op: VoiceOp.HeartbeatAck, d: { t: d['t'] } }));
        return;
    }
    const session = connection.session;
    if (!session) {
      this.closeWith(connection, 4003, 'Not authenticated');
      return;
    }
    switch (op) {
      case VoiceOp.SelectProtocol:
        this.onSelectProtocol(connection, session, d);
        return;
      case VoiceOp.Speaking:
        return; // the bot is playing audio; recorded above
      default:
        return; // DAVE JSON ops (23, 31) and anything newer: recorded only
    }
  }

  private onIdentify(connection: Connection, d: Record<string, unknown>): void {
    const guildId = typeof d['server_id'] === 'string' ? d['server_id'] : null;
    connection.guildId = guildId;
    this.record(connection, VoiceOp.Identify, redactToken(d), false);
    if (connection.session) return this.closeWith(connection, 4005, 'Already authenticated');
    const ticket = guildId ? this.tickets.get(guildId) : undefined;
    if (!ticket || d['token'] !== ticket.token) return this.closeWith(connection, 4004, 'Authentication failed');
    if (d['session_id'] !== ticket.sessionId || d['user_id'] !== ticket.userId) {
      return this.closeWith(connection, 4006, 'Session no longer valid');
    }
    const maxDave = typeof d['max_dave_protocol_version'] === 'number' ? d['max_dave_protocol_version'] : 0;
    if (this.strictDave && maxDave < 1) return this.closeWith(connection, 4017, 'E2EE/DAVE protocol required');

    const session = new VoiceGatewaySession(ticket, randomInt(1, 0xffffffff));
    session.maxDaveVersion = maxDave;
    session.socket = connection.socket;
    connection.session = session;
    const previous = this.sessions.get(ticket.guildId)?.socket;
    for (const other of this.connections) {
      if (previous && other.socket === previous) this.closeWith(other, 4006, 'Replaced by a new identify');
    }
    this.sessions.set(ticket.guildId, session);
    void session.send(VoiceOp.Ready, {
      ssrc: session.ssrc,
      ip: '127.0.0.1',
      port: this.options.udpPort(),
      modes: [...this.modes],
      // Discord sends this bogus field in op 2; clients must ignore it.
      heartbeat_interval: 1,
      experiments: [],
    });
  }

  private onSelectProtocol(connection: Connection, session: VoiceGatewaySession, d: Record<string, unknown>): void {
    const data = asObject(d['data']);
    const mode = data['mode'];
    if (typeof mode !== 'string' || !this.modes.includes(mode as VoiceEncryptionMode)) {
      return this.closeWith(connection, 4016, 'Unknown encryption mode');
    }
    session.mode = mode as VoiceEncryptionMode;
    session.secretKey = new Uint8Array(randomBytes(32));
    void session.send(VoiceOp.SessionDescription, {
      mode,
      secret_key: [...session.secretKey],
      dave_protocol_version: 0,
      audio_codec: 'opus',
      video_codec: 'H264',
      media_session_id: randomBytes(16).toString('hex'),
    });
    this.checkReady(session);
  }

  private onResume(connection: Connection, d: Record<string, unknown>): void {
    const guildId = typeof d['server_id'] === 'string' ? d['server_id'] : null;
    connection.guildId = guildId;
    this.record(connection, VoiceOp.Resume, redactToken(d), false);
    const session = guildId ? this.sessions.get(guildId) : undefined;
    if (!session || d['session_id'] !== session.ticket.sessionId || d['token'] !== session.ticket.token) {
      return this.closeWith(connection, 4006, 'Session no longer valid');
    }
    const seqAck = typeof d['seq_ack'] === 'number' ? d['seq_ack'] : -1;
    session.socket = connection.socket;
    connection.session = session;
    for (const frame of session.framesAfter(seqAck)) connection.socket.send(frame);
    void session.send(VoiceOp.Resumed, null, false);
  }

  private checkReady(session: VoiceGatewaySession): void {
    if (!session.ready || this.sessions.get(session.ticket.guildId) !== session) return;
    const record = {
      guildId: session.ticket.guildId,
      ssrc: session.ssrc,
      mode: session.mode ?? '',
      daveVersionOffered: session.maxDaveVersion,
      at: performance.now(),
    };
    this.options.records.voiceReady.push(record);
    this.options.emit('voiceReady', record);
    for (const waiter of [...this.readyWaiters]) {
      if (waiter.guildId !== session.ticket.guildId) continue;
      clearTimeout(waiter.timer);
      this.readyWaiters.delete(waiter);
      waiter.resolve(session);
    }
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
