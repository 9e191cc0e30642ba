import type { CommandHandler } from './CommandRouter.js';
import type { VoiceSessionManager } from '../voice/VoiceSessionManager.js';
import type { Clock } from '../util/Clock.js';

export interface StatusCommandDeps {
  readonly sessions: VoiceSessionManager;
  readonly clock: Clock;
  /** Epoch ms the process started. */
  readonly processStartedAt: number;
  /** Segments waiting for or under upload (all guilds). */
  readonly segmentsPending: () => number;
  /** Segments in the disk spool (all guilds). */
  readonly spoolDepth: () => number;
  /** Resident set size in bytes. */
  readonly rssBytes: () => number;
}

/** `/status`: this guild's session and the process, only for the caller. */
export function createStatusCommand(deps: StatusCommandDeps): CommandHandler {
  return async (inv) => {
    const now = deps.clock.now();
    const active = deps.sessions.get(inv.guildId);
    const session = active
      ? [
          `**Session**: <#${active.session.target.voiceChannelId}> → <#${active.session.target.textChannelId}>, ` +
            `running ${duration(now - active.session.startedAt)}, started by <@${active.session.target.startedBy}>`,
          `Speakers heard: ${active.session.speakerCount} · lines so far: ${active.transcript.lineCount}`,
        ]
      : ['**Session**: none in this server (use /join).'];
    const process = [
      `Segments pending: ${deps.segmentsPending()} · spool depth: ${deps.spoolDepth()}`,
      `**Process**: RSS ${(deps.rssBytes() / 1_048_576).toFixed(1)} MB · uptime ${duration(now - deps.processStartedAt)} · sessions ${deps.sessions.size}`,
    ];
    return { content: [...session, ...process].join('\n'), ephemeral: true };
  };
}

/** "1 h 02 min", "3 min 05 s", "12 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}
