// Overview: every partition with its agents, slots, utilization and queue depth, and the cluster's
// throughput over the last minutes (from the partitions' finished-task counts, sampled every 2 s).
import { useEffect, useState } from "preact/hooks";
import { api, num, type Partition } from "../api";
import { RateChart, type Point } from "../components/chart";
import { ErrorBox, fmtTime } from "../components/ui";

const WINDOW_MS = 5 * 60_000;
const history: { points: Point[]; last?: { t: number; done: number } } = { points: [] };

function finished(ps: Partition[]): number {
  return ps.reduce((s, p) => s + num(p.taskCounts?.completed) + num(p.taskCounts?.failed), 0);
}

export function Overview() {
  const [parts, setParts] = useState<Partition[] | undefined>();
  const [error, setError] = useState<string>();
  const [, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      try {
        const ps = (await api.listPartitions()).partitions ?? [];
        if (!alive) return;
        const t = Date.now(), done = finished(ps);
        if (history.last && t > history.last.t) {
          history.points.push({ t, v: Math.max(0, ((done - history.last.done) * 1000) / (t - history.last.t)) });
          history.points = history.points.filter((p) => p.t >= t - WINDOW_MS);
        }
        history.last = { t, done };
        setParts(ps);
        setError(undefined);
        setTick((n) => n + 1);
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    };
    void load();
    const id = setInterval(load, 2000);
    return () => { alive = false; clearInterval(id); };
  }, []);

  return (
    <section>
      <h1>Overview</h1>
      <ErrorBox error={error} />
      <RateChart points={history.points} windowMs={WINDOW_MS} label="Throughput (tasks finished)" />
      <h2>Partitions</h2>
      {parts === undefined ? <p class="muted">Loading…</p> : parts.length === 0 ? <p class="muted">No partition: start an agent.</p> : (
        <table class="grid" data-table="partitions">
          <thead><tr><th>Partition</th><th>Agents</th><th>Slots</th><th>In flight</th><th>Utilization</th><th>Queue depth</th><th>Running</th><th>Completed</th><th>Failed</th></tr></thead>
          <tbody>
            {parts.map((p) => {
              const agents = p.agents ?? [];
              const inFlight = agents.reduce((s, a) => s + (a.inFlight ?? 0), 0);
              const slots = p.totalCapacity || agents.reduce((s, a) => s + (a.capacity ?? 0), 0);
              const util = slots ? inFlight / slots : 0;
              return (
                <tr key={p.partitionId} data-partition={p.partitionId}>
                  <td><b>{p.partitionId}</b>{p.declared && <span class="muted"> (declared)</span>}</td>
                  <td>
                    {agents.length}
                    {agents.length > 0 && (
                      <details><summary>list</summary>
                        <ul class="agents">{agents.map((a) => (
                          <li key={a.agentId}><code>{a.agentId}</code> {a.hostname} · {a.inFlight ?? 0}/{a.capacity ?? 0} · seen {fmtTime(a.lastSeenTime)}</li>
                        ))}</ul>
                      </details>
                    )}
                  </td>
                  <td>{slots}</td>
                  <td>{inFlight}</td>
                  <td><div class="meter"><span style={{ width: `${Math.min(100, util * 100)}%` }} /></div> {(util * 100).toFixed(0)}%</td>
                  <td>{num(p.queueDepth)}</td>
                  <td>{num(p.taskCounts?.running) + num(p.taskCounts?.dispatched)}</td>
                  <td>{num(p.taskCounts?.completed)}</td>
                  <td>{num(p.taskCounts?.failed)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
