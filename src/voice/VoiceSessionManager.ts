import { randomUUID } from 'node:crypto';
import { VoiceSession, VoiceSessionStatus, type VoiceSessionDeps, type VoiceSessionTarget } from './VoiceSession.js';
import { DisplayNames, type FetchMember } from './DisplayNames.js';
import { SessionGuard, type GuardEndReason } from './SessionGuard.js';
import { TranscriptFile } from '../transcribe/TranscriptFile.js';
import type { Clock } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { TinyscribeError } from '../util/errors.js';
import type { DiscordGatewayAdapterCreator } from '@discordjs/voice';

/** Why a session ended: /leave, the guard (empty channel, max length), voice lost, or shutdown. */
export type SessionEndReason = 'leave' | GuardEndReason | 'lost' | 'shutdown';

/** What a running (or just ended, still finishing) session is, for commands, status and transcripts. */
export interface ActiveSession {
  readonly session: VoiceSession;
  readonly names: DisplayNames;
  readonly transcript: TranscriptFile;
  readonly guard: SessionGuard;
  /** Largest attachment the posting channel takes (from the /join interaction). */
  readonly attachmentLimit: number;
  /** Plain messages (`**Name**: text`), or a channel webhook posting under each speaker's name and avatar. */
  readonly postMode: PostMode;
  /** Set once the session is ending. */
  endReason: SessionEndReason | undefined;
}

/** How live lines are posted. */
export type PostMode = 'messages' | 'webhook';

/** Limits every session is watched for. */
export interface SessionLimits {
  readonly autoLeaveMs: number;
  readonly maxSessionMs: number;
  readonly silenceNoticeMs: number;
}

/** What a session start needs besides the target. */
export interface StartSessionInput extends Omit<VoiceSessionTarget, 'sessionId'> {
  readonly attachmentLimit?: number;
  readonly postMode?: PostMode;
}

export interface VoiceSessionManagerOptions {
  readonly adapterFor: (guildId: string) => DiscordGatewayAdapterCreator;
  readonly sessionDeps: Omit<VoiceSessionDeps, 'adapterCreator'>;
  readonly fetchMember: FetchMember;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where per-session transcript files are written while a session runs. */
  readonly transcriptDir: string;
  readonly limits: SessionLimits;
  /** Humans in a voice channel now (auto-leave). */
  readonly humansIn: (guildId: string, channelId: string) => number;
  /** Nothing was heard for a while: tell the posting channel. */
  readonly onSilence?: (active: ActiveSession, quietMs: number) => void;
  /**
   * Called once after a session has closed (post its transcript files, restore the nickname…). The session stays
   * findable by {@link bySessionId} until the returned promise settles, so late transcripts still reach its file.
   */
  readonly onClosed?: (active: ActiveSession) => Promise<void>;
}

/** Discord's default attachment limit for a guild without boosts. */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

/**
 * At most one session per guild; sessions in different guilds are independent. The only state kept
 * per guild is the running session itself (names, transcript file and guard live and die with it).
 */
export class VoiceSessionManager {
  private readonly sessions = new Map<string, ActiveSession>();
  private readonly finishing = new Map<ActiveSession, Promise<void>>();

  constructor(private readonly options: VoiceSessionManagerOptions) {}

  /** The running session of a guild, if any. */
  get(guildId: string): ActiveSession | undefined {
    return this.sessions.get(guildId);
  }

  /** All running sessions. */
  all(): IterableIterator<ActiveSession> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Finds the running or finishing session whose session id matches (segments carry it). */
  bySessionId(sessionId: string): ActiveSession | undefined {
    for (const active of this.sessions.values()) if (active.session.target.sessionId === sessionId) return active;
    for (const active of this.finishing.keys()) if (active.session.target.sessionId === sessionId) return active;
    return undefined;
  }

  /** Joins and starts listening; throws SESSION_EXISTS if the guild already has a session, or the voice error. */
  async start(input: StartSessionInput): Promise<ActiveSession> {
    if (this.sessions.has(input.guildId)) throw new TinyscribeError('SESSION_EXISTS', 'a session already runs in this guild');
    const { attachmentLimit, postMode, ...target } = input;
    const full: VoiceSessionTarget = { ...target, sessionId: randomUUID() };
    const { clock, logger, limits } = this.options;
    const session = new VoiceSession(full, { ...this.options.sessionDeps, adapterCreator: this.options.adapterFor(target.guildId) });
    let active: ActiveSession | undefined;
    const guard = new SessionGuard({
      clock,
      ...limits,
      humans: () => this.options.humansIn(full.guildId, full.voiceChannelId),
      onEnd: (reason) => this.end(active!, reason),
      onSilence: (quietMs) => this.options.onSilence?.(active!, quietMs),
    });
    active = {
      session,
      names: new DisplayNames(target.guildId, this.options.fetchMember, logger),
      transcript: new TranscriptFile(this.options.transcriptDir, full.sessionId, session.startedAt, logger, {
        guildId: full.guildId,
        voiceChannelId: full.voiceChannelId,
        textChannelId: full.textChannelId,
        attachmentLimit: attachmentLimit ?? DEFAULT_ATTACHMENT_LIMIT,
      }),
      guard,
      attachmentLimit: attachmentLimit ?? DEFAULT_ATTACHMENT_LIMIT,
      postMode: postMode ?? 'messages',
      endReason: undefined,
    };
    const self = active;
    this.sessions.set(target.guildId, self);
    this.options.metrics.set('sessions_active', this.sessions.size);
    session.on('stateChange', (_from, to) => {
      if (to !== VoiceSessionStatus.Closed) return;
      guard.stop();
      if (this.sessions.get(target.guildId) === self) this.sessions.delete(target.guildId);
      this.options.metrics.set('sessions_active', this.sessions.size);
      // A session that never got to listen has nothing to finish.
      if (!self.endReason) return;
      const done = (this.options.onClosed?.(self) ?? Promise.resolve())
        .catch((error: unknown) => logger.error('could not finish a session', { guildId: target.guildId, error }))
        .finally(() => this.finishing.delete(self));
      this.finishing.set(self, done);
    });
    session.on('lost', (reason) => {
      logger.warn('session lost its voice connection', { guildId: target.guildId, reason });
      this.end(self, 'lost');
    });
    try {
      await session.start();
    } catch (error) {
      session.close();
      throw error;
    }
    guard.start();
    this.options.metrics.inc('sessions_started_total');
    return self;
  }

  /**
   * A VOICE_STATE_UPDATE for a member: the guild's session drops their speaker if they left its channel. Gateway
   * JSON is not validated upstream, so a payload whose channel is neither null nor an id is ignored (dropping a
   * speaker mid-utterance on a bad payload would cost their audio until their next speaking start).
   */
  onVoiceStateUpdate(guildId: string | undefined, userId: unknown, channelId: unknown): void {
    if (guildId === undefined || typeof userId !== 'string') return;
    if (channelId !== null && (typeof channelId !== 'string' || channelId.length === 0)) return;
    this.sessions.get(guildId)?.session.onMemberVoiceState(userId, channelId);
  }

  /** Ends a guild's session; returns it, or undefined if none ran. */
  stop(guildId: string, reason: SessionEndReason = 'leave'): ActiveSession | undefined {
    const active = this.sessions.get(guildId);
    if (active) this.end(active, reason);
    return active;
  }

  /** Ends every session (shutdown). */
  stopAll(reason: SessionEndReason = 'shutdown'): void {
    for (const active of [...this.sessions.values()]) this.end(active, reason);
  }

  /** Resolves when every ended session has been finished (transcripts posted). */
  async finished(): Promise<void> {
    await Promise.all([...this.finishing.values()]);
  }

  private end(active: ActiveSession, reason: SessionEndReason): void {
    active.endReason ??= reason;
    active.session.close();
  }
}
