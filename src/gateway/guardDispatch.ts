import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';

/** Wraps a gateway listener so that it cannot throw or reject; see `createDispatchGuard`. */
export type DispatchGuard = <Args extends unknown[]>(event: string, listener: (...args: Args) => unknown) => (...args: Args) => void;

/**
 * Gateway listeners run inside the client's event emitter: a throw there (or a rejection of an async listener)
 * escapes to the process and would end it, and with it every session. One odd payload is worth a log line and a
 * count (`gateway_dispatch_errors_total`), not an outage, so each listener is wrapped in this guard.
 */
export function createDispatchGuard(deps: { readonly logger: Logger; readonly metrics: Metrics }): DispatchGuard {
  const report = (event: string, error: unknown): void => {
    deps.metrics.inc('gateway_dispatch_errors_total');
    deps.logger.error('gateway event handler failed', { event, error, stack: error instanceof Error ? error.stack : undefined });
  };
  return (event, listener) =>
    (...args) => {
      try {
        const result = listener(...args);
        if (result instanceof Promise) result.catch((error: unknown) => report(event, error));
      } catch (error) {
        report(event, error);
      }
    };
}
