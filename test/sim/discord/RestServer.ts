import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../src/util/logger.js';
import type { Emit } from './events.js';
import { parseBody, readBody, type ParsedBody } from './httpBody.js';
import type { SimRecords } from './records.js';
import { RestFaults } from './RestFaults.js';
import { createRestRoutes, discordError, type RestRoute, type RestRouteDeps, type RouteResult } from './restRoutes.js';

const API_PREFIX = '/api/v10';

/** Options of {@link RestServer}. */
export interface RestServerOptions extends Omit<RestRouteDeps, 'origin'> {
  readonly token: string;
  readonly records: SimRecords;
  readonly emit: Emit;
  readonly logger?: Logger | undefined;
}

/**
 * Discord's REST API v10 on 127.0.0.1 (node:http, port chosen by the OS). Serves what @discordjs/rest sends
 * when its `api` option is `http://127.0.0.1:PORT/api`, checks bot auth, applies injected faults, and
 * records every request.
 */
export class RestServer {
  readonly faults = new RestFaults();
  private readonly server: Server;
  private readonly routes: RestRoute[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private port = 0;

  constructor(private readonly options: RestServerOptions) {
    this.routes = createRestRoutes({ ...options, origin: () => this.origin });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        options.logger?.error('sim rest handler failed', { error });
        if (!res.headersSent) this.send(res, { status: 500, json: { code: 0, message: '500: Internal Server Error' } });
      });
    });
  }

  /** Starts listening; resolves with the port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** http://127.0.0.1:PORT */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening and drops keep-alive connections (undici keeps them open). */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // @discordjs/rest percent-encodes "@original" as "%40original"; route on the decoded path.
    let fullPath: string;
    try {
      fullPath = decodeURIComponent(url.pathname);
    } catch {
      fullPath = url.pathname;
    }
    const path = fullPath.startsWith(API_PREFIX + '/') ? fullPath.slice(API_PREFIX.length) : null;
    const raw = await readBody(req);
    const record = (route: string, status: number, injected?: 'rateLimit' | 'fault' | 'auth' | 'notFound') => {
      const entry = { method, path: path ?? fullPath, route, query: url.search, status, at: performance.now(), ...(injected ? { injected } : {}) };
      this.options.records.rest.push(entry);
      this.options.emit('rest', entry);
    };

    const matched = path === null ? undefined : this.match(method, path);
    if (!matched || path === null) {
      const result = discordError(404, 0, '404: Not Found');
      this.send(res, result);
      record('unknown', result.status, 'notFound');
      return;
    }
    const { route, params } = matched;

    if (route.auth === 'bot' && req.headers.authorization !== `Bot ${this.options.token}`) {
      const result = discordError(401, 0, '401: Unauthorized');
      this.send(res, result);
      record(route.route, result.status, 'auth');
      return;
    }

    const fault = this.faults.take(method, path);
    if (fault?.kind === 'rateLimit') {
      const seconds = fault.retryAfterSeconds;
      this.send(
        res,
        { status: 429, json: { message: 'You are being rate limited.', retry_after: seconds, global: fault.global } },
        {
          'retry-after': String(seconds),
          'x-ratelimit-limit': '1',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': String(seconds),
          'x-ratelimit-reset': String((Date.now() / 1000 + seconds).toFixed(3)),
          'x-ratelimit-scope': fault.global ? 'global' : 'user',
          ...(fault.global ? { 'x-ratelimit-global': 'true' } : {}),
        },
      );
      record(route.route, 429, 'rateLimit');
      return;
    }
    if (fault?.kind === 'error') {
      this.send(res, { status: fault.status, json: fault.body });
      record(route.route, fault.status, 'fault');
      return;
    }
    if (fault?.kind === 'delay') await this.sleep(fault.ms);

    let body: ParsedBody;
    try {
      body = await parseBody(raw, req.headers['content-type']);
    } catch {
      const result = discordError(400, 50109, 'The request body contains invalid JSON.');
      this.send(res, result);
      record(route.route, result.status);
      return;
    }
    const result = route.handle({ params, body, query: url.searchParams });
    this.send(res, result);
    record(route.route, result.status);
  }

  private match(method: string, path: string): { route: RestRoute; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (m) return { route, params: { ...m.groups } };
    }
    return undefined;
  }

  private send(res: ServerResponse, result: RouteResult, headers: Record<string, string> = {}): void {
    if (result.json === undefined) {
      res.writeHead(result.status, headers);
      res.end();
      return;
    }
    // JSON must say so: without this header @discordjs/rest hands the caller an ArrayBuffer.
    const text = JSON.stringify(result.json);
    res.writeHead(result.status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
