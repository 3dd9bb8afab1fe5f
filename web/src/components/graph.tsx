// The graph of a small session: tasks in columns by depth (a task sits right of the tasks whose
// outputs it reads), solid edges for data dependencies, dashed edges from a task to its subtasks.
import { short, type Task } from "../api";
import { navigate, paths } from "../router";

const NODE_W = 120, NODE_H = 26, COL_GAP = 50, ROW_GAP = 10, PAD = 10;

export function TaskGraph({ tasks }: { tasks: Task[] }) {
  const producer = new Map<string, string>();
  for (const t of tasks) for (const o of t.expectedOutputIds ?? []) if (!producer.has(o)) producer.set(o, t.taskId);
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const t = byId.get(id)!;
    let d = 0;
    for (const r of t.dataDependencies ?? []) {
      const p = producer.get(r);
      if (p && p !== id && byId.has(p)) d = Math.max(d, depthOf(p, seen) + 1);
    }
    if (t.parentTaskId && byId.has(t.parentTaskId)) d = Math.max(d, depthOf(t.parentTaskId, seen) + 1);
    depth.set(id, d);
    return d;
  };
  const cols: Task[][] = [];
  for (const t of tasks) {
    const d = depthOf(t.taskId, new Set());
    (cols[d] ??= []).push(t);
  }
  const pos = new Map<string, { x: number; y: number }>();
  cols.forEach((col, c) => col.forEach((t, r) => pos.set(t.taskId, { x: PAD + c * (NODE_W + COL_GAP), y: PAD + r * (NODE_H + ROW_GAP) })));
  const w = PAD * 2 + cols.length * (NODE_W + COL_GAP) - COL_GAP;
  const h = PAD * 2 + Math.max(...cols.map((c) => c?.length ?? 0)) * (NODE_H + ROW_GAP) - ROW_GAP;
  const edges: { from: string; to: string; dashed: boolean; result?: string }[] = [];
  for (const t of tasks) {
    for (const r of t.dataDependencies ?? []) {
      const p = producer.get(r);
      if (p && p !== t.taskId && pos.has(p)) edges.push({ from: p, to: t.taskId, dashed: false, result: r });
    }
    if (t.parentTaskId && pos.has(t.parentTaskId)) edges.push({ from: t.parentTaskId, to: t.taskId, dashed: true });
  }
  return (
    <div class="graph-wrap">
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} data-graph="tasks" role="img" aria-label="task graph">
        {edges.map((e, i) => {
          const a = pos.get(e.from)!, b = pos.get(e.to)!;
          const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
          return (
            <path key={i} class={e.dashed ? "edge dashed" : "edge"} d={`M${x1},${y1} C${x1 + COL_GAP / 2},${y1} ${x2 - COL_GAP / 2},${y2} ${x2},${y2}`}>
              <title>{e.result ? `result ${e.result}` : "subtask"}</title>
            </path>
          );
        })}
        {tasks.map((t) => {
          const p = pos.get(t.taskId)!;
          const s = short(t.status);
          return (
            <g key={t.taskId} class={`node s-${s}`} transform={`translate(${p.x},${p.y})`} data-node={t.taskId}
              onClick={() => navigate(paths.task(t.sessionId, t.taskId))}>
              <title>{`${t.taskId} · ${t.method} · ${s}`}</title>
              <rect width={NODE_W} height={NODE_H} rx={5} />
              <text x={6} y={17}>{t.method} · {s}</text>
            </g>
          );
        })}
      </svg>
      <p class="muted small">Solid: a result (hover for its id) written by the task on the left and read by the task on the right. Dashed: subtask submitted by a task.</p>
    </div>
  );
}
