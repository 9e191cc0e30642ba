/**
 * The voice UDP socket is not connect()ed, so it takes datagrams from any sender. @discordjs/voice 0.19.2's receiver
 * reads the SSRC at offset 8 of anything longer than 8 bytes, so a 9–11 byte datagram used to throw inside a dgram
 * listener and end the process mid-session (found by the adversarial review). RtpHeaderTap now guards the socket.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { dtmfPcm } from '../sim/audio/index.js';
import { botMetrics, metric, padToMs, sleep } from './audioSupport.js';
import { joinVoice, startRig, transcriptLines, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Sends datagrams from a fresh local socket: not the voice server's address, as a stranger on the Internet would. */
async function sendFrom(port: number, datagrams: readonly Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  for (const bytes of datagrams) {
    await new Promise<void>((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }
  socket.close();
}

describe('stray datagrams on the voice socket', () => {
  it('9–11 byte datagrams from a stranger mid-utterance are counted and dropped; the utterance is transcribed', async () => {
    rig = await startRig();
    const { sim, bot } = rig;
    await joinVoice(rig, [sim.members.alice]);
    const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
    const target = sim.voiceConnection(sim.guild.id)?.botAddress;
    expect(target).toBeTruthy();
    const speaking = alice.play(padToMs(dtmfPcm('123', { leadMs: 40 }), 800));
    await sleep(300);
    const rtpLike = (n: number): Buffer => Buffer.from([0x80, 0x78, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0].slice(0, n));
    await sendFrom(target!.port, [rtpLike(9), rtpLike(10), rtpLike(11)]);
    await speaking;
    await sim.waitFor(() => (transcriptLines(sim).length ? true : undefined), 15_000, 'the transcript');
    expect(bot.child.exitCode).toBeNull();
    expect(transcriptLines(sim)).toEqual(['**Ally**: 123']);
    expect(metric(await botMetrics(bot), 'voice_datagrams_rejected_total')).toBe(3);
  });
});
