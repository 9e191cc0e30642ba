export * from './DiscordSimulator.js';
export * from './SimSpeaker.js';
export * from './records.js';
export * from './events.js';
export type { VoiceEncryptionMode } from './transportCrypto.js';
export { VOICE_ENCRYPTION_MODES } from './transportCrypto.js';
export type { BulkGuildShape } from './bulkGuilds.js';
export type { InteractionOptionInput } from './payloads.js';
export { SILENCE_FRAME, readRtpHeader } from './rtp.js';
