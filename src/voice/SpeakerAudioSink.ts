/** RTP position of a packet; a reused object, valid only during the call it is passed to. */
export interface RtpPosition {
  sequence: number;
  timestamp: number;
  /** A change of SSRC means the user left and came back: a new RTP timeline. */
  ssrc: number;
}

/**
 * Where one speaker's Opus packets go (the segmenter in production). The voice layer knows nothing about
 * PCM or segments; the audio layer knows nothing about Discord streams.
 */
export interface SpeakerAudioSink {
  /** One Opus packet, with its RTP position when known (null: use arrival time). Must not throw. */
  onPacket(opus: Buffer, rtp: RtpPosition | null): void;
  /** A packet arrived but could not be decrypted; the stream was recreated. */
  onLostPacket(): void;
  /** Called periodically: seals the segment in progress when the speaker has been silent long enough. */
  checkIdle(nowMs: number): void;
  /** Seals whatever is in progress (session ending). */
  flush(): void;
  /** Frees the decoder and buffers. */
  close(): void;
}
