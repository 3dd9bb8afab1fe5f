// The dashboard's only way to Chorus: the public REST API (proto3 JSON, see /openapi.json) plus the
// gateway's task-trace route. Every call carries the user's bearer token when one is set.

export type TaskStatus =
  | "TASK_STATUS_PENDING" | "TASK_STATUS_QUEUED" | "TASK_STATUS_DISPATCHED" | "TASK_STATUS_RUNNING"
  | "TASK_STATUS_COMPLETED" | "TASK_STATUS_FAILED" | "TASK_STATUS_CANCELLED";
export type SessionStatus =
  | "SESSION_STATUS_RUNNING" | "SESSION_STATUS_PAUSED" | "SESSION_STATUS_CLOSED"
  | "SESSION_STATUS_CANCELLED" | "SESSION_STATUS_PURGED";

// int64 fields arrive as strings in proto3 JSON, and fields at their zero value are left out.
export interface TaskCounts {
  pending?: string; queued?: string; dispatched?: string; running?: string;
  completed?: string; failed?: string; cancelled?: string;
}
export interface TaskOptions {
  partition?: string; priority?: number; maxRetries?: number; maxDuration?: string;
  options?: Record<string, string>;
}
export interface Session {
  sessionId: string; status: SessionStatus; defaultTaskOptions?: TaskOptions; weight?: number;
  labels?: Record<string, string>; createTime?: string; updateTime?: string; taskCounts?: TaskCounts;
}
export interface TaskError { kind?: string; message?: string; retryable?: boolean }
export interface TaskAttempt {
  number?: number; agentId?: string; dispatchTime?: string; startTime?: string; endTime?: string; error?: TaskError;
}
export interface Task {
  sessionId: string; taskId: string; method: string; status: TaskStatus; options?: TaskOptions;
  dataDependencies?: string[]; expectedOutputIds?: string[]; payloadSize?: string; parentTaskId?: string;
  attempts?: TaskAttempt[]; error?: TaskError; createTime?: string; queueTime?: string; endTime?: string;
  payloadId?: string;
}
export interface Result {
  sessionId: string; resultId: string; status?: string; ownerTaskId?: string; sizeBytes?: string;
  sha256?: string; abortReason?: string; createTime?: string; endTime?: string;
}
export interface AgentInfo { agentId: string; hostname?: string; capacity?: number; inFlight?: number; lastSeenTime?: string }
export interface Partition {
  partitionId: string; queueDepth?: string; taskCounts?: TaskCounts; agents?: AgentInfo[];
  totalCapacity?: number; declared?: boolean;
}
export interface Event {
  cursor: string; sessionId: string; time?: string;
  taskStatus?: { taskId: string; status: TaskStatus; attempt?: number; error?: TaskError };
  resultStatus?: { resultId: string; status: string; sizeBytes?: string; abortReason?: string };
  sessionStatus?: { status: SessionStatus };
  taskProgress?: { taskId: string; fraction?: number; message?: string };
}
export interface TraceSpan {
  spanId: string; parentId?: string; service: string; name: string; startMicros: number;
  durationMicros: number; error?: boolean; taskId?: string;
}
export interface TaskTrace { traceId: string; jaegerUrl?: string; spans: TraceSpan[]; truncated?: boolean; message?: string; retry?: boolean }

export const TASK_STATUSES: TaskStatus[] = [
  "TASK_STATUS_PENDING", "TASK_STATUS_QUEUED", "TASK_STATUS_DISPATCHED", "TASK_STATUS_RUNNING",
  "TASK_STATUS_COMPLETED", "TASK_STATUS_FAILED", "TASK_STATUS_CANCELLED",
];
export const SESSION_STATUSES: SessionStatus[] = [
  "SESSION_STATUS_RUNNING", "SESSION_STATUS_PAUSED", "SESSION_STATUS_CLOSED",
  "SESSION_STATUS_CANCELLED", "SESSION_STATUS_PURGED",
];
export const COUNT_KEYS: (keyof TaskCounts)[] = ["pending", "queued", "dispatched", "running", "completed", "failed", "cancelled"];

/** short turns TASK_STATUS_COMPLETED into "completed". */
export function short(status: string | undefined): string {
  return (status ?? "").replace(/^(TASK|SESSION|RESULT)_STATUS_/, "").toLowerCase();
}

export function num(v: string | number | undefined): number {
  return v === undefined ? 0 : Number(v);
}

export function total(c: TaskCounts | undefined): number {
  return COUNT_KEYS.reduce((s, k) => s + num(c?.[k]), 0);
}

const TOKEN_KEY = "chorus.token";
export function getToken(): string {
  try { return localStorage.getItem(TOKEN_KEY) ?? ""; } catch { return ""; }
}
export function setToken(t: string) {
  try { t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY); } catch { /* private mode */ }
}

function headers(extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { Accept: "application/json", ...extra };
  const t = getToken();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

/** ApiError is a failed call, with the gateway's message (a google.rpc.Status) when it sent one. */
export class ApiError extends Error {
  constructor(public readonly httpStatus: number, message: string) { super(message); }
}

async function failure(resp: Response, what: string): Promise<ApiError> {
  let msg = `${what}: HTTP ${resp.status}`;
  try {
    const body = await resp.json();
    if (body?.message) msg = `${what}: ${body.message}`;
  } catch { /* not JSON */ }
  if (resp.status === 401 || resp.status === 403) msg += " (set an API token at the top right)";
  return new ApiError(resp.status, msg);
}

export async function get<T>(path: string, what = `GET ${path}`): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(path, { headers: headers() });
  } catch (e) {
    throw new ApiError(0, `${what}: the gateway does not answer (${(e as Error).message})`);
  }
  if (!resp.ok) throw await failure(resp, what);
  return resp.json() as Promise<T>;
}

export async function post<T>(path: string, body: unknown = {}, what = `POST ${path}`): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(path, { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `${what}: the gateway does not answer (${(e as Error).message})`);
  }
  if (!resp.ok) throw await failure(resp, what);
  return resp.json() as Promise<T>;
}

const enc = encodeURIComponent;

export function query(params: Record<string, string | number | undefined>): string {
  const q = Object.entries(params).filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join("&");
  return q ? `?${q}` : "";
}

export const api = {
  listPartitions: () => get<{ partitions?: Partition[] }>("/v1/partitions", "listing partitions"),
  listSessions: (status?: string, pageToken?: string, pageSize = 25) =>
    get<{ sessions?: Session[]; nextPageToken?: string }>(`/v1/sessions${query({ status, pageToken, pageSize })}`, "listing sessions"),
  getSession: (id: string) => get<{ session: Session }>(`/v1/sessions/${enc(id)}`, `reading session ${id}`),
  sessionAction: (id: string, verb: "pause" | "resume" | "close" | "cancel" | "purge") =>
    post<{ session: Session }>(`/v1/sessions/${enc(id)}:${verb}`, {}, `${verb} session ${id}`),
  listTasks: (id: string, status?: string, pageToken?: string, pageSize = 50) =>
    get<{ tasks?: Task[]; nextPageToken?: string }>(`/v1/sessions/${enc(id)}/tasks${query({ status, pageToken, pageSize })}`, `listing the tasks of ${id}`),
  getTask: (sid: string, tid: string) => get<{ task: Task }>(`/v1/sessions/${enc(sid)}/tasks/${enc(tid)}`, `reading task ${tid}`),
  getResult: (sid: string, rid: string) => get<{ result: Result }>(`/v1/sessions/${enc(sid)}/results/${enc(rid)}`, `reading result ${rid}`),
  resultDataPath: (sid: string, rid: string) => `/v1/sessions/${enc(sid)}/results/${enc(rid)}/data`,
  taskTrace: (sid: string, tid: string) => get<TaskTrace>(`/ui/api/sessions/${enc(sid)}/tasks/${enc(tid)}/trace`, `reading the trace of ${tid}`),
};

/** download fetches a result's data with the token and hands it to the browser as a file. */
export async function download(sid: string, rid: string) {
  const resp = await fetch(api.resultDataPath(sid, rid), { headers: headers({ Accept: "application/octet-stream" }) });
  if (!resp.ok) throw await failure(resp, `downloading ${rid}`);
  const url = URL.createObjectURL(await resp.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = rid;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * watchEvents follows a session's event stream (GET /v1/sessions/{id}/events, newline-delimited JSON)
 * from `cursor` ("$": from now on), calling onEvents with each batch of events that arrived together.
 * It reconnects from the last cursor when the stream ends, and stops when the returned function is
 * called.
 */
export function watchEvents(
  sessionId: string, onEvents: (evs: Event[]) => void, onState: (s: { live: boolean; error?: string }) => void,
  cursor = "$", kinds: string[] = [],
): () => void {
  const ctrl = new AbortController();
  let stopped = false;
  const run = async () => {
    let backoff = 500;
    while (!stopped) {
      try {
        const url = `/v1/sessions/${enc(sessionId)}/events${query({ cursor })}${kinds.map((k) => `&kinds=${k}`).join("")}`;
        const resp = await fetch(url, { headers: headers(), signal: ctrl.signal });
        if (!resp.ok) throw await failure(resp, "watching events");
        const c = resp.headers.get("Chorus-Cursor");
        if (c && cursor === "$") cursor = c;
        onState({ live: true });
        backoff = 500;
        const reader = resp.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          const lines = buf.split("\n");
          buf = lines.pop() ?? "";
          const batch: Event[] = [];
          for (const line of lines) {
            if (!line.trim()) continue;
            const msg = JSON.parse(line);
            if (msg.error) throw new ApiError(0, `watching events: ${msg.error.message ?? "stream error"}`);
            const ev: Event | undefined = msg.result?.event;
            if (ev) { batch.push(ev); cursor = ev.cursor; }
          }
          if (batch.length) onEvents(batch);
        }
      } catch (e) {
        if (stopped) return;
        const err = e as ApiError;
        onState({ live: false, error: err.message });
        if (err.httpStatus === 404 || err.httpStatus === 401 || err.httpStatus === 403) return;
      }
      if (stopped) return;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  };
  void run();
  return () => { stopped = true; ctrl.abort(); };
}
