// Timelines: a task's attempts (queued → dispatched → started → ended) and its trace's spans.
import type { Task, TraceSpan } from "../api";
import { fmtDuration } from "./ui";

const ms = (ts?: string) => (ts ? new Date(ts).getTime() : NaN);

export function AttemptsTimeline({ task }: { task: Task }) {
  const attempts = task.attempts ?? [];
  const t0 = Math.min(...[ms(task.createTime), ms(task.queueTime), ...attempts.map((a) => ms(a.dispatchTime))].filter(isFinite));
  const t1 = Math.max(...[ms(task.endTime), Date.now() * (task.endTime ? 0 : 1), ...attempts.map((a) => ms(a.endTime))].filter((x) => isFinite(x) && x > 0));
  const span = Math.max(1, t1 - t0);
  const pct = (t: number) => `${(100 * (t - t0)) / span}%`;
  if (!attempts.length) return <p class="muted">No attempt yet: the task was never dispatched.</p>;
  const firstDispatch = ms(attempts[0]?.dispatchTime);
  // queue_time is the latest time the task was queued (a retry queues it again): use it only if it
  // came before the first dispatch.
  const q = ms(task.queueTime) <= firstDispatch ? ms(task.queueTime) : ms(task.createTime);
  const clock = (t: number) => (isFinite(t) ? new Date(t).toLocaleTimeString(undefined, { hour12: false, fractionalSecondDigits: 3 } as Intl.DateTimeFormatOptions) : "—");
  return (
    <div class="timeline" data-timeline="attempts">
      {isFinite(q) && (
        <div class="tl-row" data-queued>
          <div class="tl-label">queued</div>
          <div class="tl-track">
            <span class="tl-bar queue" style={{ left: pct(q), width: `max(2px, calc(${pct(isFinite(firstDispatch) ? firstDispatch : t1)} - ${pct(q)}))` }} title={`queued ${clock(q)}, first dispatched ${clock(firstDispatch)}`} />
          </div>
          <div class="tl-info">waited {isFinite(firstDispatch) ? fmtDuration(firstDispatch - q) : "—"} for an agent</div>
        </div>
      )}
      {attempts.map((a) => {
        const d = ms(a.dispatchTime), s = ms(a.startTime), e = ms(a.endTime);
        const end = isFinite(e) ? e : t1;
        return (
          <div class="tl-row" key={a.number} data-attempt={a.number}>
            <div class="tl-label">#{a.number} <code>{a.agentId || "—"}</code></div>
            <div class="tl-track">
              {isFinite(d) && <span class="tl-bar wait" style={{ left: pct(d), width: `calc(${pct(isFinite(s) ? s : end)} - ${pct(d)})` }} title={`dispatched ${clock(d)}, waiting for the worker`} />}
              {isFinite(s) && <span class={`tl-bar run ${a.error ? "err" : ""}`} style={{ left: pct(s), width: `max(2px, calc(${pct(end)} - ${pct(s)}))` }} title={`started ${clock(s)}, ended ${clock(e)}`} />}
            </div>
            <div class="tl-info">
              {isFinite(s) && isFinite(e) ? `ran ${fmtDuration(e - s)}` : isFinite(s) ? "running" : "dispatched"}
              {a.error && <span class="err-text"> · {a.error.kind?.replace("ERROR_KIND_", "").toLowerCase()}: {a.error.message}</span>}
            </div>
          </div>
        );
      })}
      <div class="tl-axis"><span>{new Date(t0).toLocaleTimeString(undefined, { hour12: false })}</span><span>{fmtDuration(span)}</span></div>
    </div>
  );
}

function serviceClass(svc: string): string {
  for (const k of ["client", "gateway", "agent", "worker", "valkey"]) if (svc.includes(k)) return k;
  return "other";
}

/** TraceTimeline draws a trace; spans tagged with taskId (the task's own run) are highlighted. */
export function TraceTimeline({ spans, taskId }: { spans: TraceSpan[]; taskId?: string }) {
  if (!spans.length) return <p class="muted">The trace has no span.</p>;
  const t0 = Math.min(...spans.map((s) => s.startMicros));
  const t1 = Math.max(...spans.map((s) => s.startMicros + s.durationMicros));
  const total = Math.max(1, t1 - t0);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depth = (s: TraceSpan): number => {
    let d = 0;
    for (let p = s.parentId && byId.get(s.parentId); p && d < 50; p = p.parentId ? byId.get(p.parentId) : undefined) d++;
    return d;
  };
  const shown = spans.slice(0, 500);
  return (
    <div class="timeline trace" data-timeline="trace">
      <div class="legend">{["client", "gateway", "agent", "worker", "valkey"].map((k) => <span key={k} class={`svc-${k}`}>{k}</span>)}
        {taskId && spans.some((s) => s.taskId && s.taskId !== taskId) && <em class="muted small">The trace holds every task of the submitting call; this task's own spans are in bold.</em>}</div>
      {shown.map((s) => (
        <div class={`tl-row ${taskId && s.taskId === taskId ? "mine" : ""}`} key={s.spanId} data-service={s.service} data-span={s.name}>
          <div class="tl-label" style={{ paddingLeft: `${depth(s) * 8}px` }} title={`${s.service}: ${s.name}`}>
            <span class={`svc svc-${serviceClass(s.service)}`}>{s.service}</span> {s.name}
          </div>
          <div class="tl-track">
            <span class={`tl-bar svc-${serviceClass(s.service)} ${s.error ? "err" : ""}`}
              style={{ left: `${(100 * (s.startMicros - t0)) / total}%`, width: `max(2px, ${(100 * s.durationMicros) / total}%)` }} />
          </div>
          <div class="tl-info">{fmtDuration(s.durationMicros / 1000)}</div>
        </div>
      ))}
      {spans.length > shown.length && <p class="muted">{spans.length - shown.length} more spans: open the trace in Jaeger.</p>}
      <div class="tl-axis"><span>0</span><span>{fmtDuration(total / 1000)}</span></div>
    </div>
  );
}
