// Small shared pieces: counts, progress bar, status badges, time formatting, a confirmation dialog.
import type { ComponentChildren } from "preact";
import { COUNT_KEYS, type TaskCounts, num, short, total } from "../api";

export function fmtTime(ts?: string): string {
  if (!ts) return "—";
  const d = new Date(ts);
  return isNaN(d.getTime()) ? ts : d.toLocaleString(undefined, { hour12: false });
}

export function fmtDuration(ms: number): string {
  if (!isFinite(ms) || ms < 0) return "—";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`;
}

export function fmtBytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

export function Badge({ status }: { status?: string }) {
  const s = short(status);
  return <span class={`badge s-${s}`} data-status={s}>{s || "unknown"}</span>;
}

export function Progress({ counts }: { counts?: TaskCounts }) {
  const t = total(counts);
  return (
    <div class="progress" title={COUNT_KEYS.map((k) => `${k} ${num(counts?.[k])}`).join(", ")}>
      {t > 0 && COUNT_KEYS.map((k) => {
        const w = (100 * num(counts?.[k])) / t;
        return w > 0 ? <span key={k} class={`s-${k}`} style={{ width: `${w}%` }} /> : null;
      })}
    </div>
  );
}

export function Counts({ counts }: { counts?: TaskCounts }) {
  return (
    <div class="counts">
      <div class="count"><b data-count="total">{total(counts)}</b><span>total</span></div>
      {COUNT_KEYS.map((k) => (
        <div class={`count c-${k}`} key={k}><b data-count={k}>{num(counts?.[k])}</b><span>{k}</span></div>
      ))}
    </div>
  );
}

export function ErrorBox({ error }: { error?: string }) {
  return error ? <div class="error" role="alert">{error}</div> : null;
}

export function Confirm({ title, body, onYes, onNo, yes }: {
  title: string; body: ComponentChildren; yes: string; onYes: () => void; onNo: () => void;
}) {
  return (
    <div class="modal-back" onClick={onNo}>
      <div class="modal" role="dialog" aria-modal="true" onClick={(e) => e.stopPropagation()}>
        <h3>{title}</h3>
        <div>{body}</div>
        <div class="modal-buttons">
          <button type="button" onClick={onNo}>Keep it</button>
          <button type="button" class="danger" data-confirm="yes" onClick={onYes}>{yes}</button>
        </div>
      </div>
    </div>
  );
}
