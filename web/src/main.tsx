// The studio's pages behind a hash router (#/studio, #/compositions, #/models, #/training, #/learn), the status line and
// the message line.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Status, get } from "./api";
import { Compositions } from "./pages/Compositions";
import { Learn } from "./pages/Learn";
import { Models } from "./pages/Models";
import { Studio, type StudioQuery } from "./pages/Studio";
import { Training } from "./pages/Training";
import { Challenges } from "./pages/Challenges";
import { player } from "./player";
import { attempt, clearMessage, useMessage } from "./state";
import "./style.css";

const PAGES = [
  { path: "studio", title: "Music studio" },
  { path: "compositions", title: "Compositions" },
  { path: "models", title: "Models" },
  { path: "training", title: "Training" },
  { path: "challenges", title: "Challenges" },
  { path: "learn", title: "Learn" },
] as const;

// The status line (jobs running and queued) is asked for again this often while the page is in view.
const STATUS_POLL_MS = 3000;

// Tone.js loads shortly after the page is ready, so that the first note played sounds at once.
const PRELOAD_DELAY_MS = 300;

type Page = (typeof PAGES)[number]["path"];

interface Route {
  page: Page;
  query: Record<string, string>;
}

function parseRoute(hash: string): Route {
  const [path, search] = hash.replace(/^#\/?/, "").split("?");
  const page = PAGES.find((p) => p.path === path)?.path ?? "studio";
  return { page, query: Object.fromEntries(new URLSearchParams(search ?? "")) };
}

export function navigate(page: Page, query: Record<string, string> = {}): void {
  const search = new URLSearchParams(query).toString();
  window.location.hash = `#/${page}${search ? `?${search}` : ""}`;
}

declare global {
  interface Window {
    /** Milliseconds from navigation start to the studio page being ready to play and generate. */
    openComposerReadyMs?: number;
  }
}

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  // The studio stays mounted once opened (hidden on the other pages), so a melody and a result survive a
  // look at the other pages; it is told a new query only when its own address changes.
  const [studioQuery, setStudioQuery] = useState<StudioQuery | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const message = useMessage();

  useEffect(() => {
    const refreshStatus = () =>
      void attempt(() => get<Status>("/api/status")).then((value) => value && setStatus(value));
    const onHash = () => {
      delete document.body.dataset.ready;
      setRoute(parseRoute(window.location.hash));
      clearMessage();
      refreshStatus();
    };
    window.addEventListener("hashchange", onHash);
    refreshStatus();
    // Polled quietly: a failed poll is not worth a message (the next request the user makes says it in words).
    const poll = window.setInterval(() => {
      if (document.visibilityState === "visible") get<Status>("/api/status").then(setStatus, () => undefined);
    }, STATUS_POLL_MS);
    return () => {
      window.removeEventListener("hashchange", onHash);
      window.clearInterval(poll);
    };
  }, []);

  useEffect(() => {
    if (route.page !== "studio") return;
    const query = route.query as StudioQuery;
    if (studioQuery && JSON.stringify(query) === JSON.stringify(studioQuery)) ready();
    else setStudioQuery(query);
  }, [route]);

  useEffect(() => {
    const title = PAGES.find((p) => p.path === route.page)?.title ?? "";
    document.title = `${title} · OpenComposer`;
    document.getElementById("main")?.focus();
  }, [route.page]);

  // Each page says when its data is in; the first time the studio page is, the time to interactive is kept.
  const ready = () => {
    if (route.page === "studio" && window.openComposerReadyMs === undefined)
      window.openComposerReadyMs = performance.now();
    document.body.dataset.ready = "true";
    window.setTimeout(() => void player.ready(), PRELOAD_DELAY_MS);
  };
  const use = (technique: string, model: string) => navigate("studio", { technique, model });

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to the page
      </a>
      <header>
        <h1>OpenComposer</h1>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={route.page === p.path ? "page" : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        {status && (
          <span class="status-line">
            v{status.version} · jobs {status.jobs_running} running, {status.jobs_queued} queued
          </span>
        )}
      </header>
      {message && (
        <div class={`message ${message.kind}`} role={message.kind === "error" ? "alert" : "status"}>
          <span>{message.text}</span>
          <button type="button" onClick={clearMessage} aria-label="Dismiss the message">
            ×
          </button>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {studioQuery && (
          <div hidden={route.page !== "studio"}>
            <Studio query={studioQuery} status={status} onReady={ready} />
          </div>
        )}
        {route.page === "compositions" && (
          <Compositions onOpen={(id) => navigate("studio", { composition: id })} onReady={ready} status={status} />
        )}
        {route.page === "models" && <Models onUse={use} onReady={ready} />}
        {route.page === "training" && <Training onUse={use} onReady={ready} />}
        {route.page === "challenges" && (
          <Challenges onOpen={(id) => navigate("studio", { composition: id })} onReady={ready} />
        )}
        {route.page === "learn" && <Learn onReady={ready} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
