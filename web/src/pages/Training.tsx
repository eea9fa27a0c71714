// Training: choose an architecture, a dataset (or add a folder) and hyperparameters; start; watch the losses,
// the music metrics against the dataset's own values and each evaluation's sample; stop, resume, use the model.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  type TrainableArchitecture,
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

// The measures charted in the open; the others are one click away.
const HEADLINE = ["similarity_index", "in_scale_ratio", "tonal_distance", "polyphony", "pitch_class_entropy"];
const WHOLE_WINDOW = "all tracks";

/** One chart per measure: "measure/track" keys are a line per track in the measure's chart, a whole-window
 * "measure" key is the line "all tracks"; each line carries the dataset's own value as its reference. */
function measureCharts(events: JobEvent[]): { title: string; name: string; series: Series[] }[] {
  const measures = new Map<string, Map<string, Series>>();
  for (const event of events) {
    if (event.kind !== "eval") continue;
    const values = { ...((event.data.metrics ?? {}) as Record<string, number | null>) };
    if (typeof event.data.similarity_index === "number") values.similarity_index = event.data.similarity_index;
    const references = (event.data.reference ?? {}) as Record<string, number | null>;
    for (const [key, value] of Object.entries(values)) {
      if (typeof value !== "number") continue;
      const [measure, track] = key.includes("/")
        ? key.split("/", 2)
        : [key, key === "similarity_index" ? "model" : WHOLE_WINDOW];
      const lines = measures.get(measure) ?? new Map<string, Series>();
      measures.set(measure, lines);
      const line = lines.get(track) ?? { label: track, points: [] };
      line.points.push([event.step, value]);
      const reference = references[key];
      if (typeof reference === "number") line.reference = reference;
      lines.set(track, line);
    }
  }
  return [...measures].map(([name, lines]) => ({
    name,
    title: name.replace(/_/g, " "),
    series: [...lines.values()],
  }));
}

function Charts({ events }: { events: JobEvent[] }) {
  const losses = new Map<string, [number, number][]>();
  for (const event of events) {
    if (event.kind !== "step") continue;
    const values = (event.data.losses ?? {}) as Record<string, number>;
    for (const [name, value] of Object.entries(values))
      if (typeof value === "number") losses.set(name, [...(losses.get(name) ?? []), [event.step, value]]);
  }
  const lossSeries: Series[] = [...losses].map(([label, points]) => ({ label, points }));
  const charts = measureCharts(events);
  const headline = charts.filter((chart) => HEADLINE.includes(chart.name));
  const others = charts.filter((chart) => !HEADLINE.includes(chart.name));
  return (
    <>
      <div class="charts">
        {lossSeries.length > 0 && <LineChart title="Losses" series={lossSeries} />}
        {headline.map((chart) => (
          <LineChart key={chart.name} title={chart.title} series={chart.series} />
        ))}
      </div>
      {others.length > 0 && (
        <details class="more-charts">
          <summary>{others.length} more measures, track by track</summary>
          <div class="charts">
            {others.map((chart) => (
              <LineChart key={chart.name} title={chart.title} series={chart.series} />
            ))}
          </div>
        </details>
      )}
    </>
  );
}

/** What the job is doing now, in words, read from its status and its current run's last event: the trainer
 * says "start" once the data is prepared and the networks built, "step" every few steps, "eval" after each
 * evaluation. */
function phaseOf(job: Job, events: JobEvent[]): string {
  if (job.status === "queued") return "Waiting for a free worker";
  if (job.status === "stopping") return "Stopping: saving a checkpoint";
  if (job.status !== "running")
    return job.status === "done" ? "Done" : `${job.status[0].toUpperCase()}${job.status.slice(1)}`;
  const last = events.filter((event) => event.run === job.runs).at(-1);
  if (!last) return "Preparing the data: reading the dataset into windows";
  if (last.kind === "done") return "Saving the model among yours";
  if (last.kind === "start") return "Building the networks and taking the first step";
  const evalEvery = Number(job.hyperparameters.eval_every ?? 0);
  const evaluationDue = last.step === last.total_steps || (evalEvery > 0 && last.step % evalEvery === 0);
  if (last.kind === "step" && evaluationDue) return `Evaluating: sampling music at step ${last.step} and measuring it`;
  return "Training";
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
  const [architectures, setArchitectures] = useState<TrainableArchitecture[]>([]);
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
  const chosenPreset = chosen?.presets.find((p) => p.name === preset);

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
      attempt(() => get<TrainableArchitecture[]>("/api/architectures")).then((list) => {
        if (!list) return;
        setArchitectures(list);
        if (list[0]) chooseArchitecture(list[0]);
      }),
    ];
    void Promise.all(lists).then(onReady);
  }, []);

  // The form holds every value the job will run with: the declared defaults under the recommendations of the
  // preset picked (or of a run without one), then whatever the user changes.
  function chooseArchitecture(value: TrainableArchitecture): void {
    setArchitecture(value.name);
    setPreset("");
    setHyperparameters({ ...defaults(value.params_schema), ...value.hyperparameters });
    setModelName(`my-${value.name}`);
  }

  function choosePreset(name: string): void {
    if (!chosen) return;
    const picked = chosen.presets.find((p) => p.name === name);
    setPreset(name);
    setHyperparameters({ ...defaults(chosen.params_schema), ...(picked ?? chosen).hyperparameters });
    if (picked && datasets.some((d) => d.name === picked.dataset && d.present)) setDataset(picked.dataset);
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
    // Every value shown is sent, so that the job runs with what the form shows.
    const body = {
      architecture,
      dataset,
      model_name: modelName,
      hyperparameters,
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
  const phase = selected ? phaseOf(selected, events) : "";
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
                onChange={(e) => choosePreset((e.currentTarget as HTMLSelectElement).value)}
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
            <p class="help preset-description">
              {chosenPreset
                ? `${chosenPreset.name}: ${chosenPreset.description}`
                : `${chosen.title}: ${chosen.description} No preset: a small network sized for the dataset.`}
            </p>
          )}
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
              <progress
                max={total}
                // No value: a moving bar, until the first step is made.
                value={FINAL.has(selected.status) || step > 0 ? step : undefined}
                aria-label="Training progress"
              />
              <span class="phase" data-phase={phase}>
                {phase}
              </span>
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
            <Samples job={selected} events={events} />
            <Charts events={events} />
          </div>
        )}
      </section>
    </div>
  );
}
