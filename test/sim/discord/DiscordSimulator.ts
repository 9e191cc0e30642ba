import { EventEmitter } from 'node:events';
import { TinyscribeError } from '../../../src/util/errors.js';
import type { Logger } from '../../../src/util/logger.js';
import { addBulkGuilds, type BulkGuildShape } from './bulkGuilds.js';
import { createSelfSignedCertificate, removeCertificate, type SelfSignedCertificate } from './certificates.js';
import type { Emit, SimEvents } from './events.js';
import { GatewayServer, type VoiceStateRequest } from './GatewayServer.js';
import type { GatewaySession } from './GatewaySession.js';
import { SnowflakeFactory } from './ids.js';
import { InteractionRegistry } from './InteractionRegistry.js';
import { interactionPayload, voiceStateUpdatePayload, type InteractionOptionInput } from './payloads.js';
import { SimRecords } from './records.js';
import { RestServer } from './RestServer.js';
import { SimSpeaker, type SimSpeakerOptions } from './SimSpeaker.js';
import { BOT_PERMISSIONS, ChannelKind, randomHex, SimWorld, type SimGuild, type SimOverwrite, type SimUser } from './SimWorld.js';
import { VOICE_ENCRYPTION_MODES, type VoiceEncryptionMode } from './transportCrypto.js';
import { UdpServer } from './UdpServer.js';
import { VoiceOp, VoiceServer } from './VoiceServer.js';

/** Options of {@link DiscordSimulator.start}. All optional. */
export interface DiscordSimulatorOptions {
  /** Bot token the servers accept. Default 'sim-token'. */
  readonly token?: string;
  /** Voice modes offered in op 2, in order. Default AES-GCM then XChaCha (the client takes the first it supports). */
  readonly modes?: readonly VoiceEncryptionMode[];
  /** Close voice identify with 4017 when max_dave_protocol_version < 1. Default false. */
  readonly strictDave?: boolean;
  /** Main-gateway HELLO interval. Default 41250 (Discord's). */
  readonly heartbeatIntervalMs?: number;
  /** Voice HELLO interval. Default 13750. */
  readonly voiceHeartbeatIntervalMs?: number;
  /** Privileged intents the app is allowed (bits of GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT). Default 0. */
  readonly privilegedIntents?: number;
  /** Bytes of dispatches kept for RESUME. Default 16 MiB. */
  readonly replayBufferBytes?: number;
  /** Refuse interaction callbacks later than 3 s with 10062, as Discord does. Default true. */
  readonly enforceInteractionDeadline?: boolean;
  /** Order of the two dispatches answering op 4. Default 'state-first' (what Discord does and voice needs). */
  readonly voiceUpdateOrder?: 'state-first' | 'server-first';
  /** Extra generated guilds (memory benchmark): a count, or a count with a shape. */
  readonly bulkGuilds?: number | ({ readonly count: number } & BulkGuildShape);
  /** More guilds shaped like the default one (same three members, own text and voice channel); see `extraGuilds`. */
  readonly extraGuilds?: number;
  /** Largest attachment per file (413/40005 above it; interactions report it). Default 10 MiB. */
  readonly attachmentSizeLimit?: number;
  readonly logger?: Logger;
}

/** Input of {@link DiscordSimulator.injectInteraction}. */
export interface InjectInteractionInput {
  /** Default: the default guild. */
  readonly guildId?: string;
  /** Default: the guild's text channel. */
  readonly channelId?: string;
  readonly userId: string;
  /** Command name, e.g. 'transcribe'. */
  readonly name: string;
  readonly options?: readonly InteractionOptionInput[];
  readonly locale?: string;
}

/** IDs of the default guild. */
export interface DefaultGuildIds {
  readonly id: string;
  readonly name: string;
  readonly textChannelId: string;
  readonly voiceChannelId: string;
}

/** IDs of the default members: alice has a nick, bob only a global_name, carol only a username (17-digit ID). */
export interface DefaultMemberIds {
  readonly alice: string;
  readonly bob: string;
  readonly carol: string;
}

/**
 * Loopback Discord for tests: REST (http), main gateway (ws), voice gateway (wss with a throwaway certificate)
 * and voice UDP, all on 127.0.0.1 with OS-chosen ports, reached by the unmodified @discordjs libraries.
 * Everything the bot does is in {@link records} and emitted as {@link SimEvents}.
 */
export class DiscordSimulator extends EventEmitter<SimEvents> {
  readonly token: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly world: SimWorld;
  readonly records = new SimRecords();
  readonly guild: DefaultGuildIds;
  readonly members: DefaultMemberIds;
  /** Guilds made with the `extraGuilds` option, each with alice, bob and carol as members. */
  readonly extraGuilds: readonly DefaultGuildIds[];

  private readonly rest: RestServer;
  private readonly gateway: GatewayServer;
  private readonly voice: VoiceServer;
  private readonly udp: UdpServer;
  private readonly interactions = new InteractionRegistry();
  /** IDs for members added at runtime (18 digits, an era no other factory uses). */
  private readonly extraUserIds = new SnowflakeFactory(Date.UTC(2020, 0, 1));
  private readonly lifetime = new AbortController();
  private readonly voiceUpdateOrder: 'state-first' | 'server-first';
  private closed = false;

  private constructor(
    private readonly cert: SelfSignedCertificate,
    options: DiscordSimulatorOptions,
  ) {
    super();
    this.token = options.token ?? 'sim-token';
    this.voiceUpdateOrder = options.voiceUpdateOrder ?? 'state-first';

    const appIds = new SnowflakeFactory(Date.UTC(2023, 4, 2));
    this.applicationId = appIds.next();
    const botUser: SimUser = { id: appIds.next(), username: 'tinyscribe', globalName: 'Tinyscribe', bot: true };
    this.botUserId = botUser.id;
    this.world = new SimWorld(botUser, this.applicationId);

    // Default guild and its three members, one per display-name fallback case.
    const users = new SnowflakeFactory(Date.UTC(2016, 3, 1));
    const alice: SimUser = { id: users.next(), username: 'alice', globalName: 'Alice Liddell', bot: false };
    const bob: SimUser = { id: users.next(), username: 'bob', globalName: 'Bobby Tables', bot: false };
    const carol: SimUser = { id: new SnowflakeFactory(Date.UTC(2015, 1, 10)).next(), username: 'carol', globalName: null, bot: false };
    const guild = this.world.createGuild('Sim Guild', alice.id);
    this.world.addMember(guild, alice, 'Ally');
    this.world.addMember(guild, bob, null);
    this.world.addMember(guild, carol, null);
    this.guild = { id: guild.id, name: guild.name, textChannelId: guild.textChannelId, voiceChannelId: guild.voiceChannelId };
    this.members = { alice: alice.id, bob: bob.id, carol: carol.id };
    this.extraGuilds = Array.from({ length: options.extraGuilds ?? 0 }, (_, i) => {
      const extra = this.world.createGuild(`Sim Guild ${i + 2}`, alice.id);
      this.world.addMember(extra, alice, 'Ally');
      this.world.addMember(extra, bob, null);
      this.world.addMember(extra, carol, null);
      return { id: extra.id, name: extra.name, textChannelId: extra.textChannelId, voiceChannelId: extra.voiceChannelId };
    });
    if (options.attachmentSizeLimit !== undefined) this.world.attachmentSizeLimit = options.attachmentSizeLimit;
    if (options.bulkGuilds !== undefined) {
      const bulk = typeof options.bulkGuilds === 'number' ? { count: options.bulkGuilds } : options.bulkGuilds;
      addBulkGuilds(this.world, bulk.count, bulk);
    }

    const emit: Emit = (event, ...args) => {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
      this.emit('change');
    };
    this.udp = new UdpServer({ records: this.records, onDiscovery: (ssrc, remote) => this.voice.onDiscovery(ssrc, remote) });
    this.gateway = new GatewayServer({
      token: this.token,
      world: this.world,
      records: this.records,
      emit,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      privilegedIntents: options.privilegedIntents ?? 0,
      replayBufferBytes: options.replayBufferBytes ?? 16 * 1024 * 1024,
      guildCreateBatch: 25,
      onVoiceStateRequest: (session, request) => this.onVoiceStateRequest(session, request),
      logger: options.logger,
    });
    this.rest = new RestServer({
      token: this.token,
      world: this.world,
      records: this.records,
      emit,
      interactions: this.interactions,
      gatewayUrl: () => this.gateway.url,
      enforceInteractionDeadline: options.enforceInteractionDeadline ?? true,
      logger: options.logger,
    });
    this.voice = new VoiceServer({
      cert: cert.cert,
      key: cert.key,
      records: this.records,
      emit,
      modes: options.modes ?? VOICE_ENCRYPTION_MODES,
      strictDave: options.strictDave ?? false,
      heartbeatIntervalMs: options.voiceHeartbeatIntervalMs ?? 13_750,
      udpPort: () => this.udp.localPort,
      logger: options.logger,
    });
  }

  /** Creates the certificate and starts all four servers. */
  static async start(options: DiscordSimulatorOptions = {}): Promise<DiscordSimulator> {
    const cert = await createSelfSignedCertificate();
    let sim: DiscordSimulator | undefined;
    try {
      sim = new DiscordSimulator(cert, options);
      await Promise.all([sim.udp.listen(), sim.rest.listen(), sim.gateway.listen(), sim.voice.listen()]);
      return sim;
    } catch (error: unknown) {
      if (sim) await sim.close().catch(() => undefined);
      else await removeCertificate(cert);
      throw new TinyscribeError('SIM_START_FAILED', 'the Discord simulator could not start', { cause: error });
    }
  }

  /** The REST `api` option: http://127.0.0.1:PORT/api (the client appends /v10). */
  get apiUrl(): string {
    return `${this.rest.origin}/api`;
  }

  /** ws://127.0.0.1:PORT (also in /gateway/bot and READY). */
  get gatewayUrl(): string {
    return this.gateway.url;
  }

  /** 127.0.0.1:PORT, the VOICE_SERVER_UPDATE endpoint. */
  get voiceEndpoint(): string {
    return this.voice.endpoint;
  }

  /** PEM file of the voice server's self-signed certificate (for NODE_EXTRA_CA_CERTS). */
  get caCertPath(): string {
    return this.cert.certPath;
  }

  /** The same certificate as a PEM string (for tls.setDefaultCACertificates). */
  get caCert(): string {
    return this.cert.cert;
  }

  // ---- REST faults -------------------------------------------------------------------------------------------

  /** The next `count` requests whose path (or "METHOD path") matches get 429 + Retry-After. */
  rateLimitNext(route: RegExp, retryAfterSeconds: number, count = 1, options: { global?: boolean } = {}): void {
    this.rest.faults.rateLimitNext(route, retryAfterSeconds, count, options.global ?? false);
  }

  /** The next `count` matching requests fail with `status` and a Discord error body. */
  failNext(route: RegExp, status: number, body: { code: number; message: string } = { code: 0, message: `${status}: Simulated failure` }, count = 1): void {
    this.rest.faults.failNext(route, status, body, count);
  }

  /** The next `count` matching requests are answered `ms` late. */
  delayNext(route: RegExp, ms: number, count = 1): void {
    this.rest.faults.delayNext(route, ms, count);
  }

  // ---- gateway hooks -----------------------------------------------------------------------------------------

  /** Sends any dispatch to the bot's session (buffered for replay while disconnected). Returns its `s` (0 if gated). */
  dispatch(t: string, d: unknown): number {
    return this.gateway.dispatch(t, d);
  }

  /** Sends INTERACTION_CREATE for a guild chat-input command. */
  injectInteraction(input: InjectInteractionInput): { id: string; token: string } {
    const guild = this.requireGuild(input.guildId ?? this.guild.id);
    const channelId = input.channelId ?? guild.textChannelId;
    const channel = guild.channels.find((c) => c.id === channelId);
    const member = guild.members.get(input.userId);
    if (!channel) throw new TinyscribeError('SIM_BAD_INPUT', `channel ${channelId} is not in guild ${guild.id}`);
    if (!member) throw new TinyscribeError('SIM_BAD_INPUT', `user ${input.userId} is not a member of guild ${guild.id}`);
    const id = this.world.ids.next();
    const token = `aW50ZXJhY3Rpb246${id}:${randomHex(64)}`;
    const payload = interactionPayload({
      id,
      token,
      applicationId: this.applicationId,
      guildId: guild.id,
      channel,
      member,
      commandId: this.world.commandId(guild.id, input.name) ?? this.world.ids.next(),
      commandName: input.name,
      commandOptions: input.options ?? [],
      appPermissions: BOT_PERMISSIONS,
      locale: input.locale ?? 'en-US',
      attachmentSizeLimit: this.world.attachmentSizeLimit,
    });
    this.interactions.add({
      id,
      token,
      applicationId: this.applicationId,
      guildId: guild.id,
      channelId,
      userId: input.userId,
      commandName: input.name,
      createdAt: performance.now(),
      callbackType: undefined,
      originalMessageId: undefined,
    });
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return { id, token };
  }

  /** Closes the bot's gateway socket. Default 4000 (resumable); 1006 drops without a close frame. */
  dropGateway(code = 4000): void {
    this.gateway.drop(code);
  }

  /** Sends op 7 RECONNECT. */
  sendReconnect(): void {
    this.gateway.sendReconnect();
  }

  /** Sends op 9 INVALID_SESSION (`resumable` false also forgets the session). */
  invalidateSession(resumable = false): void {
    this.gateway.invalidateSession(resumable);
  }

  /** Sends op 1 (the client must heartbeat at once). */
  requestHeartbeat(): void {
    this.gateway.requestHeartbeat();
  }

  /** Stop (false) or resume (true) acknowledging heartbeats. */
  setHeartbeatAcks(enabled: boolean): void {
    this.gateway.setHeartbeatAcks(enabled);
  }

  /** Adds a member to a guild (appears in GUILD_CREATEs sent afterwards and in REST lookups). Returns the user ID. */
  addMember(
    guildId: string,
    spec: { username: string; globalName?: string | null; nick?: string | null; permissions?: string; bot?: boolean },
  ): string {
    const guild = this.requireGuild(guildId);
    const user: SimUser = { id: this.extraUserIds.next(), username: spec.username, globalName: spec.globalName ?? null, bot: spec.bot ?? false };
    this.world.addMember(guild, user, spec.nick ?? null, spec.permissions);
    return user.id;
  }

  /**
   * Sets (replaces by id) a permission overwrite on a channel, as GET /channels/{id} and GUILD_CREATE then show it.
   * `id` is a role (the guild id is @everyone) for type 0, a member for type 1.
   */
  setPermissionOverwrite(channelId: string, overwrite: SimOverwrite): void {
    const found = this.world.channel(channelId);
    if (!found) throw new TinyscribeError('SIM_BAD_INPUT', `unknown channel ${channelId}`);
    const list = (found.channel.permissionOverwrites ?? []).filter((o) => o.id !== overwrite.id);
    list.push(overwrite);
    found.channel.permissionOverwrites = list;
  }

  /**
   * Moves a member into a voice channel (or out, with null) and dispatches VOICE_STATE_UPDATE with `member`.
   * If the bot is connected to voice in that channel, its voice socket also gets op 11 (joined) or op 13 (left),
   * as from Discord. Before the bot identifies it only changes what GUILD_CREATE will say.
   */
  setVoiceState(guildId: string, userId: string, channelId: string | null, flags: { selfDeaf?: boolean; selfMute?: boolean } = {}): void {
    const guild = this.requireGuild(guildId);
    if (channelId !== null && !guild.channels.some((c) => c.id === channelId)) {
      throw new TinyscribeError('SIM_BAD_INPUT', `channel ${channelId} is not in guild ${guildId}`);
    }
    const previous = guild.voiceStates.get(userId);
    const state = this.world.setVoiceState(guild, userId, channelId, flags);
    if (this.gateway.current) {
      this.gateway.dispatch('VOICE_STATE_UPDATE', voiceStateUpdatePayload(guild.id, userId, state, previous, guild.members.get(userId)));
    }
    const session = this.voice.session(guild.id);
    const botChannel = guild.voiceStates.get(this.botUserId)?.channelId;
    if (!session || userId === this.botUserId || botChannel === undefined) return;
    const wasHere = previous?.channelId === botChannel;
    const isHere = state?.channelId === botChannel;
    if (wasHere && !isHere) {
      session.mapped.delete(userId);
      session.connected.delete(userId);
      void session.send(VoiceOp.ClientDisconnect, { user_id: userId });
    } else if (isHere && !wasHere && !session.connected.has(userId)) {
      session.connected.add(userId);
      void session.send(VoiceOp.ClientsConnect, { user_ids: [userId] });
    }
  }

  /** Server-side disconnect of the bot from voice: VOICE_STATE_UPDATE with channel null, then close 4014. */
  disconnectBotFromVoice(guildId: string): void {
    this.setVoiceState(guildId, this.botUserId, null);
    this.voice.forget(guildId);
    this.voice.closeVoice(guildId, 4014, 'Disconnected');
  }

  // ---- voice hooks -------------------------------------------------------------------------------------------

  /** A simulated member who can talk in the guild's voice connection. */
  speaker(options: SimSpeakerOptions): SimSpeaker {
    return new SimSpeaker({ voice: this.voice, udp: this.udp, signal: this.lifetime.signal }, options);
  }

  /** Closes the bot's voice socket for a guild (4014 disconnected, 4015 resumable crash, 4006 session invalid…). */
  closeVoice(guildId: string, code: number, reason?: string): void {
    this.voice.closeVoice(guildId, code, reason);
  }

  /** Sends a sequenced op on the guild's voice socket (e.g. 5, 11, 13, or DAVE ops). */
  sendVoiceOp(guildId: string, op: number, d: unknown): Promise<void> {
    return this.voice.sendOp(guildId, op, d);
  }

  /** Changes the modes offered to the next voice identify. */
  setVoiceModes(modes: readonly VoiceEncryptionMode[]): void {
    this.voice.setModes(modes);
  }

  /** Turns DAVE enforcement (close 4017) on or off for the next voice identify. */
  setStrictDave(strict: boolean): void {
    this.voice.setStrictDave(strict);
  }

  /** The bot's voice connection as the server sees it. */
  voiceConnection(guildId: string): { ready: boolean; mode: string | null; ssrc: number; maxDaveVersion: number; botAddress: { address: string; port: number } | null } | undefined {
    const session = this.voice.session(guildId);
    if (!session) return undefined;
    return { ready: session.ready, mode: session.mode, ssrc: session.ssrc, maxDaveVersion: session.maxDaveVersion, botAddress: session.botAddress };
  }

  // ---- waiting -----------------------------------------------------------------------------------------------

  /**
   * Resolves with the predicate's first truthy value. Re-checked on every recorded event and every 20 ms
   * (for state that changes without a record). Rejects with SIM_WAIT_TIMEOUT after `timeoutMs`.
   */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 5_000, description = 'condition'): Promise<T> {
    const first = predicate();
    if (first) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined | null | false;
        try {
          value = predicate();
        } catch (error: unknown) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (value) {
          finish();
          resolve(value);
        }
      };
      const onClose = () => {
        finish();
        reject(new TinyscribeError('SIM_CLOSED', `simulator closed while waiting for ${description}`));
      };
      const poll = setInterval(check, 20);
      const timeout = setTimeout(() => {
        finish();
        reject(new TinyscribeError('SIM_WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${description}`));
      }, timeoutMs);
      const finish = () => {
        clearInterval(poll);
        clearTimeout(timeout);
        this.off('change', check);
        this.lifetime.signal.removeEventListener('abort', onClose);
      };
      this.on('change', check);
      this.lifetime.signal.addEventListener('abort', onClose, { once: true });
    });
  }

  /** Stops speakers, closes every socket, timer and server, and deletes the certificate. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort();
    await Promise.allSettled([this.rest.close(), this.gateway.close(), this.voice.close(), this.udp.close()]);
    await removeCertificate(this.cert);
    this.removeAllListeners();
  }

  private requireGuild(guildId: string): SimGuild {
    const guild = this.world.guild(guildId);
    if (!guild) throw new TinyscribeError('SIM_BAD_INPUT', `unknown guild ${guildId}`);
    return guild;
  }

  /** Gateway op 4: update the bot's voice state and hand out a voice server, like Discord. */
  private onVoiceStateRequest(session: GatewaySession, request: VoiceStateRequest): void {
    const record = {
      guildId: request.guild_id,
      channelId: request.channel_id,
      selfDeaf: request.self_deaf,
      selfMute: request.self_mute,
      at: performance.now(),
    };
    this.records.voiceStateRequests.push(record);
    const guild = this.world.guild(request.guild_id);
    const channel = request.channel_id ? guild?.channels.find((c) => c.id === request.channel_id) : undefined;
    if (!guild || (request.channel_id !== null && (channel?.type !== ChannelKind.Voice && channel?.type !== ChannelKind.Stage))) {
      // Discord silently ignores a join to something that is not a voice channel of a guild you are in.
      this.emit('change');
      return;
    }
    const previous = guild.voiceStates.get(this.botUserId);
    const state = this.world.setVoiceState(guild, this.botUserId, request.channel_id, {
      selfDeaf: request.self_deaf,
      selfMute: request.self_mute,
      sessionId: session.id,
    });
    const stateUpdate = voiceStateUpdatePayload(guild.id, this.botUserId, state, previous, guild.members.get(this.botUserId));
    if (request.channel_id === null) {
      this.voice.forget(guild.id);
      this.gateway.dispatch('VOICE_STATE_UPDATE', stateUpdate);
      this.emit('voiceLeave', record);
      this.emit('change');
      return;
    }
    const token = randomHex(16);
    this.voice.expect({ guildId: guild.id, channelId: request.channel_id, userId: this.botUserId, sessionId: session.id, token });
    const serverUpdate = { token, guild_id: guild.id, endpoint: this.voice.endpoint };
    if (this.voiceUpdateOrder === 'state-first') {
      this.gateway.dispatch('VOICE_STATE_UPDATE', stateUpdate);
      this.gateway.dispatch('VOICE_SERVER_UPDATE', serverUpdate);
    } else {
      this.gateway.dispatch('VOICE_SERVER_UPDATE', serverUpdate);
      this.gateway.dispatch('VOICE_STATE_UPDATE', stateUpdate);
    }
    this.emit('voiceJoin', record);
    this.emit('change');
  }
}
