// A tiny history router: the gateway answers index.html for every dashboard path, so a reload or a
// shared link opens the same page.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "overview" }
  | { page: "sessions" }
  | { page: "session"; sessionId: string }
  | { page: "task"; sessionId: string; taskId: string }
  | { page: "notfound"; path: string };

export function parse(path: string): Route {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "overview" };
  if (parts[0] === "sessions") {
    if (parts.length === 1) return { page: "sessions" };
    if (parts.length === 2) return { page: "session", sessionId: parts[1] };
    if (parts.length === 4 && parts[2] === "tasks") return { page: "task", sessionId: parts[1], taskId: parts[3] };
  }
  return { page: "notfound", path };
}

export const paths = {
  session: (sid: string) => `/sessions/${encodeURIComponent(sid)}`,
  task: (sid: string, tid: string) => `/sessions/${encodeURIComponent(sid)}/tasks/${encodeURIComponent(tid)}`,
};

export function navigate(to: string) {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function useLocation(): string {
  const [loc, setLoc] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setLoc(location.pathname + location.search);
    addEventListener("popstate", on);
    return () => removeEventListener("popstate", on);
  }, []);
  return loc;
}

/** onLinkClick makes plain <a href="/..."> links navigate inside the page. */
export function onLinkClick(e: MouseEvent) {
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || a.target || a.hasAttribute("download") || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const href = a.getAttribute("href");
  if (!href || !href.startsWith("/") || href.startsWith("/v1/") || href.startsWith("/ui/api/")) return;
  e.preventDefault();
  navigate(href);
}
