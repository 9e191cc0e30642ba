import type { EventEmitter } from 'node:events';
import { VoiceConnectionStatus, type VoiceConnection, type VoiceConnectionState } from '@discordjs/voice';
import { MethodGuard } from './MethodGuard.js';

/**
 * Reads the RTP header (SSRC, sequence, timestamp) of every datagram on the voice UDP socket, just
 * BEFORE @discordjs/voice's receiver handles the same datagram.
 *
 * Why: 0.19.x hands subscribers bare Opus packets with no sequence or timestamp, and Discord sends
 * nothing during silence, so arrival time alone cannot tell a lost packet from a pause. The RTP header
 * is not encrypted in the rtpsize AEAD modes, so reading bytes 2–11 is safe and needs no key.
 *
 * How it pairs a header with a packet without allocating: our listener is *prepended* on the
 * VoiceUDPSocket's 'message' event, so for each datagram it runs first and stores the header in the
 * fields below. The receiver then decrypts and pushes the packet into a flowing AudioReceiveStream, which
 * emits 'data' synchronously; the speaker's data handler calls {@link take} with its SSRC. If anything
 * ever delivers a packet later than that (a paused stream), `fresh` is already false or the SSRC differs,
 * and the caller falls back to arrival time. Each datagram is a separate callback from libuv, so no
 * second header can overwrite the first before its packet is delivered.
 *
 * Depends on two library internals, both typed in its .d.ts: `connection.state.networking` and the
 * networking state's `udp` (a VoiceUDPSocket emitting 'message'). If a future version hides them,
 * {@link attached} stays false and the bot runs on arrival times (SpeakerSegmenter's arrival-time timeline,
 * with a jitter allowance; see the design note at the top of src/audio/SpeakerSegmenter.ts).
 */
export class RtpHeaderTap {
  /** Header of the most recent datagram (valid while `fresh`). */
  ssrc = -1;
  sequence = 0;
  timestamp = 0;
  fresh = false;
  /** Datagrams seen (any SSRC), for metrics. */
  datagrams = 0;
  attached = false;

  private udp: EventEmitter | undefined;
  /**
   * Guards in front of the library's sockets (see MethodGuard). The voice UDP socket is not connect()ed, so it takes
   * datagrams from any sender, and @discordjs/voice 0.19.2's receiver reads the SSRC at offset 8 of anything longer
   * than 8 bytes: a 9–11 byte datagram threw a RangeError inside a dgram callback. Its voice WebSocket parses
   * server messages without checks (a session description with `d: null`, a 1-byte binary frame). VoiceUDPSocket
   * and VoiceWebSocket both forward through their own `onMessage`, looked up at call time, so the guards sit in front
   * of every listener, ours and the library's, for the socket's lifetime.
   */
  private readonly udpGuard: MethodGuard<Buffer>;
  private readonly wsGuard: MethodGuard<unknown>;
  private networking: EventEmitter | undefined;
  private connection: VoiceConnection | undefined;

  /**
   * `onDatagramRejected` hears each dropped datagram (`undefined` for a malformed length, else what a listener threw);
   * `onMessageRejected` each voice WebSocket message the library could not handle.
   */
  constructor(onDatagramRejected: (error: unknown) => void = () => {}, onMessageRejected: (error: unknown) => void = () => {}) {
    this.onDatagram = this.onDatagram.bind(this);
    this.onConnectionState = this.onConnectionState.bind(this);
    // 8 bytes is a keep-alive echo; RTP needs a 12-byte header. Nothing Discord sends is 9–11 bytes long.
    this.udpGuard = new MethodGuard<Buffer>('onMessage', onDatagramRejected, (buffer) => !(buffer.length > 8 && buffer.length < 12));
    this.wsGuard = new MethodGuard<unknown>('onMessage', onMessageRejected);
    this.onNetworkingState = this.onNetworkingState.bind(this);
  }

  /** Follows the connection's networking and UDP socket across reconnects. */
  attach(connection: VoiceConnection): void {
    this.connection = connection;
    connection.on('stateChange', this.onConnectionState);
    this.onConnectionState(connection.state, connection.state);
  }

  /** Stops listening everywhere. */
  detach(): void {
    this.connection?.off('stateChange', this.onConnectionState);
    this.udpGuard.clear();
    this.wsGuard.clear();
    this.connection = undefined;
    this.setNetworking(undefined);
  }

  /**
   * Claims the stored header if it belongs to `ssrc` and was not claimed yet.
   * Per-packet path: no allocation.
   */
  take(ssrc: number): boolean {
    if (!this.fresh || this.ssrc !== ssrc) return false;
    this.fresh = false;
    return true;
  }

  private onDatagram(msg: Buffer): void {
    // Per-packet path: reads three integers, allocates nothing.
    this.datagrams++;
    if (msg.length < 12 || msg[0]! >> 6 !== 2) {
      this.fresh = false;
      return;
    }
    this.sequence = msg.readUInt16BE(2);
    this.timestamp = msg.readUInt32BE(4);
    this.ssrc = msg.readUInt32BE(8);
    this.fresh = true;
  }

  private onConnectionState(_old: VoiceConnectionState, state: VoiceConnectionState): void {
    const networking =
      state.status === VoiceConnectionStatus.Ready || state.status === VoiceConnectionStatus.Connecting
        ? (state.networking as unknown as EventEmitter)
        : undefined;
    this.setNetworking(networking);
  }

  private setNetworking(networking: EventEmitter | undefined): void {
    if (networking === this.networking) return;
    this.networking?.off('stateChange', this.onNetworkingState);
    this.networking = networking;
    if (networking) {
      networking.on('stateChange', this.onNetworkingState);
      this.onNetworkingState(undefined, Reflect.get(networking, 'state'));
    } else {
      this.setUdp(undefined);
      this.wsGuard.set(undefined);
    }
  }

  private onNetworkingState(_old: unknown, state: unknown): void {
    this.setUdp(Reflect.get(state ?? {}, 'udp') as EventEmitter | undefined);
    this.wsGuard.set(Reflect.get(state ?? {}, 'ws') as object | undefined);
  }

  private setUdp(udp: EventEmitter | undefined): void {
    if (udp === this.udp) return;
    this.udp?.off('message', this.onDatagram);
    this.udpGuard.set(undefined);
    this.udp = udp;
    this.fresh = false;
    if (udp && typeof udp.prependListener === 'function') {
      udp.prependListener('message', this.onDatagram);
      this.attached = true;
      this.udpGuard.set(udp);
    } else {
      this.attached = false;
    }
  }
}
