/** Reads `name value` lines of Prometheus text (labels and comments skipped) into a map; the harness needs only plain gauges. */
export function parsePrometheusGauges(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[2]) continue;
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.set(m[1]!, value);
  }
  return out;
}
