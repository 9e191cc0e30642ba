import type { MetricKind, Metrics } from '../util/Metrics.js';

/*
 * The families /metrics must show from the first scrape, with help texts. Components that own a
 * group register it themselves (audio: defineAudioMetrics, transcription client: TRANSCRIBE_METRICS,
 * gateway: GatewayReadiness); these are the ones incremented from several places or by code that
 * registers nothing. A counter that only appears after its first increment makes `rate()` and
 * alerts blind until then, so everything is defined at zero.
 */
const BOT_METRICS: readonly (readonly [name: string, kind: MetricKind, help: string])[] = [
  ['sessions_active', 'gauge', 'Voice sessions running now.'],
  ['sessions_started_total', 'counter', 'Voice sessions started.'],
  ['speakers_active', 'gauge', 'Speakers being received now, over all sessions.'],
  ['segments_submitted_total', 'counter', 'Speech segments handed to the transcription pipeline.'],
  ['segments_uploaded_total', 'counter', 'Segments transcribed straight away (spooled ones count in spool_uploaded_total).'],
  ['segments_failed_total', 'counter', 'Segments the API rejected for good (not retryable), straight away or from the spool.'],
  ['segments_spooled_total', 'counter', 'Segments written to the disk spool after a retryable failure (or at shutdown).'],
  ['segments_lost_total', 'counter', 'Segments neither transcribed nor spooled.'],
  ['segments_filtered_total', 'counter', 'Transcripts dropped as hallucinations (silence, credits).'],
  ['uploads_in_flight', 'gauge', 'Transcription uploads running now.'],
  ['queue_depth', 'gauge', 'Segments waiting for an upload slot.'],
  ['spool_segments', 'gauge', 'Segments waiting in the disk spool.'],
  ['spool_bytes', 'gauge', 'Bytes of audio waiting in the disk spool.'],
  ['spool_uploaded_total', 'counter', 'Spooled segments transcribed later.'],
  ['spool_upload_failures_total', 'counter', 'Failed retries of spooled segments.'],
  ['posts_sent_total', 'counter', 'Messages posted to text channels.'],
  ['posts_failed_total', 'counter', 'Messages that could not be posted.'],
  ['voice_datagrams_rejected_total', 'counter', 'Voice UDP datagrams dropped before decoding (malformed, or the receiver threw on them).'],
  ['voice_messages_rejected_total', 'counter', 'Voice WebSocket messages from the voice server that the voice library could not handle (dropped).'],
  ['voice_reconnects_total', 'counter', 'Voice connections that left the ready state (rejoin, resume or loss).'],
  ['event_loop_stalls_total', 'counter', 'Times the event loop was blocked for longer than the stall threshold.'],
  ['commands_total', 'counter', 'Slash commands received.'],
  ['commands_failed_total', 'counter', 'Slash commands that failed.'],
  ['interactions_malformed_total', 'counter', 'Slash commands whose payload could not be read (answered with an error).'],
  ['gateway_dispatch_errors_total', 'counter', 'Gateway events whose handler threw (logged and skipped; the process stays up).'],
  ['gateway_entries_skipped_total', 'counter', 'Entries of gateway payloads (members, voice states) skipped for lacking the fields used.'],
];

/** Registers the bot-wide metric families with their help texts (once at start; idempotent). */
export function defineBotMetrics(metrics: Metrics): void {
  for (const [name, kind, help] of BOT_METRICS) metrics.define(name, kind, help);
}
