import type { ActiveSession, SessionEndReason } from './VoiceSessionManager.js';
import { groupIntoMessages, splitAttachment, type Attachment } from '../transcribe/transcriptAttachments.js';
import type { LeftoverTranscript, TranscriptFiles } from '../transcribe/TranscriptFile.js';
import type { Clock } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';

/** A message with optional files; mentions are disabled by the sender. */
export interface OutgoingMessage {
  readonly content: string;
  readonly files?: readonly Attachment[];
}

export interface SessionAnnouncerDeps {
  /** Sends one message now (REST createMessage in production). */
  readonly send: (channelId: string, message: OutgoingMessage) => Promise<void>;
  /** Queues a line behind the live transcript lines of that channel (the ChannelPoster). */
  readonly postLine: (channelId: string, line: string) => void;
  /** The bot's current nickname in a guild (null: none). */
  readonly ownNickname: (guildId: string) => Promise<string | null>;
  readonly setNickname: (guildId: string, nick: string | null) => Promise<void>;
  /** Resolves when the session's last segments have been transcribed and posted, or the wait gave up. */
  readonly settle: () => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Shown in the nickname while a session runs. */
export const RECORDING_MARKER = '🔴 ';
const MAX_NICK = 32;

const WHY: Record<SessionEndReason, string> = {
  leave: 'stopped with /leave',
  empty: 'nobody was left in the channel',
  'max-length': 'the maximum session length was reached',
  lost: 'the voice connection was lost',
  shutdown: 'tinyscribe is restarting',
};

/**
 * What people see around a session besides the live lines: the recording marker in the bot's nickname,
 * the silence notice, and at the end the transcript files (transcript.txt and transcript.srt, split to fit
 * the channel's attachment limit, never dropped) with the reason it ended.
 */
export class SessionAnnouncer {
  private readonly previousNicks = new Map<string, string | null>();

  constructor(private readonly deps: SessionAnnouncerDeps) {}

  /** Puts the recording marker in front of the bot's nickname. Failures are logged only. */
  async markRecording(guildId: string, fallbackName: string): Promise<void> {
    try {
      const current = await this.deps.ownNickname(guildId);
      // A marker left by a crashed process: what it marked is the nickname to restore.
      const previous = unmarked(current, fallbackName);
      this.previousNicks.set(guildId, previous);
      if (current?.startsWith(RECORDING_MARKER)) return;
      await this.deps.setNickname(guildId, `${RECORDING_MARKER}${previous ?? fallbackName}`.slice(0, MAX_NICK));
    } catch (error) {
      this.previousNicks.delete(guildId);
      this.deps.logger.warn('could not set the recording nickname', { guildId, error: errorMessage(error) });
    }
  }

  /** Tells the channel that nothing has been heard for a while. */
  onSilence(active: ActiveSession, quietMs: number): void {
    const t = active.session.target;
    const minutes = Math.max(1, Math.round(quietMs / 60_000));
    this.deps.postLine(
      t.textChannelId,
      `🔇 Nothing heard in <#${t.voiceChannelId}> for ${minutes} minute${minutes === 1 ? '' : 's'}. Still listening; use /leave to stop.`,
    );
  }

  /** After a session closed: waits for its last lines, posts the transcript files and the reason, restores the nickname. */
  async finish(active: ActiveSession): Promise<void> {
    const t = active.session.target;
    await this.deps.settle();
    const files = await active.transcript.finish();
    const why = WHY[active.endReason ?? 'leave'];
    const minutes = Math.round((this.deps.clock.now() - active.session.startedAt) / 60_000);
    const head = `⏹️ Stopped transcribing <#${t.voiceChannelId}> (${why}) after ${minutes} min.`;
    try {
      await this.postFiles(t.textChannelId, head, files, active.attachmentLimit);
      await active.transcript.remove();
    } catch (error) {
      // The files stay on disk: nothing said is lost even if Discord refused them.
      this.deps.logger.error('could not post the transcript files', { guildId: t.guildId, error: errorMessage(error) });
    }
    await this.restoreNickname(t.guildId);
  }

  /** Posts transcripts an earlier process could not (it crashed or was killed), then deletes them; clears its nickname marker. */
  async postLeftovers(leftovers: readonly LeftoverTranscript[], fallbackName: string): Promise<void> {
    for (const leftover of leftovers) {
      const { owner, files } = leftover;
      await this.clearStaleMarker(owner.guildId, fallbackName);
      try {
        if (files.lines > 0) {
          const head = `⏹️ Stopped transcribing <#${owner.voiceChannelId}> (tinyscribe restarted unexpectedly; recovered transcript).`;
          await this.postFiles(owner.textChannelId, head, files, owner.attachmentLimit);
        }
        await leftover.remove();
      } catch (error) {
        this.deps.logger.error('could not post a recovered transcript', { guildId: owner.guildId, error: errorMessage(error) });
      }
    }
  }

  /** The end message with transcript.txt and .srt, split and spread over messages to fit `limit`. */
  private async postFiles(channelId: string, head: string, files: TranscriptFiles, limit: number): Promise<void> {
    if (files.lines === 0) {
      await this.deps.send(channelId, { content: `${head} Nothing was transcribed, so there is no transcript file.` });
      return;
    }
    const attachments = [
      ...splitAttachment({ name: 'transcript.txt', data: files.txt }, limit, '\n'),
      ...splitAttachment({ name: 'transcript.srt', data: files.srt }, limit, '\n\n'),
    ];
    const messages = groupIntoMessages(attachments, limit);
    for (const [i, group] of messages.entries()) {
      const part = messages.length > 1 ? ` (${i + 1}/${messages.length})` : '';
      const content = i === 0 ? `${head} Transcript: ${files.lines} line${files.lines === 1 ? '' : 's'}${part}.` : `Transcript, continued${part}.`;
      await this.deps.send(channelId, { content, files: group });
    }
  }

  private async clearStaleMarker(guildId: string, fallbackName: string): Promise<void> {
    try {
      const current = await this.deps.ownNickname(guildId);
      if (current?.startsWith(RECORDING_MARKER)) await this.deps.setNickname(guildId, unmarked(current, fallbackName));
    } catch (error) {
      this.deps.logger.warn('could not clear a stale recording nickname', { guildId, error: errorMessage(error) });
    }
  }

  private async restoreNickname(guildId: string): Promise<void> {
    if (!this.previousNicks.has(guildId)) return;
    const previous = this.previousNicks.get(guildId) ?? null;
    this.previousNicks.delete(guildId);
    try {
      await this.deps.setNickname(guildId, previous);
    } catch (error) {
      this.deps.logger.warn('could not restore the nickname', { guildId, error: errorMessage(error) });
    }
  }
}

/** The nickname without our marker; null when what remains is just the default name (there was no nickname). */
function unmarked(nick: string | null, fallbackName: string): string | null {
  if (!nick?.startsWith(RECORDING_MARKER)) return nick;
  const rest = nick.slice(RECORDING_MARKER.length);
  return rest === fallbackName || rest === '' ? null : rest;
}
