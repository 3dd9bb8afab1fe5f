// Sessions: a page of sessions, newest first, each with its status, counts by task status and a
// progress bar; filter by status. ListSessions carries no counts, so each shown session is read once
// per refresh (a page is at most 25 sessions).
import { useEffect, useState } from "preact/hooks";
import { api, SESSION_STATUSES, short, total, type Session } from "../api";
import { Badge, ErrorBox, fmtTime, Progress } from "../components/ui";
import { paths } from "../router";

export function Sessions() {
  const params = new URLSearchParams(location.search);
  const [status, setStatus] = useState(params.get("status") ?? "");
  const [tokens, setTokens] = useState<string[]>([""]); // page tokens of the pages seen so far
  const [page, setPage] = useState<{ sessions: Session[]; next?: string }>();
  const [error, setError] = useState<string>();
  const token = tokens[tokens.length - 1];

  useEffect(() => {
    let alive = true;
    const load = async () => {
      try {
        const r = await api.listSessions(status || undefined, token || undefined);
        const full = await Promise.all((r.sessions ?? []).map((s) =>
          api.getSession(s.sessionId).then((g) => g.session).catch(() => s)));
        if (!alive) return;
        setPage({ sessions: full, next: r.nextPageToken });
        setError(undefined);
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    };
    void load();
    const id = setInterval(load, 3000);
    return () => { alive = false; clearInterval(id); };
  }, [status, token]);

  const pick = (s: string) => {
    setStatus(s);
    setTokens([""]);
    history.replaceState(null, "", s ? `/sessions?status=${s}` : "/sessions");
  };

  return (
    <section>
      <h1>Sessions</h1>
      <div class="toolbar">
        <label>Status <select value={status} onChange={(e) => pick((e.target as HTMLSelectElement).value)} data-filter="session-status">
          <option value="">any</option>
          {SESSION_STATUSES.map((s) => <option key={s} value={s}>{short(s)}</option>)}
        </select></label>
      </div>
      <ErrorBox error={error} />
      {page === undefined ? <p class="muted">Loading…</p> : page.sessions.length === 0 ? <p class="muted">No session{status ? ` with status ${short(status)}` : ""}.</p> : (
        <table class="grid" data-table="sessions">
          <thead><tr><th>Session</th><th>Status</th><th>Created</th><th>Tasks</th><th>Progress</th><th>Pending</th><th>Queued</th><th>Running</th><th>Completed</th><th>Failed</th><th>Cancelled</th></tr></thead>
          <tbody>
            {page.sessions.map((s) => {
              const c = s.taskCounts;
              return (
                <tr key={s.sessionId} data-session={s.sessionId}>
                  <td><a href={paths.session(s.sessionId)}><code>{s.sessionId}</code></a></td>
                  <td><Badge status={s.status} /></td>
                  <td>{fmtTime(s.createTime)}</td>
                  <td>{total(c)}</td>
                  <td class="wide"><Progress counts={c} /></td>
                  <td>{c?.pending ?? 0}</td><td>{c?.queued ?? 0}</td>
                  <td>{Number(c?.running ?? 0) + Number(c?.dispatched ?? 0)}</td>
                  <td>{c?.completed ?? 0}</td><td>{c?.failed ?? 0}</td><td>{c?.cancelled ?? 0}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button type="button" disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>← Newer</button>
        <button type="button" disabled={!page?.next} onClick={() => page?.next && setTokens([...tokens, page.next])}>Older →</button>
      </div>
    </section>
  );
}
