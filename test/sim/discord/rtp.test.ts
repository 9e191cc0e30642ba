import { createDecipheriv, randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { buildVoicePacket, readRtpHeader } from './rtp.js';
import { VOICE_ENCRYPTION_MODES, type VoiceEncryptionMode } from './transportCrypto.js';

/** Independent decryption, written from the protocol notes (not from rtp.ts): AAD = header (+BEDE), nonce = trailer ‖ zeros. */
function open(mode: VoiceEncryptionMode, key: Uint8Array, packet: Buffer): Buffer {
  const aadLength = packet[0]! & 0x10 ? 16 : 12;
  const aad = packet.subarray(0, aadLength);
  const trailer = packet.subarray(packet.length - 4);
  const tag = packet.subarray(packet.length - 20, packet.length - 4);
  const ciphertext = packet.subarray(aadLength, packet.length - 20);
  if (mode === 'aead_aes256_gcm_rtpsize') {
    const nonce = Buffer.alloc(12);
    trailer.copy(nonce, 0);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }
  const nonce = new Uint8Array(24);
  nonce.set(trailer, 0);
  return Buffer.from(xchacha20poly1305(key, nonce, aad).decrypt(Buffer.concat([ciphertext, tag])));
}

describe('buildVoicePacket', () => {
  const key = new Uint8Array(randomBytes(32));
  const opus = Buffer.from('fcd01444dbe882b013eeee00a9f8', 'hex');

  for (const mode of VOICE_ENCRYPTION_MODES) {
    for (const layout of [
      { extension: false, paddingLength: 0 },
      { extension: true, paddingLength: 0 },
      { extension: false, paddingLength: 7 },
      { extension: true, paddingLength: 3 },
    ]) {
      it(`${mode} ext=${layout.extension} pad=${layout.paddingLength}`, () => {
        const packet = buildVoicePacket({ mode, key, sequence: 0x1_0001, timestamp: 2 ** 32 + 5, ssrc: 0xdeadbeef, nonce: 0x01020304, opus, layout });
        expect(readRtpHeader(packet)).toEqual({
          version: 2,
          padding: layout.paddingLength > 0,
          extension: layout.extension,
          payloadType: 0x78,
          sequence: 1, // wrapped to u16
          timestamp: 5, // wrapped to u32
          ssrc: 0xdeadbeef,
        });
        expect(packet.readUInt32BE(packet.length - 4)).toBe(0x01020304);
        if (layout.extension) expect(packet.subarray(12, 16).toString('hex')).toBe('bede0001');
        let plain = open(mode, key, packet);
        if (layout.paddingLength > 0) {
          expect(plain.at(-1)).toBe(layout.paddingLength);
          plain = plain.subarray(0, plain.length - layout.paddingLength);
        }
        if (layout.extension) {
          expect(plain[0]).toBe(0x10); // one-byte element, ID 1
          plain = plain.subarray(4);
        }
        expect(plain.equals(opus)).toBe(true);
      });
    }

    it(`${mode}: a bad tag fails authentication`, () => {
      const packet = buildVoicePacket({ mode, key, sequence: 1, timestamp: 1, ssrc: 1, nonce: 9, opus, layout: { extension: true, paddingLength: 0 }, badTag: true });
      expect(() => open(mode, key, packet)).toThrow();
    });
  }
});
