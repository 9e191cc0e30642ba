import { afterEach, describe, expect, it } from 'vitest';
import { HealthServer, type HealthVerdict } from '../../src/health/HealthServer.js';
import { Metrics } from '../../src/util/Metrics.js';
import { parsePrometheus } from './parsePrometheus.js';

const servers: HealthServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(isHealthy: () => HealthVerdict, metrics = new Metrics()): Promise<string> {
  const server = new HealthServer({ port: 0, host: '127.0.0.1', isHealthy, metrics });
  servers.push(server);
  const port = await server.listen();
  return `http://127.0.0.1:${port}`;
}

describe('HealthServer /healthz', () => {
  it('follows the injected predicate: 200 ok while healthy, 503 with the reason otherwise', async () => {
    let verdict: HealthVerdict = { healthy: true };
    const base = await start(() => verdict);

    let res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(res.headers.get('cache-control')).toBe('no-store');

    verdict = { healthy: false, reason: 'gateway not ready' };
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('gateway not ready');

    verdict = { healthy: true };
    res = await fetch(`${base}/healthz?probe=fly`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('answers 503 when the predicate throws', async () => {
    const base = await start(() => {
      throw new Error('boom');
    });
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('boom');
  });

  it('answers HEAD without a body, 404 for unknown paths and 405 for other methods', async () => {
    const base = await start(() => ({ healthy: true }));
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('2');
    expect(await head.text()).toBe('');

    for (const path of ['/', '/health', '/healthz/', '/metricsx', '/favicon.ico']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    const post = await fetch(`${base}/healthz`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.arrayBuffer();
  });
});

describe('HealthServer /metrics', () => {
  it('serves strict Prometheus text whose values follow the Metrics instance and the process', async () => {
    const metrics = new Metrics();
    metrics.define('segments_uploaded', 'counter', 'Segments sent to the transcription API.');
    metrics.define('sessions_active', 'gauge', 'Voice sessions now listening.');
    metrics.define('upload_seconds', 'summary', 'Seconds from segment end to transcript.');
    const base = await start(() => ({ healthy: true }), metrics);

    const scrape = async () => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parsePrometheus(await res.text());
    };
    const value = (families: Awaited<ReturnType<typeof scrape>>, family: string, sample = family) => {
      const v = families.get(family)?.samples.get(sample);
      if (v === undefined) throw new Error(`${sample} missing`);
      return v;
    };

    const first = await scrape();
    expect(first.get('segments_uploaded_total')?.type).toBe('counter');
    expect(value(first, 'segments_uploaded_total')).toBe(0);
    expect(first.get('upload_seconds')?.type).toBe('summary');
    expect(value(first, 'upload_seconds', 'upload_seconds_count')).toBe(0);

    metrics.inc('segments_uploaded', 2);
    metrics.set('sessions_active', 3);
    metrics.observe('upload_seconds', 1.5);
    metrics.observe('upload_seconds', 0.25);
    const second = await scrape();
    expect(value(second, 'segments_uploaded_total')).toBe(2);
    expect(value(second, 'sessions_active')).toBe(3);
    expect(value(second, 'upload_seconds', 'upload_seconds_sum')).toBe(1.75);
    expect(value(second, 'upload_seconds', 'upload_seconds_count')).toBe(2);

    // Process gauges are read at scrape time from this very process.
    const rss = value(second, 'process_resident_memory_bytes');
    const now = process.memoryUsage.rss();
    expect(rss).toBeGreaterThan(now * 0.5);
    expect(rss).toBeLessThan(now * 1.5);
    const heapUsed = value(second, 'nodejs_heap_size_used_bytes');
    expect(heapUsed).toBeGreaterThan(0);
    expect(heapUsed).toBeLessThanOrEqual(value(second, 'nodejs_heap_size_total_bytes'));
    expect(value(second, 'nodejs_array_buffers_bytes')).toBeLessThanOrEqual(value(second, 'nodejs_external_memory_bytes'));
    expect(value(second, 'process_uptime_seconds')).toBeGreaterThan(0);
    for (const name of ['nodejs_eventloop_delay_p99_seconds', 'nodejs_eventloop_delay_max_seconds']) {
      expect(second.get(name)?.type).toBe('gauge');
      const v = value(second, name);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(60);
    }
  });
});

describe('HealthServer lifecycle', () => {
  it('close() is idempotent and stops answering', async () => {
    const server = new HealthServer({ port: 0, host: '127.0.0.1', isHealthy: () => ({ healthy: true }), metrics: new Metrics() });
    const port = await server.listen();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('rejects with a coded error when the port is taken', async () => {
    const base = await start(() => ({ healthy: true }));
    const port = Number(new URL(base).port);
    const second = new HealthServer({ port, host: '127.0.0.1', isHealthy: () => ({ healthy: true }), metrics: new Metrics() });
    servers.push(second);
    await expect(second.listen()).rejects.toMatchObject({ code: 'HEALTH_LISTEN_FAILED' });
  });

  it('listens on all interfaces by default: IPv4 (Fly checks) and IPv6 (fly proxy, 6PN)', async () => {
    const server = new HealthServer({ port: 0, isHealthy: () => ({ healthy: true }), metrics: new Metrics() });
    servers.push(server);
    const port = await server.listen();
    for (const host of ['127.0.0.1', '[::1]']) {
      const res = await fetch(`http://${host}:${port}/healthz`);
      expect(res.status, host).toBe(200);
      expect(await res.text()).toBe('ok');
    }
  });

  it('close() before listen() resolves', async () => {
    const server = new HealthServer({ port: 0, isHealthy: () => ({ healthy: true }), metrics: new Metrics() });
    await expect(server.close()).resolves.toBeUndefined();
  });
});
