// The dashboard's shell: navigation, the API token field, and the page of the current route.
import { render } from "preact";
import { useState } from "preact/hooks";
import { getToken, setToken } from "./api";
import { Overview } from "./pages/Overview";
import { Session } from "./pages/Session";
import { Sessions } from "./pages/Sessions";
import { Task } from "./pages/Task";
import { onLinkClick, parse, useLocation } from "./router";
import "./style.css";

function TokenField() {
  const [value, setValue] = useState(getToken());
  const [saved, setSaved] = useState(getToken() !== "");
  return (
    <form class="token" onSubmit={(e) => { e.preventDefault(); setToken(value.trim()); setSaved(value.trim() !== ""); location.reload(); }}>
      <input type="password" placeholder="API token (when auth is on)" value={value} autocomplete="off"
        aria-label="API token" data-token onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">{saved ? "Update" : "Use"}</button>
      {saved && <button type="button" onClick={() => { setToken(""); location.reload(); }}>Forget</button>}
    </form>
  );
}

function App() {
  const loc = useLocation();
  const route = parse(loc.split("?")[0]);
  const here = route.page === "overview" ? "overview" : "sessions";
  return (
    <div onClick={onLinkClick}>
      <header>
        <a href="/" class="brand">Chorus</a>
        <nav>
          <a href="/" class={here === "overview" ? "active" : ""}>Overview</a>
          <a href="/sessions" class={here === "sessions" ? "active" : ""}>Sessions</a>
          <a href="/openapi.json" target="_blank" rel="noopener">API</a>
        </nav>
        <TokenField />
      </header>
      <main>
        {route.page === "overview" && <Overview />}
        {route.page === "sessions" && <Sessions key={loc} />}
        {route.page === "session" && <Session key={route.sessionId} sessionId={route.sessionId} />}
        {route.page === "task" && <Task key={`${route.sessionId}/${route.taskId}`} sessionId={route.sessionId} taskId={route.taskId} />}
        {route.page === "notfound" && <section><h1>Not found</h1><p>No dashboard page at <code>{route.path}</code>. <a href="/">Overview</a></p></section>}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
