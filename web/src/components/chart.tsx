// A throughput chart: tasks per second over time, drawn as an SVG area.

export interface Point { t: number; v: number } // t: ms since epoch, v: tasks per second

export function RateChart({ points, windowMs, label }: { points: Point[]; windowMs: number; label: string }) {
  const w = 600, h = 120, pad = 24;
  const now = points.length ? Math.max(Date.now(), points[points.length - 1].t) : Date.now();
  const from = now - windowMs;
  const shown = points.filter((p) => p.t >= from);
  const max = Math.max(1, ...shown.map((p) => p.v));
  const x = (t: number) => pad + ((t - from) / windowMs) * (w - 2 * pad);
  const y = (v: number) => h - pad - (v / max) * (h - 2 * pad);
  const line = shown.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const last = shown.length ? shown[shown.length - 1].v : 0;
  return (
    <figure class="chart" data-chart={label}>
      <figcaption>{label}: <b>{last.toFixed(1)}</b>/s now, peak {max > 1 || shown.some((p) => p.v > 0) ? max.toFixed(1) : "0"}/s</figcaption>
      <div class="chart-body">
        <span class="tick top">{max.toFixed(max < 10 ? 1 : 0)}/s</span>
        <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={`${label} chart`}>
          <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} class="axis" />
          <line x1={pad} y1={pad} x2={pad} y2={h - pad} class="axis" />
          {shown.length > 1 && <polygon class="area" points={`${x(shown[0].t)},${h - pad} ${line} ${x(shown[shown.length - 1].t)},${h - pad}`} />}
          {shown.length > 1 && <polyline class="rate" points={line} />}
        </svg>
        <div class="ticks"><span>-{Math.round(windowMs / 60000)} min</span><span>now</span></div>
      </div>
    </figure>
  );
}
