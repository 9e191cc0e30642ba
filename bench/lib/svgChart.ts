/** One line of the chart. */
export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** [seconds, MB] points. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface ChartOptions {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  /** Horizontal reference lines (limits, targets). */
  readonly guides?: ReadonlyArray<{ readonly mb: number; readonly label: string }>;
}

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A "nice" axis step (1, 2, 5 × 10^n) giving about `ticks` ticks over `span`. */
export function niceStep(span: number, ticks = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** RSS over time as a standalone SVG line chart (axes, grid, legend, guide lines); no chart library. */
export function renderRssChart(series: readonly ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 320;
  const m = { left: 56, right: 150, top: 32, bottom: 40 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const maxT = Math.max(1, ...all.map((p) => p[0]));
  const maxMb = Math.max(10, ...all.map((p) => p[1]), ...(options.guides ?? []).map((g) => g.mb)) * 1.05;
  const stepT = niceStep(maxT);
  const stepMb = niceStep(maxMb);
  const x = (t: number): number => m.left + (t / maxT) * plotW;
  const y = (mb: number): number => m.top + plotH - (mb / maxMb) * plotH;
  const f = (n: number): string => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left}" y="18" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (let v = 0; v <= maxMb; v += stepMb) {
    out.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${+v.toFixed(3)}</text>`);
  }
  for (let t = 0; t <= maxT; t += stepT) {
    out.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${m.top}" y2="${m.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${f(x(t))}" y="${m.top + plotH + 14}" text-anchor="middle">${+t.toFixed(3)}</text>`);
  }
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle">seconds</text>`);
  out.push(`<text x="14" y="${m.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + plotH / 2})">RSS (MB)</text>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const g of options.guides ?? []) {
    out.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(y(g.mb))}" y2="${f(y(g.mb))}" stroke="#c00" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${m.left + plotW - 4}" y="${f(y(g.mb) - 3)}" text-anchor="end" fill="#c00">${escapeXml(g.label)}</text>`);
  }
  series.forEach((s, i) => {
    if (s.points.length > 0) {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${f(x(p[0]))} ${f(y(p[1]))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    }
    const ly = m.top + 12 + i * 16;
    out.push(`<line x1="${m.left + plotW + 10}" x2="${m.left + plotW + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + plotW + 32}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
