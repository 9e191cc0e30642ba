import { DisplayNames, type FetchMember } from './DisplayNames.js';
import type { ActiveSession } from './VoiceSessionManager.js';
import { formatLine, formatText } from '../transcribe/formatLine.js';
import type { LineAuthor, PostResult } from '../transcribe/ChannelPoster.js';
import type { Transcript } from '../transcribe/TranscriptEvents.js';
import { TinyscribeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export interface SessionTranscriptsDeps {
  /** The running or finishing session a segment belongs to. */
  readonly sessionOf: (sessionId: string) => ActiveSession | undefined;
  readonly isOptedOut: (userId: string) => boolean;
  /** Queues a line for live posting (batched per channel); resolves with its fate (ChannelPoster.post). */
  readonly postLine: (channelId: string, line: string, author?: LineAuthor) => Promise<PostResult>;
  readonly fetchMember: FetchMember;
  readonly logger: Logger;
}

/**
 * Where each transcript goes: the live line in the posting channel and the session's transcript file,
 * under the speaker's display name. A transcript of someone who opted out meanwhile is dropped.
 * The returned promise settles with the line's fate (see TranscriptListener): it resolves once Discord accepted
 * the message carrying the line, or the line was dropped on purpose, and rejects (TRANSCRIPT_NOT_POSTED) when it
 * may still go through later, so that the spool drainer keeps the audio until then.
 */
export function createTranscriptHandler(deps: SessionTranscriptsDeps): (t: Transcript) => Promise<void> {
  return async (t) => {
    if (deps.isOptedOut(t.meta.userId)) {
      // Dropped on purpose: the speaker asked not to be transcribed, so a spooled entry may be deleted.
      deps.logger.info('dropped the transcript of an opted-out user', { guildId: t.meta.guildId });
      return;
    }
    const active = deps.sessionOf(t.meta.sessionId);
    // A spooled segment may outlive its session: its name comes from REST, and it is only posted.
    const names = active?.names ?? new DisplayNames(t.meta.guildId, deps.fetchMember, deps.logger);
    if (!t.redelivered) active?.guard.heard();
    const name = await names.resolve(t.meta.userId); // never rejects: falls back to "User <id>"
    const delayedFrom = t.fromSpool ? t.meta.startedAt : undefined;
    const posted =
      active?.postMode === 'webhook'
        ? deps.postLine(t.meta.textChannelId, formatText(t.text, delayedFrom), { name, avatarUrl: names.avatarOf(t.meta.userId) })
        : deps.postLine(t.meta.textChannelId, formatLine(name, t.text, delayedFrom));
    // The file takes the line when it is queued, whatever Discord does with it (the file is the record of what was
    // said). A redelivery of the same spool entry in this process was written the first time: once per line.
    if (!t.redelivered) active?.transcript.append({ startedAt: t.meta.startedAt, durationMs: t.meta.durationMs, name, text: t.text });
    deps.logger.info('transcript', { guildId: t.meta.guildId, userId: t.meta.userId, chars: t.text.length, fromSpool: t.fromSpool, redelivered: t.redelivered === true });
    const result = await posted;
    if (result === 'refused') {
      // Dropped on purpose: Discord refused the message for good (channel deleted, no permission to post, invalid
      // form); the same request would be refused again, and an entry kept for ever would block the spool behind it.
      deps.logger.warn('transcript line refused by Discord for good; dropping it', { guildId: t.meta.guildId, channelId: t.meta.textChannelId, fromSpool: t.fromSpool });
      return;
    }
    if (result === 'failed') {
      throw new TinyscribeError('TRANSCRIPT_NOT_POSTED', `Discord did not take the transcript line for channel ${t.meta.textChannelId} (yet)`);
    }
  };
}
