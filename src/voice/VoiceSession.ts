import { EventEmitter } from 'node:events';
import {
  VoiceConnectionStatus,
  entersState,
  joinVoiceChannel,
  type DiscordGatewayAdapterCreator,
  type VoiceConnection,
} from '@discordjs/voice';
import { RtpHeaderTap } from './RtpHeaderTap.js';
import { SpeakerReceiver } from './SpeakerReceiver.js';
import type { SpeakerAudioSink } from './SpeakerAudioSink.js';
import type { Clock, TimerHandle } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { TinyscribeError, errorMessage } from '../util/errors.js';

/** Lifecycle of one guild's transcription session. */
export enum VoiceSessionStatus {
  Joining = 'joining',
  Listening = 'listening',
  Closing = 'closing',
  Closed = 'closed',
}

/** Who started the session, where it listens and where it writes. */
export interface VoiceSessionTarget {
  readonly sessionId: string;
  readonly guildId: string;
  readonly voiceChannelId: string;
  readonly textChannelId: string;
  readonly startedBy: string;
  readonly language: string | undefined;
  readonly prompt: string | undefined;
}

export interface VoiceSessionDeps {
  readonly adapterCreator: DiscordGatewayAdapterCreator;
  /** Makes the audio sink (segmenter) for one speaker of this session. */
  readonly createSink: (userId: string, target: VoiceSessionTarget) => SpeakerAudioSink;
  /** Whether to receive this user at all (opted-out users and bots are not decoded or stored). */
  readonly shouldReceive: (userId: string, target: VoiceSessionTarget) => boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** How often speakers are checked for end-of-speech silence. */
  readonly idleCheckMs?: number;
  /** How long to wait for the voice connection to become ready. */
  readonly joinTimeoutMs?: number;
}

export interface VoiceSessionEvents {
  stateChange: [from: VoiceSessionStatus, to: VoiceSessionStatus];
  /** The voice connection was lost for good (kicked, channel deleted, network). */
  lost: [reason: string];
}

/** Rejoins in a row (no Ready in between) before a join, or a session, is given up. */
const MAX_JOIN_REJOINS = 4;

/**
 * Joins one voice channel and hears every speaker in it, one subscription per speaker while they are in the
 * channel (a speaker who leaves is dropped, so a long session's state follows who is there, not who ever spoke).
 * Owns the voice connection, the RTP tap and the speakers; hands packets to the sinks.
 */
export class VoiceSession extends EventEmitter<VoiceSessionEvents> {
  readonly startedAt: number;
  private statusValue = VoiceSessionStatus.Joining;
  private connection: VoiceConnection | undefined;
  private readonly tap: RtpHeaderTap;
  private readonly speakers = new Map<string, SpeakerReceiver>();
  private idleTimer: TimerHandle | undefined;
  /** The mid-session rejoin storm was seen (and 'lost' emitted once). */
  private refusedNoticed = false;
  private readonly log: Logger;

  constructor(
    readonly target: VoiceSessionTarget,
    private readonly deps: VoiceSessionDeps,
  ) {
    super();
    this.startedAt = deps.clock.now();
    this.log = deps.logger.child({ guildId: target.guildId, sessionId: target.sessionId });
    this.tap = new RtpHeaderTap(
      this.dropCounter('voice_datagrams_rejected_total', 'voice datagram dropped'),
      this.dropCounter('voice_messages_rejected_total', 'voice server message dropped'),
    );
    this.onSpeakingStart = this.onSpeakingStart.bind(this);
    this.onSsrc = this.onSsrc.bind(this);
    this.onSsrcUpdate = this.onSsrcUpdate.bind(this);
    this.onSsrcDelete = this.onSsrcDelete.bind(this);
    this.onConnectionState = this.onConnectionState.bind(this);
    this.checkIdle = this.checkIdle.bind(this);
  }

  get status(): VoiceSessionStatus {
    return this.statusValue;
  }

  /** Number of speakers heard so far in this session. */
  get speakerCount(): number {
    return this.speakers.size;
  }

  /** Joins the channel and waits until voice is ready; throws VOICE_JOIN_TIMEOUT otherwise. */
  async start(): Promise<void> {
    const connection = joinVoiceChannel({
      guildId: this.target.guildId,
      channelId: this.target.voiceChannelId,
      adapterCreator: this.deps.adapterCreator,
      // Discord sends no audio to a deafened client; we never speak, so we stay muted.
      selfDeaf: false,
      selfMute: true,
      // DAVE stays on (the default): real Discord closes non-E2EE voice clients with 4017 since March 2026.
    });
    this.connection = connection;
    connection.on('error', (error) => this.log.warn('voice connection error', { error }));
    this.tap.attach(connection);
    const receiver = connection.receiver;
    receiver.speaking.on('start', this.onSpeakingStart);
    receiver.ssrcMap.on('create', this.onSsrc);
    receiver.ssrcMap.on('update', this.onSsrcUpdate);
    receiver.ssrcMap.on('delete', this.onSsrcDelete);
    // @discordjs/voice answers every voice close but 4014 (4016, 4017, 4006…) with an immediate op 4 rejoin, no
    // backoff: a voice server that keeps refusing got ~6 op 4 a second until the timeout, eating the shard's 120/min
    // send budget (heartbeats queue behind it). Give the join up after a few rejoins in a row instead.
    const refused = new AbortController();
    const onJoinState = (_old: unknown, state: { status: VoiceConnectionStatus }): void => {
      if (this.keepsRefusing(state)) refused.abort();
    };
    connection.on('stateChange', onJoinState);
    try {
      await entersState(connection, VoiceConnectionStatus.Ready, AbortSignal.any([AbortSignal.timeout(this.deps.joinTimeoutMs ?? 20_000), refused.signal]));
    } catch (error) {
      this.close();
      throw new TinyscribeError('VOICE_JOIN_TIMEOUT', refused.signal.aborted ? 'The voice server kept refusing the connection' : 'Could not connect to the voice channel in time', { cause: error });
    } finally {
      connection.off('stateChange', onJoinState);
    }
    if (this.statusValue !== VoiceSessionStatus.Joining) return;
    connection.on('stateChange', this.onConnectionState);
    this.setStatus(VoiceSessionStatus.Listening);
    this.scheduleIdleCheck();
    this.log.info('listening', { voiceChannelId: this.target.voiceChannelId, rtpTap: this.tap.attached });
  }

  /** Seals every speaker's audio, leaves the channel and frees everything. Idempotent. */
  close(): void {
    if (this.statusValue === VoiceSessionStatus.Closed || this.statusValue === VoiceSessionStatus.Closing) return;
    this.setStatus(VoiceSessionStatus.Closing);
    if (this.idleTimer) this.deps.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const speaker of this.speakers.values()) speaker.close();
    this.speakers.clear();
    this.tap.detach();
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      connection.off('stateChange', this.onConnectionState);
      connection.receiver.speaking.off('start', this.onSpeakingStart);
      connection.receiver.ssrcMap.off('create', this.onSsrc);
      connection.receiver.ssrcMap.off('update', this.onSsrcUpdate);
      connection.receiver.ssrcMap.off('delete', this.onSsrcDelete);
      try {
        if (connection.state.status !== VoiceConnectionStatus.Destroyed) connection.destroy();
      } catch (error) {
        this.log.debug('voice destroy failed', { error: errorMessage(error) });
      }
    }
    this.setStatus(VoiceSessionStatus.Closed);
  }

  private onSpeakingStart(userId: string): void {
    // Runs synchronously before the receiver looks up subscriptions, so subscribing here
    // delivers this very first packet too.
    if (this.statusValue === VoiceSessionStatus.Closed || this.statusValue === VoiceSessionStatus.Closing) return;
    if (this.speakers.has(userId) || !this.deps.shouldReceive(userId, this.target) || !this.connection) return;
    const sink = this.deps.createSink(userId, this.target);
    const speaker = new SpeakerReceiver(userId, this.connection.receiver, this.tap, sink, this.deps.metrics, this.log);
    const mapped = this.connection.receiver.ssrcMap.get(userId);
    if (mapped) speaker.setSsrc(mapped.audioSSRC);
    this.speakers.set(userId, speaker);
    this.deps.metrics.set('speakers_active', this.deps.metrics.get('speakers_active') + 1);
    this.log.debug('speaker joined', { userId });
  }

  private onSsrc(data: { userId: string; audioSSRC: number }): void {
    this.speakers.get(data.userId)?.setSsrc(data.audioSSRC);
  }

  private onSsrcUpdate(_old: unknown, data: { userId: string; audioSSRC: number }): void {
    this.onSsrc(data);
  }

  /**
   * Counts each message a socket guard dropped (`undefined`: refused for its length, else what the library threw),
   * and logs the first few and then one in a thousand: a flood must not flood the log.
   */
  private dropCounter(metric: string, message: string): (error: unknown) => void {
    let dropped = 0;
    return (error) => {
      this.deps.metrics.inc(metric);
      dropped++;
      if (dropped <= 5 || dropped % 1000 === 0) this.log.warn(message, { dropped, ...(error === undefined ? { reason: 'malformed length' } : { error }) });
    };
  }

  /**
   * The library saw voice op 13 (client disconnect) and forgot the user's SSRC: that user left the voice server.
   * The only other ssrcMap delete is by SSRC, which the library never calls, so this is always a departure.
   */
  private onSsrcDelete(data: { userId: string }): void {
    this.dropSpeaker(data.userId);
  }

  /**
   * A member's voice state changed (VOICE_STATE_UPDATE): if they are no longer in the channel we listen to (left
   * voice, or moved elsewhere), their speaker is dropped. Otherwise every speaker of a 6-hour public session would
   * keep its receiver, segmenter arrays and receive stream to the end. Compared with the connection's channel,
   * which @discordjs/voice follows when the bot itself is moved. A user who comes back gets a new speaker on their
   * next speaking start.
   */
  onMemberVoiceState(userId: string, channelId: string | null): void {
    if (!this.speakers.has(userId)) return;
    const listening = this.connection?.joinConfig.channelId ?? this.target.voiceChannelId;
    if (channelId !== listening) this.dropSpeaker(userId);
  }

  /** Removes a speaker (opted out mid-session, or left): its open segment is sealed and handed on, its stream destroyed, its decoder returned. */
  dropSpeaker(userId: string): void {
    const speaker = this.speakers.get(userId);
    if (!speaker) return;
    // Out of the map first: closing seals the segment, and whatever onSegment does must not find a half-closed speaker.
    this.speakers.delete(userId);
    speaker.close();
    this.deps.metrics.set('speakers_active', Math.max(0, this.deps.metrics.get('speakers_active') - 1));
    this.log.debug('speaker dropped', { userId });
  }

  private checkIdle(): void {
    this.idleTimer = undefined;
    const now = this.deps.clock.now();
    for (const speaker of this.speakers.values()) speaker.sink.checkIdle(now);
    this.scheduleIdleCheck();
  }

  private scheduleIdleCheck(): void {
    if (this.statusValue !== VoiceSessionStatus.Listening) return;
    this.idleTimer = this.deps.clock.setTimeout(this.checkIdle, this.deps.idleCheckMs ?? 100);
  }

  private onConnectionState(old: { status: VoiceConnectionStatus }, state: { status: VoiceConnectionStatus }): void {
    // Leaving Ready for anything but Destroyed means the library rejoins, resumes or gives up: a reconnect.
    if (old.status === VoiceConnectionStatus.Ready && state.status !== VoiceConnectionStatus.Ready && state.status !== VoiceConnectionStatus.Destroyed) {
      this.deps.metrics.inc('voice_reconnects_total');
    }
    if (this.keepsRefusing(state)) {
      // The same op 4 storm as during a join (see start()), now mid-session: the voice server keeps closing (4016,
      // 4017…) before the connection is Ready again. Give the session up; on a later tick, because the library is
      // still inside its state change and reads the connection's adapter right after.
      if (!this.refusedNoticed) {
        this.refusedNoticed = true;
        this.log.warn('voice server keeps refusing the connection', { rejoinAttempts: this.connection?.rejoinAttempts });
        this.deps.clock.setTimeout(() => this.emit('lost', 'refused'), 0);
      }
    } else if (state.status === VoiceConnectionStatus.Disconnected) {
      // Either the library reconnects (Signalling/Connecting soon) or we were removed from the channel.
      const connection = this.connection;
      if (!connection) return;
      Promise.race([
        entersState(connection, VoiceConnectionStatus.Signalling, 5_000),
        entersState(connection, VoiceConnectionStatus.Connecting, 5_000),
      ]).catch(() => {
        this.log.warn('voice connection lost');
        this.emit('lost', 'disconnected');
      });
    } else if (state.status === VoiceConnectionStatus.Destroyed && this.statusValue === VoiceSessionStatus.Listening) {
      this.emit('lost', 'destroyed');
    }
  }

  /** The library is about to rejoin again with no Ready since MAX_JOIN_REJOINS rejoins: the server keeps refusing. */
  private keepsRefusing(state: { status: VoiceConnectionStatus }): boolean {
    return state.status === VoiceConnectionStatus.Signalling && (this.connection?.rejoinAttempts ?? 0) >= MAX_JOIN_REJOINS;
  }

  private setStatus(next: VoiceSessionStatus): void {
    const previous = this.statusValue;
    if (previous === next) return;
    this.statusValue = next;
    this.emit('stateChange', previous, next);
  }
}
