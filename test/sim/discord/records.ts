/** A file that arrived in a multipart request. */
export interface ReceivedFile {
  /** Form field, e.g. `files[0]`. */
  readonly field: string;
  /** File name from the Content-Disposition header. */
  readonly name: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** One HTTP request the REST server answered. `at` is performance.now() (monotonic ms). */
export interface RestRecord {
  readonly method: string;
  /** URL-decoded path below /api/v10, without the query. */
  readonly path: string;
  /** Route template, e.g. `/channels/:channelId/messages`, or `unknown`. */
  readonly route: string;
  readonly query: string;
  readonly status: number;
  readonly at: number;
  /** Why the answer was not the route's own: 'rateLimit', 'fault', 'auth', 'notFound'. */
  readonly injected?: 'rateLimit' | 'fault' | 'auth' | 'notFound';
}

/** POST /channels/{id}/messages. */
export interface ChannelMessageRecord {
  readonly id: string;
  readonly channelId: string;
  readonly content: string;
  readonly allowedMentions: unknown;
  readonly embeds: readonly unknown[];
  readonly files: readonly ReceivedFile[];
  /** The whole JSON body (payload_json for multipart). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly multipart: boolean;
  readonly at: number;
  /** Set when the message came through a channel webhook (POST /webhooks/{id}/{token}): its id and the name and avatar used. */
  readonly webhook?: { readonly id: string; readonly username: string | undefined; readonly avatarUrl: string | undefined };
}

/** PATCH /channels/{id}/messages/{mid}. */
export interface MessageEditRecord {
  readonly channelId: string;
  readonly messageId: string;
  readonly content: string | undefined;
  readonly files: readonly ReceivedFile[];
  readonly payload: Readonly<Record<string, unknown>>;
  readonly at: number;
}

/** POST /interactions/{id}/{token}/callback. */
export interface InteractionCallbackRecord {
  readonly kind: 'callback';
  readonly interactionId: string;
  readonly token: string;
  /** 4 reply, 5 deferred reply, 6 deferred update, 7 update, 9 modal… */
  readonly type: number;
  readonly data: Readonly<Record<string, unknown>> | undefined;
  readonly files: readonly ReceivedFile[];
  readonly withResponse: boolean;
  /** Milliseconds between INTERACTION_CREATE and this callback (Discord allows 3000). */
  readonly latencyMs: number;
  readonly at: number;
}

/** Webhook-token routes used after an interaction: editReply, followUp, editing or deleting those. */
export interface WebhookMessageRecord {
  readonly kind: 'editOriginal' | 'followUp' | 'editMessage' | 'deleteOriginal' | 'deleteMessage';
  readonly applicationId: string;
  readonly token: string;
  /** The interaction the token belongs to, if the simulator issued it. */
  readonly interactionId: string | undefined;
  readonly messageId: string;
  readonly content: string | undefined;
  readonly files: readonly ReceivedFile[];
  readonly payload: Readonly<Record<string, unknown>>;
  readonly at: number;
}

/** PUT /applications/{app}/commands or /applications/{app}/guilds/{g}/commands. */
export interface CommandRegistrationRecord {
  readonly scope: 'global' | 'guild';
  readonly guildId: string | null;
  readonly commands: readonly Readonly<Record<string, unknown>>[];
  readonly at: number;
}

/** PATCH /guilds/{g}/members/@me. */
export interface NicknameRecord {
  readonly guildId: string;
  readonly nick: string | null;
  readonly at: number;
}

/** A payload the bot sent on the main gateway (token replaced by "[redacted]"). */
export interface GatewayOpRecord {
  readonly op: number;
  readonly d: unknown;
  readonly sessionId: string | null;
  readonly at: number;
}

/** IDENTIFY, decoded. */
export interface IdentifyRecord {
  readonly sessionId: string | null;
  readonly tokenValid: boolean;
  readonly intents: number;
  readonly shard: unknown;
  readonly properties: unknown;
  readonly largeThreshold: number | undefined;
  readonly compress: unknown;
  /** Close code the simulator answered with instead of READY, if any. */
  readonly rejectedWith: number | undefined;
  readonly at: number;
}

/** RESUME, decoded. */
export interface ResumeRecord {
  readonly sessionId: string;
  readonly seq: number | null;
  /** Dispatches replayed before RESUMED (undefined when the resume was refused). */
  readonly replayed: number | undefined;
  readonly accepted: boolean;
  readonly at: number;
}

/** A gateway or voice socket closing. */
export interface CloseRecord {
  readonly code: number;
  readonly reason: string;
  /** Who asked for the close: the simulator (a hook or a protocol rule) or the client. */
  readonly initiatedBy: 'server' | 'client';
  readonly at: number;
}

/** A voice-gateway payload the bot sent. Binary (DAVE) ones carry `binary: true` and the byte length in `d`. */
export interface VoiceOpRecord {
  readonly guildId: string | null;
  readonly op: number;
  readonly d: unknown;
  readonly binary: boolean;
  readonly at: number;
}

/** A voice socket closing. */
export interface VoiceCloseRecord extends CloseRecord {
  readonly guildId: string | null;
}

/** The bot asked to join (channelId) or leave (null) with gateway op 4. */
export interface VoiceStateRequestRecord {
  readonly guildId: string;
  readonly channelId: string | null;
  readonly selfDeaf: boolean;
  readonly selfMute: boolean;
  readonly at: number;
}

/** A voice session reached the point where the bot has the key (op 4 sent). */
export interface VoiceReadyRecord {
  readonly guildId: string;
  readonly ssrc: number;
  readonly mode: string;
  readonly daveVersionOffered: number;
  readonly at: number;
}

/** IP discovery request answered on UDP. */
export interface DiscoveryRecord {
  readonly ssrc: number;
  readonly address: string;
  readonly port: number;
  readonly at: number;
}

/** Everything the simulator saw, in arrival order. Tests assert on these arrays; nothing is ever removed. */
export class SimRecords {
  readonly rest: RestRecord[] = [];
  readonly messages: ChannelMessageRecord[] = [];
  readonly messageEdits: MessageEditRecord[] = [];
  readonly interactionCallbacks: InteractionCallbackRecord[] = [];
  readonly webhookMessages: WebhookMessageRecord[] = [];
  readonly commands: CommandRegistrationRecord[] = [];
  readonly nicknames: NicknameRecord[] = [];
  readonly gatewayOps: GatewayOpRecord[] = [];
  readonly identifies: IdentifyRecord[] = [];
  readonly resumes: ResumeRecord[] = [];
  readonly gatewayCloses: CloseRecord[] = [];
  /**
   * Dispatches the simulator produced, in order. `s` is 0 and `suppressed` true when the bot's intents exclude
   * the event (Discord would not send it either).
   */
  readonly dispatches: { readonly t: string; readonly s: number; readonly at: number; readonly suppressed?: true }[] = [];
  readonly voiceStateRequests: VoiceStateRequestRecord[] = [];
  readonly voiceOps: VoiceOpRecord[] = [];
  readonly voiceCloses: VoiceCloseRecord[] = [];
  readonly voiceReady: VoiceReadyRecord[] = [];
  readonly discoveries: DiscoveryRecord[] = [];
  /** UDP counters: 8-byte keep-alives and RTP the bot sent (it only does when it plays audio). */
  readonly udp = { keepAlives: 0, botRtpPackets: 0, otherPackets: 0 };
}
