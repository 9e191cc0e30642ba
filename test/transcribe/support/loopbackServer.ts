import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the test server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** performance.now() when the request's headers arrived. */
  readonly at: number;
}

/** How to answer one request: a canned response, never answer ('hang'), or drop the socket ('destroy'). */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'destroy';

/** A node:http server on 127.0.0.1, port 0 (or a given port), that records every request and answers via `reply`. */
export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  /** Sockets ever accepted (to observe the client's connection cap). */
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | undefined;
  private port = 0;

  constructor(private reply: (request: RecordedRequest, index: number) => Reply) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Starts listening; resolves with the port. */
  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      const at = performance.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at };
        const index = this.requests.push(recorded) - 1;
        const answer = this.reply(recorded, index);
        if (answer === 'hang') {
          this.hanging.add(res);
          return;
        }
        if (answer === 'destroy') {
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    server.on('connection', (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Open sockets right now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Answers every hanging request with `reply`. */
  release(reply: { status: number; body: string }): void {
    for (const res of this.hanging) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    }
    this.hanging.clear();
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port that nothing listens on (just freed by a throwaway server). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `condition` every 5 ms until true or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sleeps in real time (to show that something does NOT happen). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
