import { describe, expect, it } from 'vitest';
import { formatValue, renderPrometheus, sanitizeMetricName } from '../../src/health/prometheus.js';
import { Metrics } from '../../src/util/Metrics.js';
import { parsePrometheus } from './parsePrometheus.js';

describe('renderPrometheus', () => {
  it('renders counters, gauges and summaries with HELP/TYPE first and _total exactly once', () => {
    const metrics = new Metrics();
    metrics.define('segments_uploaded', 'counter', 'Segments sent to the transcription API.');
    metrics.define('uploads_failed_total', 'counter', 'Uploads that failed for good.');
    metrics.define('sessions_active', 'gauge', 'Voice sessions now listening.');
    metrics.define('upload_seconds', 'summary', 'Time from segment end to transcript.');
    metrics.inc('segments_uploaded', 3);
    metrics.inc('uploads_failed_total');
    metrics.set('sessions_active', 2);
    metrics.observe('upload_seconds', 0.5);
    metrics.observe('upload_seconds', 1.25);

    const body = renderPrometheus(metrics.list(), [{ name: 'process_uptime_seconds', help: 'Uptime.', value: 12.5 }]);

    expect(body).toBe(
      [
        '# HELP segments_uploaded_total Segments sent to the transcription API.',
        '# TYPE segments_uploaded_total counter',
        'segments_uploaded_total 3',
        '# HELP uploads_failed_total Uploads that failed for good.',
        '# TYPE uploads_failed_total counter',
        'uploads_failed_total 1',
        '# HELP sessions_active Voice sessions now listening.',
        '# TYPE sessions_active gauge',
        'sessions_active 2',
        '# HELP upload_seconds Time from segment end to transcript.',
        '# TYPE upload_seconds summary',
        'upload_seconds_sum 1.75',
        'upload_seconds_count 2',
        '# HELP process_uptime_seconds Uptime.',
        '# TYPE process_uptime_seconds gauge',
        'process_uptime_seconds 12.5',
        '',
      ].join('\n'),
    );
    const parsed = parsePrometheus(body);
    expect([...parsed.keys()]).toEqual([
      'segments_uploaded_total',
      'uploads_failed_total',
      'sessions_active',
      'upload_seconds',
      'process_uptime_seconds',
    ]);
    expect(parsed.get('upload_seconds')?.samples.get('upload_seconds_count')).toBe(2);
  });

  it('sanitizes names, escapes HELP and formats special values', () => {
    expect(sanitizeMetricName('voice.rx-bytes')).toBe('voice_rx_bytes');
    expect(sanitizeMetricName('2xx')).toBe('_2xx');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(-Infinity)).toBe('-Inf');
    expect(formatValue(1e21)).toBe('1e+21');

    const body = renderPrometheus([], [
      { name: 'odd.gauge', help: 'back\\slash and\nnewline', value: NaN },
      { name: 'big', help: 'big', value: 1e21 },
    ]);
    expect(body).toContain('# HELP odd_gauge back\\\\slash and\\nnewline\n');
    const parsed = parsePrometheus(body);
    expect(parsed.get('odd_gauge')?.help).toBe('back\\slash and\nnewline');
    expect(parsed.get('odd_gauge')?.samples.get('odd_gauge')).toBeNaN();
    expect(parsed.get('big')?.samples.get('big')).toBe(1e21);
  });

  it('renders a name that would repeat only once (a duplicate family fails the whole scrape)', () => {
    const metrics = new Metrics();
    metrics.define('drops', 'counter', 'first');
    metrics.define('drops_total', 'counter', 'second');
    metrics.define('lat', 'summary', 'summary');
    const body = renderPrometheus(metrics.list(), [
      { name: 'lat_sum', help: 'clashes with the summary sample', value: 1 },
      { name: 'drops_total', help: 'clashes with the counter', value: 1 },
    ]);
    const parsed = parsePrometheus(body);
    expect([...parsed.keys()]).toEqual(['drops_total', 'lat']);
    expect(parsed.get('drops_total')?.help).toBe('first');
  });

  it('renders nothing for no metrics', () => {
    expect(renderPrometheus([], [])).toBe('');
  });
});

describe('parsePrometheus (the test oracle must reject bad input)', () => {
  const bad: Array<[string, string]> = [
    ['no trailing newline', '# HELP a a\n# TYPE a gauge\na 1'],
    ['sample before TYPE', 'a 1\n'],
    ['TYPE without HELP', '# TYPE a gauge\na 1\n'],
    ['unknown TYPE', '# HELP a a\n# TYPE a thing\na 1\n'],
    ['bad number', '# HELP a a\n# TYPE a gauge\na 1,5\n'],
    ['labels', '# HELP a a\n# TYPE a gauge\na{x="1"} 1\n'],
    ['timestamp', '# HELP a a\n# TYPE a gauge\na 1 1700000000\n'],
    ['counter without _total', '# HELP a a\n# TYPE a counter\na 1\n'],
    ['counter with _total twice', '# HELP a_total_total a\n# TYPE a_total_total counter\na_total_total 1\n'],
    ['bare summary sample', '# HELP s s\n# TYPE s summary\ns 1\n'],
    ['bad HELP escape', '# HELP a a\\t\n# TYPE a gauge\na 1\n'],
    ['empty line', '# HELP a a\n# TYPE a gauge\n\na 1\n'],
    ['interleaved families', '# HELP a a\n# TYPE a gauge\n# HELP b b\n# TYPE b gauge\nb 1\na 1\n'],
  ];
  it.each(bad)('rejects %s', (_why, body) => {
    expect(() => parsePrometheus(body)).toThrow();
  });
});
