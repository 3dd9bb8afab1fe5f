// Task page: the task's attempts as a timeline, its inputs and outputs with download links, and its
// trace (spans read from Jaeger by the gateway) as a timeline with a link to Jaeger.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, download, getToken, num, short, watchEvents, type Result, type Task as T, type TaskTrace } from "../api";
import { AttemptsTimeline, TraceTimeline } from "../components/timeline";
import { Badge, ErrorBox, fmtBytes, fmtTime } from "../components/ui";
import { paths } from "../router";

const FINAL = ["completed", "failed", "cancelled"];

export function Task({ sessionId, taskId }: { sessionId: string; taskId: string }) {
  const [task, setTask] = useState<T>();
  const [results, setResults] = useState<Record<string, Result | string>>({});
  const [error, setError] = useState<string>();
  const [trace, setTrace] = useState<TaskTrace>();
  const [traceError, setTraceError] = useState<string>();
  const [traceTry, setTraceTry] = useState(0);
  const resultIds = useRef(new Set<string>());
  const traceSeen = useRef({ count: -1, stable: 0 });

  const load = async () => {
    try {
      const t = (await api.getTask(sessionId, taskId)).task;
      setTask(t);
      setError(undefined);
      const ids = [...(t.dataDependencies ?? []), ...(t.expectedOutputIds ?? []), ...(t.payloadId ? [t.payloadId] : [])].slice(0, 100);
      resultIds.current = new Set(ids);
      const got = await Promise.all(ids.map((id) => api.getResult(sessionId, id).then((r) => r.result as Result | string).catch((e: Error) => e.message)));
      setResults(Object.fromEntries(ids.map((id, i) => [id, got[i]])));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  useEffect(() => {
    setTask(undefined); setTrace(undefined); setTraceError(undefined); setTraceTry(0);
    void load();
    // Follow the session's events and re-read the task when one is about it.
    return watchEvents(sessionId, (evs) => {
      if (evs.some((e) => e.taskStatus?.taskId === taskId || (e.resultStatus && resultIds.current.has(e.resultStatus.resultId)))) void load();
    }, () => {}, "$", ["EVENT_KIND_TASK_STATUS", "EVENT_KIND_RESULT_STATUS"]);
  }, [sessionId, taskId]);

  const final = task && FINAL.includes(short(task.status));
  useEffect(() => {
    if (!task || (!final && (task.attempts?.length ?? 0) === 0) || traceTry >= 30) return;
    let alive = true;
    let timer: number | undefined;
    api.taskTrace(sessionId, taskId).then((tr) => {
      if (!alive) return;
      setTrace(tr);
      setTraceError(undefined);
      // Spans reach Jaeger a few seconds after they end, each service on its own schedule: look again
      // until the task has ended and the trace held still for two looks.
      let again = !!tr.retry;
      if (tr.traceId) {
        const seen = traceSeen.current;
        seen.stable = tr.spans.length === seen.count ? seen.stable + 1 : 0;
        seen.count = tr.spans.length;
        again = !final || seen.stable < 2;
      }
      if (again) timer = window.setTimeout(() => alive && setTraceTry((n) => n + 1), 2000);
    }).catch((e: Error) => alive && setTraceError(e.message));
    return () => { alive = false; clearTimeout(timer); };
  }, [task?.status, traceTry]);

  if (!task) return <section><p class="crumbs"><a href="/sessions">Sessions</a> / <a href={paths.session(sessionId)}><code>{sessionId}</code></a></p><ErrorBox error={error} />{!error && <p class="muted">Loading…</p>}</section>;

  const resultRow = (id: string) => {
    const r = results[id];
    const res = typeof r === "object" ? r : undefined;
    const done = short(res?.status) === "completed";
    return (
      <tr key={id} data-result={id}>
        <td><code>{id}</code></td>
        <td>{res ? <Badge status={res.status} /> : <span class="muted">{typeof r === "string" ? r : "…"}</span>}</td>
        <td>{res?.sizeBytes !== undefined || done ? fmtBytes(num(res?.sizeBytes)) : "—"}</td>
        <td>{res?.ownerTaskId && res.ownerTaskId !== taskId ? <a href={paths.task(sessionId, res.ownerTaskId)}><code>{res.ownerTaskId}</code></a> : res?.ownerTaskId ? "this task" : "—"}</td>
        <td>{done ? (
          <a href={api.resultDataPath(sessionId, id)} download={id} data-download={id}
            onClick={(e) => { if (getToken()) { e.preventDefault(); void download(sessionId, id).catch((err: Error) => setError(err.message)); } }}>download</a>
        ) : res?.abortReason ? <span class="err-text">{res.abortReason}</span> : "—"}</td>
      </tr>
    );
  };

  return (
    <section>
      <p class="crumbs"><a href="/sessions">Sessions</a> / <a href={paths.session(sessionId)}><code>{sessionId}</code></a> / <code>{taskId}</code></p>
      <h1>Task <code>{taskId}</code> <Badge status={task.status} /></h1>
      <ErrorBox error={error} />
      <dl class="facts">
        <dt>Method</dt><dd><code>{task.method}</code></dd>
        <dt>Partition</dt><dd>{task.options?.partition ?? "—"}</dd>
        <dt>Priority / retries</dt><dd>{task.options?.priority ?? 0} / {task.options?.maxRetries ?? "default"}</dd>
        <dt>Created</dt><dd>{fmtTime(task.createTime)}</dd>
        <dt>Queued</dt><dd>{fmtTime(task.queueTime)}</dd>
        <dt>Ended</dt><dd>{fmtTime(task.endTime)}</dd>
        {task.parentTaskId && <><dt>Submitted by</dt><dd><a href={paths.task(sessionId, task.parentTaskId)}><code>{task.parentTaskId}</code></a></dd></>}
      </dl>
      {task.error && (
        <div class="error task-error" data-task-error>
          <b>{task.error.kind?.replace("ERROR_KIND_", "").toLowerCase().replace(/_/g, " ")}</b>{task.error.retryable ? " (retryable)" : ""}: {task.error.message}
        </div>
      )}

      <h2>Attempts</h2>
      <AttemptsTimeline task={task} />

      <h2>Inputs</h2>
      <p>Payload: {task.payloadId ? <>result <code>{task.payloadId}</code></> : `${fmtBytes(num(task.payloadSize))} inline`}</p>
      {(task.dataDependencies?.length || task.payloadId) ? (
        <table class="grid" data-table="inputs">
          <thead><tr><th>Result</th><th>Status</th><th>Size</th><th>Produced by</th><th>Data</th></tr></thead>
          <tbody>{[...(task.payloadId ? [task.payloadId] : []), ...(task.dataDependencies ?? [])].map(resultRow)}</tbody>
        </table>
      ) : <p class="muted">No data dependency.</p>}

      <h2>Outputs</h2>
      {task.expectedOutputIds?.length ? (
        <table class="grid" data-table="outputs">
          <thead><tr><th>Result</th><th>Status</th><th>Size</th><th>Completed by</th><th>Data</th></tr></thead>
          <tbody>{task.expectedOutputIds.map(resultRow)}</tbody>
        </table>
      ) : <p class="muted">No expected output.</p>}

      <h2>Trace</h2>
      <ErrorBox error={traceError} />
      {trace?.traceId ? (
        <>
          <p>Trace <code data-trace-id>{trace.traceId}</code> · {trace.spans.length} spans{trace.truncated ? " (truncated)" : ""}
            {trace.jaegerUrl && <> · <a href={trace.jaegerUrl} target="_blank" rel="noopener" data-jaeger-link>open in Jaeger</a></>}</p>
          <TraceTimeline spans={trace.spans} taskId={taskId} />
        </>
      ) : trace?.message ? <p class="muted" data-trace-message>{trace.message}</p> : !traceError && <p class="muted">{final || task.attempts?.length ? "Loading the trace…" : "The trace appears once the task runs."}</p>}
    </section>
  );
}
