import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { SimRecords } from './records.js';
import { RTP_PAYLOAD_TYPE_OPUS } from './rtp.js';

const DISCOVERY_LENGTH = 74;
const DISCOVERY_REQUEST = 1;
const DISCOVERY_RESPONSE = 2;

/** Options of {@link UdpServer}. */
export interface UdpServerOptions {
  readonly records: SimRecords;
  /** Called for a discovery request; return false for an unknown SSRC (no answer, like Discord). */
  readonly onDiscovery: (ssrc: number, remote: RemoteInfo) => boolean;
}

/**
 * The voice UDP endpoint: answers 74-byte IP discovery with the address and port the request came from,
 * ignores 8-byte keep-alives, counts RTP the bot sends, and is the source socket for simulated speakers.
 */
export class UdpServer {
  private readonly socket: Socket;
  private port = 0;

  constructor(private readonly options: UdpServerOptions) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (message, remote) => this.onMessage(message, remote));
  }

  /** Binds to 127.0.0.1 on an OS-chosen port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, '127.0.0.1', () => resolve());
    });
    this.port = this.socket.address().port;
    return this.port;
  }

  /** The UDP port op 2 advertises. */
  get localPort(): number {
    return this.port;
  }

  /** Sends one datagram (speakers' RTP). The buffer must not be reused until the send completes. */
  send(packet: Buffer, port: number, address: string): void {
    this.socket.send(packet, port, address);
  }

  /** Closes the socket. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(message: Buffer, remote: RemoteInfo): void {
    const { records } = this.options;
    if (message.length === DISCOVERY_LENGTH && message.readUInt16BE(0) === DISCOVERY_REQUEST) {
      const ssrc = message.readUInt32BE(4);
      if (!this.options.onDiscovery(ssrc, remote)) return;
      records.discoveries.push({ ssrc, address: remote.address, port: remote.port, at: performance.now() });
      const response = Buffer.alloc(DISCOVERY_LENGTH);
      response.writeUInt16BE(DISCOVERY_RESPONSE, 0);
      response.writeUInt16BE(70, 2);
      response.writeUInt32BE(ssrc, 4);
      response.write(remote.address, 8, 'utf8'); // NUL-terminated by the zero fill
      response.writeUInt16BE(remote.port, DISCOVERY_LENGTH - 2);
      this.socket.send(response, remote.port, remote.address);
      return;
    }
    if (message.length === 8) {
      records.udp.keepAlives++;
      return;
    }
    if (message.length > 12 && message[0]! >> 6 === 2 && (message[1]! & 0x7f) === RTP_PAYLOAD_TYPE_OPUS) {
      records.udp.botRtpPackets++;
      return;
    }
    records.udp.otherPackets++;
  }
}
