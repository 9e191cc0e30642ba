import { createCipheriv } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

/** The two rtpsize AEAD modes Discord offers (voice gateway v8). */
export type VoiceEncryptionMode = 'aead_aes256_gcm_rtpsize' | 'aead_xchacha20_poly1305_rtpsize';

/** Every mode the simulator can encrypt with. */
export const VOICE_ENCRYPTION_MODES: readonly VoiceEncryptionMode[] = ['aead_aes256_gcm_rtpsize', 'aead_xchacha20_poly1305_rtpsize'];

/** AEAD tag length for both modes. */
export const AUTH_TAG_LENGTH = 16;

/**
 * Seals `plaintext` for the voice transport: returns ciphertext ‖ 16-byte tag. The nonce is the 4-byte
 * big-endian counter placed at the START of a zero buffer (12 bytes for AES-GCM, 24 for XChaCha), exactly as
 * @discordjs/voice expands the packet's 4-byte trailer. `aad` is the RTP header (+ BEDE preamble).
 *
 * Allocates per packet (a cipher object and the output): node:crypto has no reusable GCM context, and this
 * runs in the simulator, not in the bot's receive path.
 */
export function sealPacket(
  mode: VoiceEncryptionMode,
  key: Uint8Array,
  nonceCounter: number,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  if (mode === 'aead_aes256_gcm_rtpsize') {
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(nonceCounter >>> 0, 0);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AUTH_TAG_LENGTH });
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }
  const nonce = new Uint8Array(24);
  new DataView(nonce.buffer).setUint32(0, nonceCounter >>> 0, false);
  const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
}
