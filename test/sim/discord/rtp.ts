import { AUTH_TAG_LENGTH, sealPacket, type VoiceEncryptionMode } from './transportCrypto.js';

/** RTP payload type Discord uses for Opus. */
export const RTP_PAYLOAD_TYPE_OPUS = 0x78;
/** Samples per channel in a 20 ms frame at 48 kHz: the RTP timestamp step. */
export const SAMPLES_PER_FRAME = 960;
/** The Opus silence frame clients send (five of them) before going quiet. */
export const SILENCE_FRAME: Buffer = Buffer.from([0xf8, 0xff, 0xfe]);

const RTP_HEADER_LENGTH = 12;
const EXTENSION_PREAMBLE_LENGTH = 4;
const NONCE_TRAILER_LENGTH = 4;

/** How one packet is laid out on the wire. */
export interface PacketLayout {
  /** X=1 with a `BE DE 00 01` preamble (unencrypted, part of the AAD) and a 4-byte element inside the ciphertext. */
  readonly extension: boolean;
  /** P=1 with this many padding bytes at the end of the plaintext (last byte = count); 0 = no padding. */
  readonly paddingLength: number;
}

/** Everything needed to build one encrypted voice packet. */
export interface PacketInput {
  readonly mode: VoiceEncryptionMode;
  readonly key: Uint8Array;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** Nonce counter, sent as the 4-byte trailer. */
  readonly nonce: number;
  readonly opus: Uint8Array;
  readonly layout: PacketLayout;
  /** Audio-level value for the extension element (desktop clients send the ssrc-audio-level extension). */
  readonly audioLevel?: number;
  /** Flip a bit of the auth tag after sealing, so decryption fails on the receiver. */
  readonly badTag?: boolean;
}

/**
 * Builds an rtpsize-AEAD voice packet:
 *
 *   [V=2 P X CC=0][M=0 PT=0x78][seq u16][timestamp u32][ssrc u32]   12 bytes, AAD
 *   [BE DE 00 01]                                                    4 bytes, AAD, only if X
 *   AEAD( [4-byte extension element] ‖ opus ‖ [padding, last byte = count] )
 *   [16-byte tag][nonce counter u32 BE]
 *
 * CC is always 0: @discordjs/voice 0.19.2 ignores CSRCs when it sizes the header.
 */
export function buildVoicePacket(input: PacketInput): Buffer {
  const { layout } = input;
  const headerLength = RTP_HEADER_LENGTH + (layout.extension ? EXTENSION_PREAMBLE_LENGTH : 0);
  const header = Buffer.alloc(headerLength);
  header[0] = 0x80 | (layout.paddingLength > 0 ? 0x20 : 0) | (layout.extension ? 0x10 : 0);
  header[1] = RTP_PAYLOAD_TYPE_OPUS;
  header.writeUInt16BE(input.sequence & 0xffff, 2);
  header.writeUInt32BE(input.timestamp >>> 0, 4);
  header.writeUInt32BE(input.ssrc >>> 0, 8);
  if (layout.extension) {
    header[12] = 0xbe;
    header[13] = 0xde;
    header.writeUInt16BE(1, 14); // one 32-bit word of extension elements
  }

  const extensionBody = layout.extension ? 4 : 0;
  const plaintext = Buffer.alloc(extensionBody + input.opus.length + layout.paddingLength);
  if (layout.extension) {
    // one-byte-header element: ID 1 (ssrc-audio-level), L=0 (one data byte), then two bytes of element padding
    plaintext[0] = 0x10;
    plaintext[1] = 0x80 | ((input.audioLevel ?? 30) & 0x7f);
  }
  plaintext.set(input.opus, extensionBody);
  if (layout.paddingLength > 0) plaintext[plaintext.length - 1] = layout.paddingLength;

  const sealed = sealPacket(input.mode, input.key, input.nonce, header, plaintext);
  const packet = Buffer.alloc(headerLength + sealed.length + NONCE_TRAILER_LENGTH);
  header.copy(packet, 0);
  sealed.copy(packet, headerLength);
  packet.writeUInt32BE(input.nonce >>> 0, headerLength + sealed.length);
  if (input.badTag) {
    const tagStart = headerLength + sealed.length - AUTH_TAG_LENGTH;
    packet[tagStart] = packet[tagStart]! ^ 0x01;
  }
  return packet;
}

/** Reads the (unencrypted) RTP fields back, for tests and for counting what the bot sends. */
export function readRtpHeader(packet: Buffer): { version: number; padding: boolean; extension: boolean; payloadType: number; sequence: number; timestamp: number; ssrc: number } {
  return {
    version: packet[0]! >> 6,
    padding: (packet[0]! & 0x20) !== 0,
    extension: (packet[0]! & 0x10) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
  };
}
