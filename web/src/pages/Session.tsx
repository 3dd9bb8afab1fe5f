// Session page: live counts and throughput fed by the session's event stream (each batch of events
// refreshes the counts with one GetSession; nothing polls tasks one by one), the tasks table with
// filters and paging, the graph of a small session, its failed tasks with their errors, and the
// lifecycle actions with a confirmation.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, short, TASK_STATUSES, total, watchEvents, type Event, type Session as S, type Task } from "../api";
import { RateChart, type Point } from "../components/chart";
import { TaskGraph } from "../components/graph";
import { Badge, Confirm, Counts, ErrorBox, fmtTime, Progress } from "../components/ui";
import { navigate, paths } from "../router";

const WINDOW_MS = 5 * 60_000;
const GRAPH_MAX = 200; // sessions up to this many tasks show their graph
const PAGE = 50;

type Verb = "pause" | "resume" | "close" | "cancel" | "purge";
const VERBS: { verb: Verb; label: string; when: string[]; warn: string }[] = [
  { verb: "pause", label: "Pause", when: ["running"], warn: "No new task of this session will be dispatched until it is resumed; running tasks finish." },
  { verb: "resume", label: "Resume", when: ["paused"], warn: "Queued tasks will be dispatched again." },
  { verb: "close", label: "Close", when: ["running", "paused"], warn: "The session accepts no new tasks; what it holds (and their subtasks) runs to the end." },
  { verb: "cancel", label: "Cancel", when: ["running", "paused", "closed"], warn: "Every task that has not finished is cancelled. This cannot be undone." },
  { verb: "purge", label: "Purge", when: ["closed", "cancelled"], warn: "The session's tasks, results and events are deleted. This cannot be undone." },
];

/** throttle runs fn at most once per `ms`, and once more after the last call. */
function useThrottle(fn: () => void, ms: number): () => void {
  const state = useRef<{ last: number; timer?: number; fn: () => void }>({ last: 0, fn });
  state.current.fn = fn;
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return () => {
    const s = state.current;
    if (s.timer !== undefined) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = window.setTimeout(() => { s.timer = undefined; s.last = Date.now(); s.fn(); }, wait);
  };
}

export function Session({ sessionId }: { sessionId: string }) {
  const [session, setSession] = useState<S>();
  const [error, setError] = useState<string>();
  const [live, setLive] = useState<{ live: boolean; error?: string }>({ live: false });
  const [rate, setRate] = useState<Point[]>([]);
  const [status, setStatus] = useState("");
  const [method, setMethod] = useState("");
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<{ tasks: Task[]; next?: string }>();
  const [failed, setFailed] = useState<Task[]>([]);
  const [graph, setGraph] = useState<Task[]>();
  const [confirm, setConfirm] = useState<Verb>();
  const [busy, setBusy] = useState(false);
  const buckets = useRef(new Map<number, number>());
  const token = tokens[tokens.length - 1];

  const loadSession = async () => {
    try {
      const s = (await api.getSession(sessionId)).session;
      setSession(s);
      setError(undefined);
      return s;
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const loadTasks = async () => {
    try {
      const r = await api.listTasks(sessionId, status || undefined, token || undefined, PAGE);
      setPage({ tasks: r.tasks ?? [], next: r.nextPageToken });
      const f = await api.listTasks(sessionId, "TASK_STATUS_FAILED", undefined, 20);
      setFailed(f.tasks ?? []);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const loadGraph = async (s?: S) => {
    if (!s || total(s.taskCounts) > GRAPH_MAX) { setGraph(undefined); return; }
    try {
      setGraph((await api.listTasks(sessionId, undefined, undefined, 1000)).tasks ?? []);
    } catch { /* the table shows the error */ }
  };
  const refreshCounts = useThrottle(() => { void loadSession(); }, 500);
  const refreshLists = useThrottle(() => { void loadTasks(); void loadSession().then(loadGraph); }, 2000);

  useEffect(() => {
    void loadSession().then(loadGraph);
    buckets.current.clear();
    setRate([]);
    const stop = watchEvents(sessionId, (evs: Event[]) => {
      for (const ev of evs) {
        const st = ev.taskStatus?.status;
        if (st === "TASK_STATUS_COMPLETED" || st === "TASK_STATUS_FAILED" || st === "TASK_STATUS_CANCELLED") {
          const sec = Math.floor((ev.time ? new Date(ev.time).getTime() : Date.now()) / 1000);
          buckets.current.set(sec, (buckets.current.get(sec) ?? 0) + 1);
        }
      }
      refreshCounts();
      refreshLists();
    }, setLive, "$", ["EVENT_KIND_TASK_STATUS", "EVENT_KIND_SESSION_STATUS"]);
    // The chart moves on even when no event comes: one point per second.
    const tick = setInterval(() => {
      const now = Math.floor(Date.now() / 1000);
      const pts: Point[] = [];
      for (let s = now - WINDOW_MS / 1000; s < now; s++) {
        const v = buckets.current.get(s);
        if (v !== undefined || pts.length) pts.push({ t: s * 1000, v: v ?? 0 });
      }
      for (const k of buckets.current.keys()) if (k < now - WINDOW_MS / 1000) buckets.current.delete(k);
      setRate(pts);
    }, 1000);
    return () => { stop(); clearInterval(tick); };
  }, [sessionId]);

  useEffect(() => { void loadTasks(); }, [sessionId, status, token]);

  const act = async (verb: Verb) => {
    setConfirm(undefined);
    setBusy(true);
    try {
      const s = (await api.sessionAction(sessionId, verb)).session;
      setSession(s);
      setError(undefined);
      void loadTasks();
      void loadGraph(s);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const st = short(session?.status);
  const methods = [...new Set((page?.tasks ?? []).map((t) => t.method))].sort();
  const rows = (page?.tasks ?? []).filter((t) => !method || t.method === method);
  const verb = VERBS.find((v) => v.verb === confirm);

  return (
    <section>
      <p class="crumbs"><a href="/sessions">Sessions</a> / <code>{sessionId}</code></p>
      <h1>Session <code>{sessionId}</code> {session && <Badge status={session.status} />}
        <span class={`live ${live.live ? "on" : "off"}`} title={live.error ?? "following the session's events"}>{live.live ? "● live" : "○ not live"}</span>
      </h1>
      <ErrorBox error={error} />
      {session && (
        <>
          <div class="meta">
            <span>created {fmtTime(session.createTime)}</span>
            {session.defaultTaskOptions?.partition && <span>partition <b>{session.defaultTaskOptions.partition}</b></span>}
            {Object.entries(session.labels ?? {}).map(([k, v]) => <span key={k} class="label">{k}={v}</span>)}
          </div>
          <div class="actions">
            {VERBS.map((v) => (
              <button type="button" key={v.verb} data-action={v.verb} disabled={busy || !v.when.includes(st)}
                class={v.verb === "cancel" || v.verb === "purge" ? "danger" : ""} onClick={() => setConfirm(v.verb)}>{v.label}</button>
            ))}
          </div>
          <Counts counts={session.taskCounts} />
          <Progress counts={session.taskCounts} />
          <RateChart points={rate} windowMs={WINDOW_MS} label="Tasks finished per second (since this page opened)" />
        </>
      )}
      {verb && (
        <Confirm title={`${verb.label} session ${sessionId}?`} body={<p>{verb.warn}</p>} yes={`${verb.label} session`}
          onYes={() => void act(verb.verb)} onNo={() => setConfirm(undefined)} />
      )}

      {failed.length > 0 && (
        <>
          <h2>Failed tasks</h2>
          <table class="grid" data-table="failed">
            <thead><tr><th>Task</th><th>Method</th><th>Error</th></tr></thead>
            <tbody>{failed.map((t) => (
              <tr key={t.taskId}>
                <td><a href={paths.task(sessionId, t.taskId)}><code>{t.taskId}</code></a></td>
                <td>{t.method}</td>
                <td class="err-text">{t.error?.kind?.replace("ERROR_KIND_", "").toLowerCase()}: {t.error?.message}</td>
              </tr>
            ))}</tbody>
          </table>
        </>
      )}

      {graph && graph.length > 0 && (<><h2>Graph</h2><TaskGraph tasks={graph} /></>)}

      <h2>Tasks</h2>
      <div class="toolbar">
        <label>Status <select value={status} data-filter="task-status" onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); setTokens([""]); }}>
          <option value="">any</option>
          {TASK_STATUSES.map((s) => <option key={s} value={s}>{short(s)}</option>)}
        </select></label>
        <label>Method <select value={method} data-filter="method" onChange={(e) => setMethod((e.target as HTMLSelectElement).value)}>
          <option value="">any</option>
          {[...new Set([...methods, method].filter(Boolean))].map((m) => <option key={m} value={m}>{m}</option>)}
        </select></label>
        <span class="muted small">(the method filter applies to the page shown: the API filters by status only)</span>
      </div>
      {page === undefined ? <p class="muted">Loading…</p> : (
        <table class="grid" data-table="tasks">
          <thead><tr><th>Task</th><th>Method</th><th>Status</th><th>Partition</th><th>Priority</th><th>Created</th><th>Ended</th><th>Error</th></tr></thead>
          <tbody>{rows.map((t) => (
            <tr key={t.taskId} data-task={t.taskId} class="clickable" onClick={(e) => { if (!(e.target as Element).closest("a")) navigate(paths.task(sessionId, t.taskId)); }}>
              <td><a href={paths.task(sessionId, t.taskId)}><code>{t.taskId}</code></a></td>
              <td>{t.method}</td>
              <td><Badge status={t.status} /></td>
              <td>{t.options?.partition}</td>
              <td>{t.options?.priority ?? 0}</td>
              <td>{fmtTime(t.createTime)}</td>
              <td>{fmtTime(t.endTime)}</td>
              <td class="err-text">{t.error?.message}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
      {page && rows.length === 0 && <p class="muted">No task on this page{status || method ? " matches the filters" : ""}.</p>}
      <div class="pager">
        <button type="button" disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>← Previous</button>
        <span class="muted">page {tokens.length}</span>
        <button type="button" disabled={!page?.next} onClick={() => page?.next && setTokens([...tokens, page.next])}>Next →</button>
      </div>
    </section>
  );
}
