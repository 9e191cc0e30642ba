import type { AudioReceiveStream, VoiceReceiver } from '@discordjs/voice';
import { EndBehaviorType } from '@discordjs/voice';
import type { RtpHeaderTap } from './RtpHeaderTap.js';
import type { RtpPosition, SpeakerAudioSink } from './SpeakerAudioSink.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';

/** The listener gauges are refreshed every this many packets (about once a second of speech). */
const LISTENER_SAMPLE_PACKETS = 50;

/**
 * One speaker's subscription while they are in the channel. We subscribe once (Manual end: the stream never
 * ends on its own) instead of per utterance, so the first packet of every utterance lands in a stream
 * that already exists: no lost onsets, no listener build-up. The receiver destroys a stream on a
 * decryption error; we subscribe again at once, and the sink (which owns the segment in progress)
 * carries on.
 */
export class SpeakerReceiver {
  /** Current audio SSRC of this user (-1 until mapped). */
  ssrc = -1;
  private stream: AudioReceiveStream | undefined;
  private closed = false;
  /** Packets since the listener gauges were last sampled. */
  private sinceSample = 0;
  /** Reused for every packet: the sink must not keep it. */
  private readonly position: RtpPosition = { sequence: 0, timestamp: 0, ssrc: -1 };

  constructor(
    readonly userId: string,
    private readonly receiver: VoiceReceiver,
    private readonly tap: RtpHeaderTap,
    readonly sink: SpeakerAudioSink,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.onData = this.onData.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    this.subscribe();
  }

  /** Records the user's (new) SSRC; the sink sees the change in the next packet's position. */
  setSsrc(ssrc: number): void {
    this.ssrc = ssrc;
  }

  /** Ends the subscription and frees the sink. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      stream.off('data', this.onData);
      stream.off('error', this.onError);
      stream.off('close', this.onClose);
      stream.on('error', () => undefined);
      stream.destroy();
    }
    this.sink.flush();
    this.sink.close();
  }

  private subscribe(): void {
    const stream = this.receiver.subscribe(this.userId, { end: { behavior: EndBehaviorType.Manual } });
    this.stream = stream;
    stream.on('data', this.onData);
    stream.on('error', this.onError);
    stream.once('close', this.onClose);
    this.metrics.inc('voice_subscriptions_total');
    this.sampleListeners();
  }

  /**
   * Publishes how many listeners the receiver's emitters and this stream carry, and how many subscriptions the
   * receiver holds: constant per speaker for the whole session unless something leaks (speaking start/stop
   * cycles must not add any). Reads counters only; allocates nothing.
   */
  private sampleListeners(): void {
    this.sinceSample = 0;
    const speaking = this.receiver.speaking;
    const stream = this.stream;
    const streamListeners = stream ? stream.listenerCount('data') + stream.listenerCount('error') + stream.listenerCount('close') + stream.listenerCount('end') : 0;
    this.metrics.set('voice_speaking_listeners', speaking.listenerCount('start') + speaking.listenerCount('end'));
    this.metrics.set('voice_stream_listeners', streamListeners);
    this.metrics.set('voice_receiver_subscriptions', this.receiver.subscriptions.size);
  }

  private onData(packet: Buffer): void {
    // Per-packet path: no allocation here (the position object is reused).
    if (++this.sinceSample >= LISTENER_SAMPLE_PACKETS) this.sampleListeners();
    try {
      if (this.ssrc !== -1 && this.tap.take(this.ssrc)) {
        this.position.sequence = this.tap.sequence;
        this.position.timestamp = this.tap.timestamp;
        this.position.ssrc = this.ssrc;
        this.sink.onPacket(packet, this.position);
      } else {
        this.sink.onPacket(packet, null);
      }
    } catch (error) {
      // The sink promises not to throw. If a bug makes it, the exception must not reach the receiver: it would
      // destroy this stream (onUdpMessage catches and calls destroy). Count it; the next packet goes on.
      this.metrics.inc('audio_sink_errors_total');
      this.logger.error('speaker sink threw on a packet', { userId: this.userId, error });
    }
  }

  private onError(error: Error): void {
    // A bad authentication tag (or a DAVE failure) destroys the stream; 'close' follows and we resubscribe.
    // Counted once, by the sink (audio_decrypt_failures), which also conceals the slot.
    this.sink.onLostPacket();
    this.logger.debug('receive stream error; resubscribing', { userId: this.userId, error });
  }

  private onClose(): void {
    if (this.stream) {
      this.stream.off('data', this.onData);
      this.stream.off('error', this.onError);
    }
    this.stream = undefined;
    // The receiver removed its map entry on 'close' before us, so subscribe() makes a fresh stream.
    if (!this.closed) this.subscribe();
  }
}
