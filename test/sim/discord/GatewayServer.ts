import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { TinyscribeError } from '../../../src/util/errors.js';
import type { Logger } from '../../../src/util/logger.js';
import type { Emit } from './events.js';
import { GatewaySession, Intent } from './GatewaySession.js';
import { guildCreatePayload, memberPayload, readyPayload } from './payloads.js';
import type { SimRecords } from './records.js';
import { randomHex, type SimWorld } from './SimWorld.js';

/** Gateway opcodes used here (discord-api-types GatewayOpcodes). */
const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** The op 4 payload the bot sends to join or leave voice. */
export interface VoiceStateRequest {
  readonly guild_id: string;
  readonly channel_id: string | null;
  readonly self_mute: boolean;
  readonly self_deaf: boolean;
}

/** Options of {@link GatewayServer}. */
export interface GatewayServerOptions {
  readonly token: string;
  readonly world: SimWorld;
  readonly records: SimRecords;
  readonly emit: Emit;
  /** HELLO heartbeat_interval (Discord: 41250). */
  readonly heartbeatIntervalMs: number;
  /** Privileged intents the application may use (GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT bits). */
  readonly privilegedIntents: number;
  /** Bytes of dispatches kept for RESUME. */
  readonly replayBufferBytes: number;
  /** GUILD_CREATEs sent per event-loop turn after READY (keeps a 1,000-guild login from blocking the loop). */
  readonly guildCreateBatch: number;
  /** Called for op 4 once the payload is validated. */
  readonly onVoiceStateRequest: (session: GatewaySession, request: VoiceStateRequest) => void;
  readonly logger?: Logger | undefined;
}

/** Per-socket state. */
interface Connection {
  readonly socket: WebSocket;
  session: GatewaySession | null;
  /** Close code the simulator chose, so the close is recorded as server-initiated. */
  closingWith: number | null;
}

const PRIVILEGED = Intent.GuildMembers | Intent.GuildPresences | Intent.MessageContent;
const ALL_INTENTS = (1 << 26) - 1;

/**
 * The main gateway, v10, JSON over text frames, no compression (@discordjs/ws's defaults). Handles HELLO,
 * IDENTIFY → READY + GUILD_CREATEs, heartbeats, RESUME with replay, and the faults tests ask for.
 * One bot at a time: hooks act on the most recently identified session ({@link current}).
 */
export class GatewayServer {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly connections = new Set<Connection>();
  private currentSession: GatewaySession | undefined;
  private ackHeartbeats = true;
  private closed = false;
  private port = 0;

  constructor(private readonly options: GatewayServerOptions) {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    this.wss.on('connection', (socket, req) => this.onConnection(socket, req));
  }

  /** Waits for the listening socket; resolves with the port. */
  async listen(): Promise<number> {
    if (!this.wss.address()) {
      await new Promise<void>((resolve, reject) => {
        this.wss.once('listening', resolve);
        this.wss.once('error', reject);
      });
    }
    this.port = (this.wss.address() as AddressInfo).port;
    return this.port;
  }

  /** ws://127.0.0.1:PORT, what /gateway/bot and READY.resume_gateway_url carry. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The session of the last IDENTIFY, if any. */
  get current(): GatewaySession | undefined {
    return this.currentSession;
  }

  /** Sends a dispatch to the current session (buffered while it is disconnected). Returns its `s`, or 0 if gated. */
  dispatch(t: string, d: unknown): number {
    const session = this.currentSession;
    if (!session) throw new TinyscribeError('SIM_NO_GATEWAY_SESSION', `cannot dispatch ${t}: the bot has not identified`);
    return this.dispatchTo(session, t, d);
  }

  /** Closes the current socket with `code` (default 4000, resumable). 1006 terminates without a close frame. */
  drop(code = 4000, reason = 'simulated drop'): void {
    const connection = this.currentConnection();
    if (!connection) return;
    connection.closingWith = code;
    if (code === 1006) {
      connection.socket.terminate();
      return;
    }
    connection.socket.close(code, reason);
  }

  /** Sends op 7 RECONNECT; @discordjs/ws closes with 4200 and resumes. */
  sendReconnect(): void {
    this.currentConnection()?.socket.send(JSON.stringify({ op: Op.Reconnect, d: null, s: null, t: null }));
  }

  /** Sends op 9. Not resumable also forgets the session, so a RESUME afterwards fails too. */
  invalidateSession(resumable = false): void {
    const connection = this.currentConnection();
    if (!connection) return;
    if (!resumable && connection.session) this.sessions.delete(connection.session.id);
    connection.socket.send(JSON.stringify({ op: Op.InvalidSession, d: resumable, s: null, t: null }));
  }

  /** Sends op 1; the client must heartbeat at once. */
  requestHeartbeat(): void {
    this.currentConnection()?.socket.send(JSON.stringify({ op: Op.Heartbeat, d: null, s: null, t: null }));
  }

  /** Whether heartbeats get op 11 (turn off to make the client detect a zombie connection and resume). */
  setHeartbeatAcks(enabled: boolean): void {
    this.ackHeartbeats = enabled;
  }

  /** Closes every socket and the server. */
  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.connections) {
      connection.closingWith = 1001;
      connection.socket.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private currentConnection(): Connection | undefined {
    const socket = this.currentSession?.socket;
    if (!socket) return undefined;
    for (const connection of this.connections) if (connection.socket === socket) return connection;
    return undefined;
  }

  private dispatchTo(session: GatewaySession, t: string, d: unknown): number {
    if (!session.allows(t)) {
      this.options.records.dispatches.push({ t, s: 0, at: performance.now(), suppressed: true });
      return 0;
    }
    const s = session.dispatch(t, d);
    this.options.records.dispatches.push({ t, s, at: performance.now() });
    return s;
  }

  private onConnection(socket: WebSocket, req: IncomingMessage): void {
    const connection: Connection = { socket, session: null, closingWith: null };
    this.connections.add(connection);
    const params = new URL(req.url ?? '/', 'ws://127.0.0.1').searchParams;
    socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    socket.on('close', (code, reason) => this.onClose(connection, code, reason.toString()));
    socket.on('error', (error) => this.options.logger?.warn('sim gateway socket error', { error }));
    if (params.get('v') !== '10') {
      this.closeWith(connection, 4012, 'Invalid API version');
      return;
    }
    if (params.get('encoding') !== 'json' || params.has('compress')) {
      // The simulator speaks plain JSON only; a compressed client would silently drop our text frames.
      this.closeWith(connection, 4002, 'Simulator supports encoding=json without compression only');
      return;
    }
    socket.send(
      JSON.stringify({
        op: Op.Hello,
        d: { heartbeat_interval: this.options.heartbeatIntervalMs, _trace: ['["tinyscribe-sim-gateway",{"micros":0}]'] },
        s: null,
        t: null,
      }),
    );
  }

  private closeWith(connection: Connection, code: number, reason: string): void {
    connection.closingWith = code;
    connection.socket.close(code, reason);
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    this.connections.delete(connection);
    if (connection.session?.socket === connection.socket) connection.session.socket = null;
    const record = {
      code: connection.closingWith ?? code,
      reason,
      initiatedBy: connection.closingWith === null ? ('client' as const) : ('server' as const),
      at: performance.now(),
    };
    this.options.records.gatewayCloses.push(record);
    this.options.emit('gatewayClose', record);
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.closeWith(connection, 4002, 'Decode error (binary frame)');
      return;
    }
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(rawToString(data)) as { op?: unknown; d?: unknown };
    } catch {
      this.closeWith(connection, 4002, 'Decode error');
      return;
    }
    const op = typeof payload.op === 'number' ? payload.op : -1;
    const d = payload.d;
    const record = { op, d: redactToken(d), sessionId: connection.session?.id ?? null, at: performance.now() };
    this.options.records.gatewayOps.push(record);
    this.options.emit('gatewayOp', record);

    switch (op) {
      case Op.Heartbeat:
        if (this.ackHeartbeats) connection.socket.send(JSON.stringify({ op: Op.HeartbeatAck, d: null, s: null, t: null }));
        return;
      case Op.Identify:
        this.onIdentify(connection, asObject(d));
        return;
      case Op.Resume:
        this.onResume(connection, asObject(d));
        return;
    }
    const session = connection.session;
    if (!session) {
      this.closeWith(connection, 4003, 'Not authenticated');
      return;
    }
    switch (op) {
      case Op.VoiceStateUpdate: {
        const body = asObject(d);
        if (typeof body['guild_id'] !== 'string') {
          this.closeWith(connection, 4002, 'Decode error (op 4 without guild_id)');
          return;
        }
        this.options.onVoiceStateRequest(session, {
          guild_id: body['guild_id'],
          channel_id: typeof body['channel_id'] === 'string' ? body['channel_id'] : null,
          self_mute: body['self_mute'] === true,
          self_deaf: body['self_deaf'] === true,
        });
        return;
      }
      case Op.RequestGuildMembers:
        this.onRequestGuildMembers(session, asObject(d));
        return;
      case Op.PresenceUpdate:
        return;
      default:
        this.closeWith(connection, 4001, 'Unknown opcode');
    }
  }

  private onIdentify(connection: Connection, d: Record<string, unknown>): void {
    const { world, records, emit } = this.options;
    const intents = d['intents'];
    const reject = (code: number, reason: string) => {
      const record = identifyRecord(null, d, this.options.token, code);
      records.identifies.push(record);
      emit('identify', record);
      this.closeWith(connection, code, reason);
    };
    if (connection.session) return reject(4005, 'Already authenticated');
    if (d['token'] !== this.options.token) return reject(4004, 'Authentication failed');
    if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) {
      return reject(4013, 'Invalid intent(s)');
    }
    if ((intents & PRIVILEGED & ~this.options.privilegedIntents) !== 0) return reject(4014, 'Disallowed intent(s)');
    const shard = d['shard'];
    if (shard !== undefined && !(Array.isArray(shard) && shard[0] === 0 && shard[1] === 1)) return reject(4010, 'Invalid shard');

    const largeThreshold = typeof d['large_threshold'] === 'number' ? d['large_threshold'] : 50;
    const session = new GatewaySession(randomHex(32), intents, largeThreshold, this.options.replayBufferBytes);
    this.sessions.set(session.id, session);
    this.currentSession = session;
    connection.session = session;
    session.socket = connection.socket;

    const record = identifyRecord(session.id, d, this.options.token, undefined);
    records.identifies.push(record);
    emit('identify', record);

    this.dispatchTo(
      session,
      'READY',
      readyPayload({
        botUser: world.botUser,
        guildIds: world.guilds.keys(),
        sessionId: session.id,
        resumeGatewayUrl: this.url,
        applicationId: world.applicationId,
      }),
    );
    void this.sendGuildCreates(session);
  }

  /** GUILD_CREATE for every guild, in batches so a bulk login does not monopolise the event loop. */
  private async sendGuildCreates(session: GatewaySession): Promise<void> {
    const { world } = this.options;
    let sent = 0;
    for (const guild of [...world.guilds.values()]) {
      if (this.closed || this.sessions.get(session.id) !== session) return;
      this.dispatchTo(
        session,
        'GUILD_CREATE',
        guildCreatePayload(guild, {
          largeThreshold: session.largeThreshold,
          applicationId: world.applicationId,
          botUserId: world.botUser.id,
        }),
      );
      if (++sent % this.options.guildCreateBatch === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private onResume(connection: Connection, d: Record<string, unknown>): void {
    const { records, emit } = this.options;
    const sessionId = typeof d['session_id'] === 'string' ? d['session_id'] : '';
    const seq = typeof d['seq'] === 'number' ? d['seq'] : null;
    if (connection.session) {
      this.closeWith(connection, 4005, 'Already authenticated');
      return;
    }
    if (d['token'] !== this.options.token) {
      this.closeWith(connection, 4004, 'Authentication failed');
      return;
    }
    const session = this.sessions.get(sessionId);
    const frames = session ? session.framesAfter(seq ?? 0) : null;
    if (!session || !frames) {
      const record = { sessionId, seq, replayed: undefined, accepted: false, at: performance.now() };
      records.resumes.push(record);
      emit('resume', record);
      connection.socket.send(JSON.stringify({ op: Op.InvalidSession, d: false, s: null, t: null }));
      return;
    }
    // A stale socket of the same session (zombie) loses to the resuming one.
    if (session.socket && session.socket !== connection.socket) {
      for (const other of this.connections) {
        if (other.socket === session.socket) this.closeWith(other, 4000, 'Session resumed elsewhere');
      }
    }
    connection.session = session;
    session.socket = connection.socket;
    this.currentSession = session;
    for (const frame of frames) connection.socket.send(frame);
    const record = { sessionId, seq, replayed: frames.length, accepted: true, at: performance.now() };
    records.resumes.push(record);
    emit('resume', record);
    this.dispatchTo(session, 'RESUMED', { _trace: ['["tinyscribe-sim-gateway",{"micros":0}]'] });
  }

  private onRequestGuildMembers(session: GatewaySession, d: Record<string, unknown>): void {
    const guild = this.options.world.guild(String(d['guild_id'] ?? ''));
    if (!guild) return;
    const userIds = Array.isArray(d['user_ids']) ? d['user_ids'].map(String) : typeof d['user_ids'] === 'string' ? [d['user_ids']] : null;
    const query = typeof d['query'] === 'string' ? d['query'].toLowerCase() : null;
    const limit = typeof d['limit'] === 'number' && d['limit'] > 0 ? d['limit'] : Number.POSITIVE_INFINITY;
    const members = [...guild.members.values()].filter((m) =>
      userIds ? userIds.includes(m.user.id) : query !== null ? m.user.username.toLowerCase().startsWith(query) : true,
    );
    const notFound = userIds ? userIds.filter((id) => !guild.members.has(id)) : [];
    this.dispatchTo(session, 'GUILD_MEMBERS_CHUNK', {
      guild_id: guild.id,
      members: members.slice(0, limit).map(memberPayload),
      chunk_index: 0,
      chunk_count: 1,
      ...(notFound.length > 0 ? { not_found: notFound } : {}),
      ...(d['nonce'] !== undefined ? { nonce: d['nonce'] } : {}),
    });
  }
}

function identifyRecord(sessionId: string | null, d: Record<string, unknown>, token: string, rejectedWith: number | undefined) {
  return {
    sessionId,
    tokenValid: d['token'] === token,
    intents: typeof d['intents'] === 'number' ? d['intents'] : -1,
    shard: d['shard'],
    properties: d['properties'],
    largeThreshold: typeof d['large_threshold'] === 'number' ? d['large_threshold'] : undefined,
    compress: d['compress'],
    rejectedWith,
    at: performance.now(),
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Copies a payload with its `token` replaced, so records can be printed safely. */
export function redactToken(d: unknown): unknown {
  if (typeof d !== 'object' || d === null || Array.isArray(d) || !('token' in d)) return d;
  return { ...(d as Record<string, unknown>), token: '[redacted]' };
}

/** ws delivers text frames as Buffer (or fragments); join them as UTF-8. */
export function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
