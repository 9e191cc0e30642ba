import { WebSocketShardEvents, type WebSocketManager } from '@discordjs/ws';
import type { Clock } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import type { HealthVerdict } from './HealthServer.js';

/** Where the gateway connection is, as far as /healthz is concerned. */
export enum GatewayReadinessState {
  /** Started, no READY yet. */
  Connecting = 'connecting',
  /** READY or RESUMED received and the socket has not closed since. */
  Ready = 'ready',
  /** The socket closed after being ready; the library is resuming or re-identifying. */
  Reconnecting = 'reconnecting',
  /** Shutting down: the gateway is closed on purpose, nothing is counted any more. */
  Stopped = 'stopped',
}

/** Metric names this tracker writes. */
export const GATEWAY_METRIC = {
  ready: 'gateway_ready',
  reconnects: 'gateway_reconnects_total',
  heartbeatLatency: 'gateway_heartbeat_latency_seconds',
} as const;

export interface GatewayReadinessOptions {
  /** The shard manager whose events are followed (one shard). */
  readonly gateway: Pick<WebSocketManager, 'on'>;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/**
 * Follows the gateway's lifecycle (READY/RESUMED → ready, close → reconnecting) for the health
 * check, counts reconnects and keeps the last heartbeat round trip. Not a hot path: a handful of
 * events per connection.
 */
export class GatewayReadiness {
  private stateValue = GatewayReadinessState.Connecting;
  private since: number;
  private lastCloseCode: number | undefined;

  constructor(private readonly options: GatewayReadinessOptions) {
    const { gateway, metrics } = options;
    metrics.define(GATEWAY_METRIC.ready, 'gauge', 'Whether the Discord gateway connection is ready (1) or not (0).');
    metrics.define(GATEWAY_METRIC.reconnects, 'counter', 'Gateway connections that closed after being ready (each is followed by a resume or a new session).');
    metrics.define(GATEWAY_METRIC.heartbeatLatency, 'gauge', 'Round trip of the last gateway heartbeat, seconds.');
    this.since = options.clock.monotonic();
    gateway.on(WebSocketShardEvents.Ready, () => this.becomeReady('ready'));
    gateway.on(WebSocketShardEvents.Resumed, () => this.becomeReady('resumed'));
    gateway.on(WebSocketShardEvents.Closed, (code: number) => this.onClosed(code));
    gateway.on(WebSocketShardEvents.HeartbeatComplete, ({ latency }: { latency: number }) => {
      if (latency >= 0) metrics.set(GATEWAY_METRIC.heartbeatLatency, latency / 1000);
    });
  }

  get state(): GatewayReadinessState {
    return this.stateValue;
  }

  /** The health check's view: healthy only while ready, otherwise what the gateway is doing and for how long. */
  verdict(): HealthVerdict {
    if (this.stateValue === GatewayReadinessState.Ready) return { healthy: true };
    const seconds = ((this.options.clock.monotonic() - this.since) / 1000).toFixed(1);
    if (this.stateValue === GatewayReadinessState.Reconnecting) {
      return { healthy: false, reason: `gateway reconnecting for ${seconds} s (close code ${String(this.lastCloseCode)})` };
    }
    if (this.stateValue === GatewayReadinessState.Stopped) return { healthy: false, reason: 'shutting down' };
    return { healthy: false, reason: `gateway not ready yet (${seconds} s)` };
  }

  /** Shutdown begins: report not ready from now on and ignore the deliberate close that follows. */
  stop(): void {
    this.transition(GatewayReadinessState.Stopped);
  }

  private becomeReady(how: 'ready' | 'resumed'): void {
    if (this.stateValue === GatewayReadinessState.Stopped) return;
    if (this.stateValue === GatewayReadinessState.Reconnecting) {
      const downMs = this.options.clock.monotonic() - this.since;
      this.options.logger?.info('gateway back', { how, downMs: Math.round(downMs) });
    }
    this.transition(GatewayReadinessState.Ready);
  }

  private onClosed(code: number): void {
    this.lastCloseCode = code;
    if (this.stateValue !== GatewayReadinessState.Ready) return;
    this.options.metrics.inc(GATEWAY_METRIC.reconnects);
    this.transition(GatewayReadinessState.Reconnecting);
  }

  private transition(next: GatewayReadinessState): void {
    if (this.stateValue === next) return;
    this.stateValue = next;
    this.since = this.options.clock.monotonic();
    this.options.metrics.set(GATEWAY_METRIC.ready, next === GatewayReadinessState.Ready ? 1 : 0);
  }
}
