import { randomUUID } from 'node:crypto';
import { VoiceSession, VoiceSessionStatus, type VoiceSessionDeps, type VoiceSessionTarget } from './VoiceSession.js';
import { DisplayNames, type FetchMember } from './DisplayNames.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import type { DiscordGatewayAdapterCreator } from '@discordjs/voice';

/** What a running session is, for commands and status. */
export interface ActiveSession {
  readonly session: VoiceSession;
  readonly names: DisplayNames;
}

export interface VoiceSessionManagerOptions {
  readonly adapterFor: (guildId: string) => DiscordGatewayAdapterCreator;
  readonly sessionDeps: Omit<VoiceSessionDeps, 'adapterCreator'>;
  readonly fetchMember: FetchMember;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Called after a session has closed (to post its transcript file, etc.). */
  readonly onClosed?: (active: ActiveSession) => void;
}

/**
 * At most one session per guild; sessions in different guilds are independent. The only state kept
 * per guild is the running session itself.
 */
export class VoiceSessionManager {
  private readonly sessions = new Map<string, ActiveSession>();

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

  /** Finds the running session whose session id matches (segments carry it). */
  bySessionId(sessionId: string): ActiveSession | undefined {
    for (const active of this.sessions.values()) if (active.session.target.sessionId === sessionId) return active;
    return undefined;
  }

  /** Joins and starts listening; throws if the guild already has a session or voice fails. */
  async start(target: Omit<VoiceSessionTarget, 'sessionId'>): Promise<ActiveSession> {
    if (this.sessions.has(target.guildId)) throw new Error('a session already runs in this guild');
    const full: VoiceSessionTarget = { ...target, sessionId: randomUUID() };
    const session = new VoiceSession(full, { ...this.options.sessionDeps, adapterCreator: this.options.adapterFor(target.guildId) });
    const names = new DisplayNames(target.guildId, this.options.fetchMember, this.options.logger);
    const active: ActiveSession = { session, names };
    this.sessions.set(target.guildId, active);
    this.options.metrics.set('sessions_active', this.sessions.size);
    session.on('stateChange', (_from, to) => {
      if (to !== VoiceSessionStatus.Closed) return;
      if (this.sessions.get(target.guildId) === active) this.sessions.delete(target.guildId);
      this.options.metrics.set('sessions_active', this.sessions.size);
      this.options.onClosed?.(active);
    });
    session.on('lost', (reason) => {
      this.options.logger.warn('session lost its voice connection', { guildId: target.guildId, reason });
      session.close();
    });
    try {
      await session.start();
    } catch (error) {
      session.close();
      throw error;
    }
    this.options.metrics.inc('sessions_started_total');
    return active;
  }

  /** Ends a guild's session; returns it, or undefined if none ran. */
  stop(guildId: string): ActiveSession | undefined {
    const active = this.sessions.get(guildId);
    active?.session.close();
    return active;
  }

  /** Ends every session (shutdown). */
  stopAll(): void {
    for (const active of [...this.sessions.values()]) active.session.close();
  }
}
