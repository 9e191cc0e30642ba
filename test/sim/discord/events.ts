import type {
  ChannelMessageRecord,
  CloseRecord,
  CommandRegistrationRecord,
  GatewayOpRecord,
  IdentifyRecord,
  InteractionCallbackRecord,
  MessageEditRecord,
  RestRecord,
  ResumeRecord,
  VoiceCloseRecord,
  VoiceOpRecord,
  VoiceReadyRecord,
  VoiceStateRequestRecord,
  WebhookMessageRecord,
} from './records.js';

/** Events of {@link DiscordSimulator} (node:events' typed map). Every one is also in `sim.records`. */
export interface SimEvents {
  /** The bot posted a channel message. */
  message: [record: ChannelMessageRecord];
  /** The bot edited a channel message. */
  messageEdit: [record: MessageEditRecord];
  /** An interaction callback, or an edit / follow-up / delete on an interaction webhook. */
  interactionResponse: [record: InteractionCallbackRecord | WebhookMessageRecord];
  /** The bot registered (bulk-overwrote) commands. */
  commands: [record: CommandRegistrationRecord];
  /** Every REST request, after it was answered. */
  rest: [record: RestRecord];
  /** The bot identified on the main gateway. */
  identify: [record: IdentifyRecord];
  /** The bot tried to resume. */
  resume: [record: ResumeRecord];
  /** Any payload from the bot on the main gateway. */
  gatewayOp: [record: GatewayOpRecord];
  gatewayClose: [record: CloseRecord];
  /** Gateway op 4 with a channel. */
  voiceJoin: [record: VoiceStateRequestRecord];
  /** Gateway op 4 with channel_id null. */
  voiceLeave: [record: VoiceStateRequestRecord];
  /** Session description sent: the bot has the key and can receive audio. */
  voiceReady: [record: VoiceReadyRecord];
  voiceOp: [record: VoiceOpRecord];
  voiceClose: [record: VoiceCloseRecord];
  /** Something was recorded (waitFor re-checks its predicate on this). */
  change: [];
}

/** What the servers call to publish a record: push it, emit its event, wake waiters. */
export type Emit = <K extends Exclude<keyof SimEvents, 'change'>>(event: K, ...args: SimEvents[K]) => void;
