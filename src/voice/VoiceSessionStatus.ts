// Its own module so that code which only reads a session's state does not load @discordjs/voice (see VoiceSessionManager).
/** Lifecycle of one guild's transcription session. */
export enum VoiceSessionStatus {
  Joining = 'joining',
  Listening = 'listening',
  Closing = 'closing',
  Closed = 'closed',
}
