import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TinyscribeError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { ProcessGauges } from './ProcessGauges.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.js';

/** What the injected health predicate answers: healthy, or not with a short reason for the 503 body. */
export type HealthVerdict = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

export interface HealthServerOptions {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  /**
   * Interface to bind. Default: all interfaces, Node's way (`::` dual-stack, or 0.0.0.0 where IPv6
   * is off). Not loopback: Fly's checks arrive on the Machine's private IPv4 address, while
   * `fly proxy` and other 6PN clients arrive over IPv6, which 0.0.0.0 alone would refuse.
   */
  readonly host?: string;
  /** Asked on every GET /healthz (the bot answers: gateway ready and event loop not stalled). */
  readonly isHealthy: () => HealthVerdict;
  /** Rendered on GET /metrics, together with process gauges sampled at scrape time. */
  readonly metrics: Metrics;
  readonly logger?: Logger;
  /** Sampling interval of the event-loop delay histogram behind the /metrics gauges, ms. */
  readonly eventLoopResolutionMs?: number;
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * The machine's internal health and metrics listener (node:http, no framework):
 * `GET /healthz` → 200 "ok" or 503 with a reason; `GET /metrics` → Prometheus text 0.0.4;
 * anything else → 404 (405 for a wrong method on a known path). Not on any hot path.
 */
export class HealthServer {
  private readonly options: HealthServerOptions;
  private readonly server: Server;
  private readonly gauges: ProcessGauges;
  private closing: Promise<void> | undefined;

  constructor(options: HealthServerOptions) {
    this.options = options;
    this.gauges = new ProcessGauges(
      options.eventLoopResolutionMs === undefined ? {} : { resolutionMs: options.eventLoopResolutionMs },
    );
    this.server = createServer((req, res) => this.handle(req, res));
    // Only Fly's checker and an occasional curl talk to this port: keep sockets few and short-lived.
    this.server.maxConnections = 16;
    this.server.requestTimeout = 5_000;
    this.server.headersTimeout = 5_000;
    this.server.keepAliveTimeout = 1_000;
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    const { port, host } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        const where = `${host ?? '*'}:${port}`;
        reject(new TinyscribeError('HEALTH_LISTEN_FAILED', `health server cannot listen on ${where}`, { cause: error }));
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.options.logger?.error('health server error', { error }));
        resolve((this.server.address() as AddressInfo).port);
      };
      this.server.once('error', onError);
      if (host === undefined) this.server.listen(port, onListening);
      else this.server.listen(port, host, onListening);
    });
  }

  /** Stops listening, drops open connections and stops the gauges' histogram. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.gauges.close();
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const known = path === '/healthz' || path === '/metrics';
    if (!known) return reply(res, 404, TEXT, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return reply(res, 405, TEXT, 'method not allowed\n');
    }
    if (path === '/healthz') return this.healthz(res);
    return this.metricsPage(res);
  }

  private healthz(res: ServerResponse): void {
    let verdict: HealthVerdict;
    try {
      verdict = this.options.isHealthy();
    } catch (error) {
      this.options.logger?.error('health predicate threw', { error });
      verdict = { healthy: false, reason: `health check failed: ${errorMessage(error)}` };
    }
    if (verdict.healthy) reply(res, 200, TEXT, 'ok');
    else reply(res, 503, TEXT, verdict.reason);
  }

  private metricsPage(res: ServerResponse): void {
    let body: string;
    try {
      body = renderPrometheus(this.options.metrics.list(), this.gauges.sample());
    } catch (error) {
      this.options.logger?.error('metrics rendering failed', { error });
      reply(res, 500, TEXT, 'metrics unavailable\n');
      return;
    }
    reply(res, 200, PROMETHEUS_CONTENT_TYPE, body);
  }
}

// HEAD gets the same headers without a body (node:http drops the body for HEAD itself).
function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
