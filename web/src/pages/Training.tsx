// Training: choose an architecture, a dataset (or add a folder) and hyperparameters; start; watch the losses,
// the music metrics against the dataset's own values and each evaluation's sample; stop, resume, use the model.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  type Architecture,
  type Dataset,
  type DatasetAdded,
  type Job,
  type JobEvent,
  type ParamValues,
  type ScoreNotes,
  get,
  post,
} from "../api";
import { LineChart, type Series } from "../components/LineChart";
import { ParamForm, defaults } from "../components/ParamForm";
import { PianoRoll } from "../components/PianoRoll";
import { player } from "../player";
import { UserError, attempt, showError, showNotice } from "../state";

const FINAL = new Set(["stopped", "interrupted", "failed", "done"]);
const POLL_MS = 1000;

const EVENT_KINDS = ["start", "step", "eval", "checkpoint", "done", "failed"];

/** A job's events as they arrive: server-sent events, or polling when the stream cannot be had. The
 * subscription ends when the job does; a new `epoch` (a resume) starts it again. */
function useJobEvents(job: Job | null, onJob: (job: Job) => void, epoch: number): JobEvent[] {
  const [events, setEvents] = useState<JobEvent[]>([]);
  const jobId = job?.id;
  useEffect(() => {
    setEvents([]);
    if (!jobId) return;
    let lastSeq = 0;
    let closed = false;
    let timer = 0;
    const add = (batch: JobEvent[]) => {
      const fresh = batch.filter((event) => event.seq > lastSeq);
      if (!fresh.length) return;
      lastSeq = fresh[fresh.length - 1].seq;
      setEvents((list) => [...list, ...fresh]);
    };
    const poll = async () => {
      try {
        add(await get<JobEvent[]>(`/api/jobs/${jobId}/events?after=${lastSeq}`));
        const current = await get<Job>(`/api/jobs/${jobId}`);
        onJob(current);
        if (FINAL.has(current.status)) return;
      } catch (error) {
        showError(error);
      }
      if (!closed) timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    let source: EventSource | null = null;
    if ("EventSource" in window) {
      source = new EventSource(`/api/jobs/${jobId}/events/stream`);
      for (const kind of EVENT_KINDS)
        source.addEventListener(kind, (message) =>
          add([JSON.parse((message as MessageEvent<string>).data) as JobEvent]),
        );
      source.addEventListener("status", (message) => {
        const current = JSON.parse((message as MessageEvent<string>).data) as Job;
        onJob(current);
        if (FINAL.has(current.status)) source?.close();
      });
      source.onerror = () => {
        // The stream ended or broke: polling takes over (it stops by itself once the job is final).
        source?.close();
        if (!closed) void poll();
      };
    } else {
      void poll();
    }
    return () => {
      closed = true;
      source?.close();
      window.clearTimeout(timer);
    };
  }, [jobId, epoch]);
  return events;
}

function Charts({ events }: { events: JobEvent[] }) {
  const losses = new Map<string, [number, number][]>();
  for (const event of events) {
    if (event.kind !== "step") continue;
    const values = (event.data.losses ?? {}) as Record<string, number>;
    for (const [name, value] of Object.entries(values))
      if (typeof value === "number") losses.set(name, [...(losses.get(name) ?? []), [event.step, value]]);
  }
  const metrics = new Map<string, [number, number][]>();
  const references = new Map<string, number>();
  for (const event of events) {
    if (event.kind !== "eval") continue;
    const values = { ...((event.data.metrics ?? {}) as Record<string, number>) };
    if (typeof event.data.similarity_index === "number") values.similarity_index = event.data.similarity_index;
    for (const [name, value] of Object.entries(values))
      if (typeof value === "number") metrics.set(name, [...(metrics.get(name) ?? []), [event.step, value]]);
    for (const [name, value] of Object.entries((event.data.reference ?? {}) as Record<string, number>))
      if (typeof value === "number") references.set(name, value);
  }
  const lossSeries: Series[] = [...losses].map(([label, points]) => ({ label, points }));
  return (
    <div class="charts">
      {lossSeries.length > 0 && <LineChart title="Losses" series={lossSeries} />}
      {[...metrics].map(([name, points]) => (
        <LineChart
          key={name}
          title={name.replace(/_/g, " ")}
          series={[{ label: "model", points }]}
          reference={references.get(name)}
        />
      ))}
    </div>
  );
}

function Samples({ job, events }: { job: Job; events: JobEvent[] }) {
  const evals = events.filter((event) => event.kind === "eval" && typeof event.data.sample_midi_url === "string");
  const [index, setIndex] = useState<number | null>(null);
  const [score, setScore] = useState<ScoreNotes | null>(null);
  const shown = index === null ? evals.length - 1 : Math.min(index, evals.length - 1);
  const step = evals[shown]?.step;
  useEffect(() => {
    if (step === undefined) return;
    void attempt(() => get<ScoreNotes>(`/api/jobs/${job.id}/samples/${step}/notes`)).then(
      (notes) => notes && setScore(notes),
    );
  }, [job.id, step]);
  if (!evals.length) return <p class="help">Each evaluation's sample appears here.</p>;
  return (
    <div class="samples">
      <div class="row">
        <label>
          Sample at step {step}{" "}
          <input
            type="range"
            min={0}
            max={evals.length - 1}
            value={shown}
            aria-label="Evaluation sample"
            onInput={(e) => setIndex(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </label>
        <span>
          {shown + 1} of {evals.length}
        </span>
        <button
          type="button"
          disabled={!score}
          onClick={() => {
            if (!score) return;
            const mixes = score.tracks.map((track) => ({
              muted: false,
              solo: false,
              volumeDb: 0,
              program: track.program,
            }));
            player
              .load(score, mixes)
              .then(() => player.play())
              .catch(showError);
          }}
        >
          Play sample
        </button>
        <button type="button" onClick={() => player.stop()}>
          Stop
        </button>
      </div>
      {score && <PianoRoll score={score} label={`Sample at step ${step}`} heightPx={220} />}
    </div>
  );
}

export function Training({
  onUse,
  onReady,
}: {
  onUse: (technique: string, model: string) => void;
  onReady: () => void;
}) {
  const [architectures, setArchitectures] = useState<Architecture[]>([]);
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [architecture, setArchitecture] = useState("");
  const [preset, setPreset] = useState("");
  const [dataset, setDataset] = useState("");
  const [modelName, setModelName] = useState("my-model");
  const [hyperparameters, setHyperparameters] = useState<ParamValues>({});
  const [selected, setSelected] = useState<Job | null>(null);
  const [folder, setFolder] = useState({ name: "", genre: "" });
  const files = useRef<HTMLInputElement>(null);
  const folderFiles = useRef<HTMLInputElement>(null);
  // Chromium, Firefox and Safari pick a folder's files with the (non-standard) `webkitdirectory` attribute; it
  // is set as an attribute, since Preact would assign "" to the boolean property and so turn it off.
  useEffect(() => folderFiles.current?.setAttribute("webkitdirectory", ""), []);
  const chosen = architectures.find((a) => a.name === architecture);

  async function refreshJobs(): Promise<void> {
    const list = await attempt(() => get<Job[]>("/api/jobs"));
    if (list) setJobs(list);
  }

  useEffect(() => {
    // Listing the architectures loads the training code on the server (seconds, the first time): the
    // datasets and jobs are shown without waiting for it.
    const lists = [
      attempt(() => get<Dataset[]>("/api/datasets")).then((list) => {
        if (!list) return;
        setDatasets(list);
        const present = list.find((d) => d.present);
        if (present) setDataset((current) => current || present.name);
      }),
      attempt(() => get<Job[]>("/api/jobs")).then((list) => {
        if (!list) return;
        setJobs(list);
        if (list[0]) setSelected((current) => current ?? list[0]);
      }),
      attempt(() => get<Architecture[]>("/api/architectures")).then((list) => {
        if (!list) return;
        setArchitectures(list);
        if (list[0]) chooseArchitecture(list[0]);
      }),
    ];
    void Promise.all(lists).then(onReady);
  }, []);

  function chooseArchitecture(value: Architecture): void {
    setArchitecture(value.name);
    setPreset("");
    setHyperparameters(defaults(value.params_schema));
    setModelName(`my-${value.name}`);
  }

  const onJob = (job: Job) => {
    setSelected((current) => (current && current.id === job.id ? job : current));
    setJobs((list) => list.map((item) => (item.id === job.id ? job : item)));
  };
  const [epoch, setEpoch] = useState(0);
  const events = useJobEvents(selected, onJob, epoch);

  async function addFolder(event: Event): Promise<void> {
    event.preventDefault();
    const chosenFiles = [...(files.current?.files ?? []), ...(folderFiles.current?.files ?? [])];
    if (!chosenFiles.length) {
      showError(new UserError("Choose the MIDI or MusicXML files of your folder (or the folder) first."));
      return;
    }
    const form = new FormData();
    form.append("name", folder.name);
    form.append("genre", folder.genre);
    for (const file of chosenFiles) form.append("files", file, file.name);
    const added = await attempt(() => post<DatasetAdded>("/api/datasets", form));
    if (!added) return;
    const list = await attempt(() => get<Dataset[]>("/api/datasets"));
    if (list) setDatasets(list);
    setDataset(added.dataset.name);
    const skipped = added.files_skipped.length ? ` Left out: ${added.files_skipped.join("; ")}.` : "";
    showNotice(`Added the dataset ${added.dataset.name}: ${added.pieces_read} pieces read.${skipped}`);
  }

  async function start(event: Event): Promise<void> {
    event.preventDefault();
    // Only the values the user changed are sent: the others give way to the preset's recommendations.
    const declared = chosen ? defaults(chosen.params_schema) : {};
    const changed = Object.fromEntries(
      Object.entries(hyperparameters).filter(([name, value]) => value !== declared[name]),
    );
    const body = {
      architecture,
      dataset,
      model_name: modelName,
      hyperparameters: changed,
      ...(preset ? { preset } : {}),
    };
    const job = await attempt(() => post<Job>("/api/jobs", body));
    if (!job) return;
    setJobs((list) => [job, ...list]);
    setSelected(job);
    showNotice(`Training ${job.model_name}: job ${job.id} is ${job.status}.`);
  }

  async function act(job: Job, action: "stop" | "resume"): Promise<void> {
    const changed = await attempt(() => post<Job>(`/api/jobs/${job.id}/${action}`));
    if (!changed) return;
    setSelected(changed);
    if (action === "resume") setEpoch((value) => value + 1);
    await refreshJobs();
  }

  const latest = events.filter((event) => event.kind === "step" || event.kind === "eval").at(-1);
  const step = Math.max(selected?.step ?? 0, latest?.step ?? 0);
  const total = Math.max(1, latest?.total_steps ?? selected?.total_steps ?? 1);
  return (
    <div class="training">
      <section class="panel" aria-labelledby="train-title">
        <h2 id="train-title">Train a model</h2>
        <form onSubmit={(e) => void start(e)}>
          <div class="row">
            <label>
              Architecture{" "}
              <select
                aria-label="Architecture"
                value={architecture}
                onChange={(e) => {
                  const value = architectures.find((a) => a.name === (e.currentTarget as HTMLSelectElement).value);
                  if (value) chooseArchitecture(value);
                }}
              >
                {architectures.map((a) => (
                  <option key={a.name} value={a.name}>
                    {a.name} ({a.technique})
                  </option>
                ))}
              </select>
            </label>
            <label>
              Preset{" "}
              <select
                aria-label="Preset"
                value={preset}
                onChange={(e) => {
                  const name = (e.currentTarget as HTMLSelectElement).value;
                  setPreset(name);
                  const own = chosen?.presets.find((p) => p.name === name)?.dataset;
                  if (own && datasets.some((d) => d.name === own && d.present)) setDataset(own);
                }}
              >
                <option value="">none</option>
                {chosen?.presets.map((p) => (
                  <option key={p.name} value={p.name} title={p.description}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Dataset{" "}
              <select
                aria-label="Dataset"
                value={dataset}
                onChange={(e) => setDataset((e.currentTarget as HTMLSelectElement).value)}
              >
                {datasets.map((d) => (
                  <option key={d.name} value={d.name} disabled={!d.present}>
                    {d.name} ({d.pieces ?? "?"} pieces{d.present ? "" : ", not downloaded"})
                  </option>
                ))}
              </select>
            </label>
            <label>
              Model name{" "}
              <input
                aria-label="Model name"
                value={modelName}
                pattern="[a-z0-9][a-z0-9._\-]{0,63}"
                onInput={(e) => setModelName((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <button type="submit" class="primary" disabled={!architecture || !dataset}>
              Start training
            </button>
          </div>
          {chosen && (
            <ParamForm
              prefix="hp"
              schema={chosen.params_schema}
              values={hyperparameters}
              onChange={setHyperparameters}
            />
          )}
        </form>
        <details>
          <summary>Add a folder of your music as a dataset</summary>
          <form class="row" onSubmit={(e) => void addFolder(e)}>
            <label>
              Name{" "}
              <input
                aria-label="Dataset name"
                required
                pattern="[a-z0-9][a-z0-9_\-]{0,63}"
                value={folder.name}
                onInput={(e) => setFolder({ ...folder, name: (e.currentTarget as HTMLInputElement).value })}
              />
            </label>
            <label>
              Genre{" "}
              <input
                aria-label="Genre"
                required
                value={folder.genre}
                onInput={(e) => setFolder({ ...folder, genre: (e.currentTarget as HTMLInputElement).value })}
              />
            </label>
            <label>
              Files{" "}
              <input
                ref={files}
                aria-label="Dataset files"
                type="file"
                multiple
                accept=".mid,.midi,.mxl,.musicxml,.xml"
              />
            </label>
            <label>
              or a whole folder <input ref={folderFiles} aria-label="Dataset folder" type="file" />
            </label>
            <button type="submit">Add dataset</button>
          </form>
        </details>
      </section>

      <section class="panel" aria-labelledby="jobs-title">
        <h2 id="jobs-title">Jobs</h2>
        {!jobs.length && <p>No training jobs yet.</p>}
        <ul class="jobs">
          {jobs.map((job) => (
            <li key={job.id}>
              <button type="button" aria-current={selected?.id === job.id} onClick={() => setSelected(job)}>
                {job.model_name} · {job.architecture} on {job.dataset} ·{" "}
                <span class={`status ${job.status}`}>{job.status}</span>
              </button>
            </li>
          ))}
        </ul>
        {selected && (
          <div class="job" data-job={selected.id}>
            <h3>
              {selected.model_name}{" "}
              <span class={`status ${selected.status}`} data-status={selected.status}>
                {selected.status}
              </span>
            </h3>
            {selected.reason && <p class="help">{selected.reason}</p>}
            <div class="row">
              <progress max={total} value={step} aria-label="Training progress" />
              <span>
                step {step} of {total} · {Math.round(latest?.elapsed_seconds ?? selected.elapsed_seconds)} s
              </span>
              {!FINAL.has(selected.status) && (
                <button
                  type="button"
                  onClick={() => void act(selected, "stop")}
                  disabled={selected.status === "stopping"}
                >
                  Stop
                </button>
              )}
              {["stopped", "interrupted", "failed"].includes(selected.status) && (
                <button type="button" onClick={() => void act(selected, "resume")}>
                  Resume
                </button>
              )}
              {selected.status === "done" && (
                <button
                  type="button"
                  class="primary"
                  onClick={() =>
                    onUse(
                      architectures.find((a) => a.name === selected.architecture)?.technique ?? "",
                      selected.model_name,
                    )
                  }
                >
                  Use in studio
                </button>
              )}
            </div>
            <Charts events={events} />
            <Samples job={selected} events={events} />
          </div>
        )}
      </section>
    </div>
  );
}
