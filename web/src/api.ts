// Every request to the studio's HTTP API goes through here, so that a failure always becomes one sentence.

export interface Note {
  pitch: number;
  start_ticks: number;
  duration_ticks: number;
  velocity: number;
}

export interface TrackNotes {
  name: string;
  program: number;
  is_drum: boolean;
  role: string;
  notes: Note[];
}

export interface ScoreNotes {
  resolution: number;
  tempo_qpm: number;
  time_signature: [number, number];
  tracks: TrackNotes[];
}

export interface TrackSummary {
  name: string;
  program: number;
  instrument: string;
  is_drum: boolean;
  role: string;
  notes: number;
}

export interface ScoreSummary {
  tempo_qpm: number;
  time_signature: [number, number];
  resolution: number;
  bars: number;
  notes: number;
  duration_seconds: number;
  tracks: TrackSummary[];
}

export interface Melody {
  id: string;
  title: string;
  builtin: boolean;
  source: string;
  parent_id: string | null;
  created_at: string | null;
  summary: ScoreSummary;
}

export interface JsonSchemaProperty {
  title?: string;
  description?: string;
  default?: number | string | boolean;
  type?: "integer" | "number" | "string" | "boolean";
  minimum?: number;
  maximum?: number;
  enum?: (string | number)[];
  "x-unit"?: string;
}

export interface ParamsSchema {
  properties: Record<string, JsonSchemaProperty>;
}

export interface Technique {
  name: string;
  title: string;
  description: string;
  params_schema: ParamsSchema;
  models: string[];
}

export type ParamValues = Record<string, number | string | boolean>;

export interface Composition {
  id: string;
  title: string;
  technique: string;
  model: string;
  params: ParamValues;
  seed: number;
  melody_id: string;
  created_at: string;
  summary: ScoreSummary;
  info: Record<string, number | string>;
  /** What was done: the technique, or the edit's mode (harmonize, inpaint). */
  action: string;
}

/** A file name made from a title, as the server names its downloads ("Twinkle - harmonize, bach-arcnn.mid"). */
export function downloadName(title: string, suffix: string): string {
  const cleaned = title
    .replace(/\s*\(\s*/g, " - ")
    .replace(/[^\p{L}\p{N}\s,._-]/gu, " ")
    .replace(/\s+/g, " ")
    .replace(/^[ .-]+|[ .-]+$/g, "")
    .slice(0, 120);
  return `${cleaned || "composition"}.${suffix}`;
}

export interface ModelCard {
  name: string;
  title: string;
  description: string;
  technique: string;
  architecture: string;
  dataset: string;
  shipped: boolean;
  size_bytes: number;
  bars: number;
  tracks: { name: string; role: string; program: number; is_drum: boolean }[];
  metrics: Record<string, unknown>;
  training: Record<string, unknown>;
  licence: string;
  quality_bars: { name: string; met: boolean; sentence: string }[];
  metric_words: Record<string, string>;
}

export interface Dataset {
  name: string;
  title: string;
  description: string;
  genres: string[];
  licence: string;
  pieces: number | null;
  present: boolean;
  yours: boolean;
}

export interface DatasetAdded {
  dataset: Dataset;
  pieces_read: number;
  files_skipped: string[];
}

export interface Architecture {
  name: string;
  technique: string;
  params_schema: ParamsSchema;
  presets: { name: string; dataset: string; description: string }[];
}

export type JobStatus = "queued" | "running" | "stopping" | "stopped" | "interrupted" | "failed" | "done";

export interface Job {
  id: string;
  architecture: string;
  dataset: string;
  preset: string | null;
  model_name: string;
  hyperparameters: ParamValues;
  status: JobStatus;
  reason: string | null;
  step: number;
  total_steps: number;
  elapsed_seconds: number;
  checkpoint_step: number | null;
  losses: Record<string, number>;
  metrics: Record<string, number>;
  runs: number;
  created_at: string;
}

export interface JobEvent {
  seq: number;
  job_id: string;
  run: number;
  kind: "start" | "step" | "eval" | "checkpoint" | "done" | "failed";
  step: number;
  total_steps: number;
  elapsed_seconds: number;
  data: Record<string, unknown>;
}

export interface Status {
  version: string;
  audio: boolean;
  audio_missing: string | null;
  jobs_running: number;
  jobs_queued: number;
  max_jobs: number;
  limits: Limits;
}

/** The studio's budgets: past one, a request gets a sentence saying which. */
export interface Limits {
  max_generation_seconds: number | null;
  max_composition_seconds: number;
  max_melody_bars: number;
  max_melody_notes: number;
  max_melody_bytes: number;
  max_parse_seconds: number;
}

/** A request that failed: `message` is the sentence to show the user. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const UNREACHABLE =
  "The studio server cannot be reached: check that `opencomposer studio` is still running, then try again.";

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(UNREACHABLE, 0);
  }
  if (!response.ok) {
    let sentence = `The studio answered ${response.status} ${response.statusText} to ${method} ${path}.`;
    try {
      const error = (await response.json()) as { detail?: unknown };
      if (typeof error.detail === "string") sentence = error.detail;
    } catch {
      // Not JSON (a proxy's error page): the status line is all there is to say.
    }
    throw new ApiError(sentence, response.status);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string): Promise<T> => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown): Promise<T> => request<T>("POST", path, body);
export const patch = <T>(path: string, body: unknown): Promise<T> => request<T>("PATCH", path, body);
export const del = (path: string): Promise<void> => request<void>("DELETE", path);

/** A preset as `GET /api/architectures` gives it: every hyperparameter a job started from it runs with. */
export interface PresetPublic {
  name: string;
  dataset: string;
  description: string;
  hyperparameters: ParamValues;
}

/** An architecture as `GET /api/architectures` gives it: `hyperparameters` are the values a job without a preset
 * runs with. */
export interface TrainableArchitecture extends Architecture {
  title: string;
  description: string;
  hyperparameters: ParamValues;
  presets: PresetPublic[];
}

export interface Challenge {
  id: string;
  title: string;
  task: string;
  inputs: string;
  techniques: string[];
  scoring: string;
  /** The models an attempt may name (empty: train one first). */
  models: string[];
  /** The genres an attempt may pick (empty: the challenge takes none). */
  genres: string[];
  /** Parameters the challenge sets itself (not shown in the form). */
  fixed_params: ParamValues;
}

export interface ChallengeAttempt {
  id: string;
  challenge_id: string;
  model: string;
  params: ParamValues;
  seed: number;
  genre: string | null;
  score: number;
  breakdown: Record<string, number | string | boolean | null>;
  composition_ids: string[];
  created_at: string;
}
