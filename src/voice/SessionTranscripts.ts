import { DisplayNames, type FetchMember } from './DisplayNames.js';
import type { ActiveSession } from './VoiceSessionManager.js';
import { formatLine, formatText } from '../transcribe/formatLine.js';
import type { LineAuthor } from '../transcribe/ChannelPoster.js';
import type { Transcript } from '../transcribe/TranscriptEvents.js';
import type { Logger } from '../util/logger.js';

export interface SessionTranscriptsDeps {
  /** The running or finishing session a segment belongs to. */
  readonly sessionOf: (sessionId: string) => ActiveSession | undefined;
  readonly isOptedOut: (userId: string) => boolean;
  /** Queues a line for live posting (batched per channel). */
  readonly postLine: (channelId: string, line: string, author?: LineAuthor) => void;
  readonly fetchMember: FetchMember;
  readonly logger: Logger;
}

/**
 * Where each transcript goes: the live line in the posting channel and the session's transcript file,
 * under the speaker's display name. A transcript of someone who opted out meanwhile is dropped.
 */
export function createTranscriptHandler(deps: SessionTranscriptsDeps): (t: Transcript) => void {
  return (t) => {
    if (deps.isOptedOut(t.meta.userId)) {
      deps.logger.info('dropped the transcript of an opted-out user', { guildId: t.meta.guildId });
      return;
    }
    const active = deps.sessionOf(t.meta.sessionId);
    // A spooled segment may outlive its session: its name comes from REST, and it is only posted.
    const names = active?.names ?? new DisplayNames(t.meta.guildId, deps.fetchMember, deps.logger);
    active?.guard.heard();
    void names.resolve(t.meta.userId).then((name) => {
      const delayedFrom = t.fromSpool ? t.meta.startedAt : undefined;
      if (active?.postMode === 'webhook') {
        deps.postLine(t.meta.textChannelId, formatText(t.text, delayedFrom), { name, avatarUrl: names.avatarOf(t.meta.userId) });
      } else {
        deps.postLine(t.meta.textChannelId, formatLine(name, t.text, delayedFrom));
      }
      active?.transcript.append({ startedAt: t.meta.startedAt, durationMs: t.meta.durationMs, name, text: t.text });
      deps.logger.info('transcript', { guildId: t.meta.guildId, userId: t.meta.userId, chars: t.text.length, fromSpool: t.fromSpool });
    });
  };
}
