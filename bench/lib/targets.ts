import type { ScenarioResult } from './results.js';

/** Why a --quick run fails CI: a kill under the 256 MB limit, a peak over 160 MB, or any lost segment. */
export function quickGateFailures(rows: readonly ScenarioResult[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const at = `${r.name} (${r.impl}, limit ${r.limitMb ?? 'none'})`;
    if (r.oomKilled) out.push(`${at}: killed under the memory limit`);
    if (r.peakRssMb > 160) out.push(`${at}: peak RSS ${r.peakRssMb} MB > 160 MB`);
    if (r.lostSegments > 0) out.push(`${at}: ${r.lostSegments} of ${r.segmentsSent} segments lost`);
  }
  return out;
}

/** The issue's targets, each answered met / NOT met / not measured from the rows. */
export function evaluateTargets(rows: readonly ScenarioResult[]): string[] {
  const find = (name: string, impl: 'tinyscribe' | 'baseline', limitMb?: number): ScenarioResult | undefined =>
    rows.find((r) => r.name === name && r.impl === impl && (limitMb === undefined || r.limitMb === limitMb));
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**NOT met**');
  const idle = find('idle-1000-guilds', 'tinyscribe');
  const idleBase = find('idle-1000-guilds', 'baseline');
  const s10 = find('speakers-10', 'tinyscribe', 256) ?? find('speakers-10', 'tinyscribe');
  const s10at128 = find('speakers-10', 'tinyscribe', 128);
  const g55 = find('guilds-5x5', 'tinyscribe');
  const soak = find('soak', 'tinyscribe');
  const ours = rows.filter((r) => r.impl === 'tinyscribe');
  const ratio = idle && idleBase ? idleBase.steadyRssMb / idle.steadyRssMb : undefined;
  return [
    `steady RSS ≤ 80 MB in idle-1000-guilds: ${idle ? `${idle.steadyRssMb} MB — ` : ''}${verdict(idle && idle.steadyRssMb <= 80)}`,
    `≥ 3× below the baseline there: ${ratio !== undefined ? `${ratio.toFixed(2)}× — ` : ''}${verdict(ratio === undefined ? undefined : ratio >= 3)}`,
    `peak RSS ≤ 100 MB in speakers-10: ${s10 ? `${s10.peakRssMb} MB — ` : ''}${verdict(s10 && s10.peakRssMb <= 100)}`,
    `peak RSS ≤ 128 MB in guilds-5x5: ${g55 ? `${g55.peakRssMb} MB — ` : ''}${verdict(g55 && g55.peakRssMb <= 128)}`,
    `no kill under the 128 MB limit in speakers-10: ${s10at128 ? `${s10at128.oomKilled ? 'killed' : 'not killed'} — ` : ''}${verdict(s10at128 && !s10at128.oomKilled)}`,
    `slope < 2 MB/h in soak: ${soak ? `${soak.slopeMbPerHour} MB/h — ` : ''}${verdict(soak && Math.abs(soak.slopeMbPerHour) < 2)}`,
    `lostSegments 0 everywhere (tinyscribe): ${ours.length ? `${ours.reduce((a, r) => a + r.lostSegments, 0)} lost — ` : ''}${verdict(ours.length ? ours.every((r) => r.lostSegments === 0) : undefined)}`,
  ];
}
