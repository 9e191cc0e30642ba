import type { SegmentMeta } from '../audio/Segment.js';
import type { Logger } from '../util/logger.js';
import { serviceFaultText } from './failureText.js';
import type { WarningListener } from './TranscriptEvents.js';

export interface ServiceFaultNoticeOptions {
  readonly onWarning: WarningListener;
  readonly logger: Logger;
}

/**
 * Tells people that the transcription service cannot be used (rejected key, wrong URL, unparseable answers) and
 * that their speech waits on disk: once per episode and text channel, not once per segment, since with a wrong key
 * every segment fails and a warning each would bury the channel. An episode starts with the first service fault
 * and ends with the next successful upload, live or from the spool. Shared by the pipeline and the drainer so that
 * both count as one episode.
 */
export class ServiceFaultNotice {
  private readonly onWarning: WarningListener;
  private readonly logger: Logger;
  private inEpisode = false;
  /** Text channels told in this episode; as many as channels with speech, cleared when the episode ends. */
  private readonly told = new Set<string>();

  constructor(options: ServiceFaultNoticeOptions) {
    this.onWarning = options.onWarning;
    this.logger = options.logger;
  }

  /** A service fault hit `segment` (kept on disk by the caller); warns its text channel if not yet told. */
  report(error: unknown, segment: SegmentMeta | undefined, file?: string): void {
    if (!this.inEpisode) {
      this.inEpisode = true;
      // The response body is for operators only (see failureText.ts); the logger redacts the key.
      this.logger.warn('transcription service unusable; keeping speech on disk until it accepts uploads', {
        error,
        ...bodyExcerptOf(error),
      });
    }
    if (segment === undefined || this.told.has(segment.textChannelId)) return;
    this.told.add(segment.textChannelId);
    try {
      this.onWarning(serviceFaultText(error), { code: 'SERVICE_FAULT', segment, ...(file ? { file } : {}), error });
    } catch (listenerError) {
      this.logger.error('onWarning listener threw', { error: listenerError });
    }
  }

  /** An upload succeeded: the episode (if any) is over, and a later fault is news again. */
  recovered(): void {
    if (!this.inEpisode) return;
    this.inEpisode = false;
    this.told.clear();
    this.logger.info('transcription service accepts uploads again');
  }
}

function bodyExcerptOf(error: unknown): { bodyExcerpt?: string } {
  if (typeof error !== 'object' || error === null || !('bodyExcerpt' in error)) return {};
  return typeof error.bodyExcerpt === 'string' ? { bodyExcerpt: error.bodyExcerpt } : {};
}
