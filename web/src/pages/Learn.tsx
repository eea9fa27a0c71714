// Learn: a lesson per technique (GAN, AR-CNN, Transformer) and one on judging music, each a few steps whose
// pictures come from the shipped models (GET /api/lessons declares the words, the steps and the quizzes), then a
// quiz; the lessons done are remembered in this browser.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import {
  type Composition,
  type Melody,
  type ModelCard,
  type ScoreNotes,
  type TrainingProgress,
  get,
  post,
} from "../api";
import { LineChart } from "../components/LineChart";
import { PianoRoll } from "../components/PianoRoll";
import { player } from "../player";
import { attempt } from "../state";

interface Step {
  title: string;
  text: string;
  widget: string;
}

interface Question {
  question: string;
  choices: string[];
  answer: number;
  explanation: string;
}

interface Lesson {
  name: string;
  title: string;
  summary: string;
  technique: string;
  model: string;
  steps: Step[];
  quiz: Question[];
}

interface TokenProbability {
  token_id: number;
  name: string;
  probability: number | null;
}

interface NextTokens {
  step: number;
  kept: number;
  actual: TokenProbability | null;
  model: TokenProbability[];
  sampled: TokenProbability[];
}

interface MetricExamples {
  metric: string;
  words: string;
  high: { title: string; value: number; notes: ScoreNotes };
  low: { title: string; value: number; notes: ScoreNotes };
}

const DONE_KEY = "opencomposer.lessons.done";
const FRAME_MS = 150;
const ROLL_HEIGHT_PX = 150;

function readDone(): string[] {
  try {
    const value: unknown = JSON.parse(window.localStorage.getItem(DONE_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((name): name is string => typeof name === "string") : [];
  } catch {
    return [];
  }
}

/** A composition made for a lesson: its notes and (for the AR-CNN) the frames it went through. */
interface Made {
  composition: Composition;
  notes: ScoreNotes;
  frames: ScoreNotes[];
}

async function compose(lesson: Lesson, melodyId: string, params: Record<string, number>, seed: number): Promise<Made> {
  const composition = await post<Composition>("/api/compositions", {
    technique: lesson.technique,
    model: lesson.model,
    melody_id: melodyId,
    params,
    seed,
  });
  const [notes, frames] = await Promise.all([
    get<ScoreNotes>(`/api/compositions/${composition.id}/notes`),
    get<ScoreNotes[]>(`/api/compositions/${composition.id}/frames`),
  ]);
  return { composition, notes, frames };
}

/** What a widget shows while it waits, then its content, marked ready for tests and screen readers. */
function Live({ ready, children }: { ready: boolean; children: ComponentChildren }) {
  return (
    <div class="widget" data-ready={ready ? "true" : "false"} aria-busy={!ready}>
      {ready ? children : <p class="hint">The model is working…</p>}
    </div>
  );
}

/** A score on a piano roll with a button that plays it. */
function Roll({ score, label }: { score: ScoreNotes; label: string }) {
  const play = async () => {
    await player.unlock();
    await player.load(
      score,
      score.tracks.map((track) => ({ muted: false, solo: false, volumeDb: 0, program: track.program })),
    );
    await player.play();
  };
  return (
    <figure class="lesson-roll">
      <PianoRoll score={score} label={label} heightPx={ROLL_HEIGHT_PX} />
      <figcaption>
        <button type="button" onClick={() => void play()} aria-label={`Play ${label}`}>
          ▶ Play
        </button>{" "}
        {label}
      </figcaption>
    </figure>
  );
}

/** The accompaniment's notes (every track but the melody), each as one string, to count what two versions share. */
const noteKeys = (score: ScoreNotes) =>
  new Set(
    score.tracks.flatMap((track, index) =>
      track.role === "melody"
        ? []
        : track.notes.map((note) => `${index}:${note.pitch}:${note.start_ticks}:${note.duration_ticks}`),
    ),
  );

function differing(a: ScoreNotes, b: ScoreNotes): number {
  const [first, second] = [noteKeys(a), noteKeys(b)];
  return [...first].filter((key) => !second.has(key)).length + [...second].filter((key) => !first.has(key)).length;
}

const accompanimentNotes = (score: ScoreNotes) =>
  score.tracks.filter((track) => track.role !== "melody").reduce((sum, track) => sum + track.notes.length, 0);

/** Two real generations side by side, the same melody with one setting changed. */
function Compare({
  lesson,
  melodyId,
  variants,
}: {
  lesson: Lesson;
  melodyId: string;
  variants: { label: string; params: Record<string, number>; seed: number }[];
}) {
  const [made, setMade] = useState<Made[] | null>(null);
  useEffect(() => {
    setMade(null);
    void attempt(() => Promise.all(variants.map((v) => compose(lesson, melodyId, v.params, v.seed)))).then(
      (value) => value && setMade(value),
    );
  }, [lesson.name, melodyId, JSON.stringify(variants)]);
  return (
    <Live ready={made !== null}>
      <div class="side-by-side">
        {made?.map((m, index) => (
          <div key={variants[index].label}>
            <Roll score={m.notes} label={variants[index].label} />
            <p class="hint">{accompanimentNotes(m.notes)} notes besides the melody.</p>
          </div>
        ))}
      </div>
      {made?.length === 2 && (
        <p class="difference">{differing(made[0].notes, made[1].notes)} accompaniment notes differ between the two.</p>
      )}
    </Live>
  );
}

function Diagram({ boxes }: { boxes: string[] }) {
  return (
    <div class="widget diagram" data-ready="true" role="img" aria-label={boxes.join(", then ")}>
      {boxes.map((box, index) => (
        <span key={box}>
          {index > 0 && <span class="arrow"> → </span>}
          <span class="box">{box}</span>
        </span>
      ))}
    </div>
  );
}

/** The model's card: what its real training run recorded. */
function TrainingRun({ model }: { model: string }) {
  const [card, setCard] = useState<ModelCard | null>(null);
  useEffect(() => {
    void attempt(() => get<ModelCard>(`/api/models/${model}`)).then((value) => value && setCard(value));
  }, [model]);
  const training = (card?.training ?? {}) as { steps?: number; wall_seconds?: number; hardware?: string };
  const heldOut = (card?.metrics.held_out ?? {}) as {
    model?: Record<string, number>;
    dataset_values?: Record<string, number>;
    pieces?: number;
  };
  const rows = Object.entries(heldOut.model ?? {}).filter(
    ([name]) => typeof heldOut.dataset_values?.[name] === "number",
  );
  return (
    <Live ready={card !== null}>
      <p>
        {card?.name}: {training.steps} training steps in {Math.round((training.wall_seconds ?? 0) / 60)} minutes on{" "}
        {training.hardware}.
      </p>
      <table class="run-figures">
        <caption>Its music against the real music, on {heldOut.pieces} pieces it never saw</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">The model</th>
            <th scope="col">Real music</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, value]) => (
            <tr key={name} title={card?.metric_words[name]}>
              <th scope="row">{name.replace(/_/g, " ")}</th>
              <td>{value.toFixed(2)}</td>
              <td>{(heldOut.dataset_values?.[name] ?? 0).toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Live>
  );
}

/** The metrics the GAN lesson charts over its model's real run, each with the data's own value. */
const PROGRESS_METRICS: [string, string][] = [
  ["in_scale_ratio", "In key (in-scale ratio)"],
  ["tonal_distance", "Away from the melody's harmony (tonal distance)"],
  ["empty_bar_rate/Chords", "Silent bars of the accompaniment"],
  ["polyphony", "Notes at once (polyphony)"],
];

/** The GAN's real training run: the generator early, midway and at the end on the melody, and the run's charts. */
function Progress({ model, melodyId }: { model: string; melodyId: string }) {
  const [progress, setProgress] = useState<TrainingProgress | null>(null);
  useEffect(() => {
    setProgress(null);
    const query = new URLSearchParams({ melody_id: melodyId, model });
    void attempt(() => get<TrainingProgress>(`/api/lessons/gan/progress?${query}`)).then(
      (value) => value && setProgress(value),
    );
  }, [model, melodyId]);
  const evaluations = (progress?.evaluations ?? []) as {
    step: number;
    metrics: Record<string, number | null>;
    reference: Record<string, number | null>;
  }[];
  return (
    <Live ready={progress !== null}>
      <div class="side-by-side">
        {progress?.checkpoints.map((kept) => (
          <Roll
            key={kept.label}
            score={kept.notes}
            label={`${kept.label}: step ${kept.step} of ${progress.total_steps}`}
          />
        ))}
      </div>
      <div class="charts">
        {PROGRESS_METRICS.map(([key, title]) => {
          const points = evaluations
            .filter((evaluation) => typeof evaluation.metrics[key] === "number")
            .map((evaluation) => [evaluation.step, evaluation.metrics[key] as number] as [number, number]);
          const reference = evaluations.at(-1)?.reference[key];
          return (
            points.length > 0 && (
              <LineChart
                key={key}
                title={title}
                series={[
                  {
                    label: "the model (dashed: the real music)",
                    points,
                    reference: typeof reference === "number" ? reference : undefined,
                  },
                ]}
              />
            )
          );
        })}
      </div>
      <p class="hint">The run: {progress?.command}</p>
    </Live>
  );
}

/** The AR-CNN's real run on the melody, replayed one Gibbs step at a time. */
function Replay({ lesson, melodyId }: { lesson: Lesson; melodyId: string }) {
  const [made, setMade] = useState<Made | null>(null);
  const [frame, setFrame] = useState(0);
  const [running, setRunning] = useState(false);
  useEffect(() => {
    setMade(null);
    void attempt(() => compose(lesson, melodyId, {}, 0)).then((value) => {
      if (!value) return;
      setMade(value);
      setFrame(0);
    });
  }, [lesson.name, melodyId]);
  useEffect(() => {
    if (!running || !made) return;
    if (frame + 1 >= made.frames.length) {
      setRunning(false);
      return;
    }
    const timer = window.setTimeout(() => setFrame(frame + 1), FRAME_MS);
    return () => window.clearTimeout(timer);
  }, [running, frame, made]);
  const frames = made?.frames ?? [];
  return (
    <Live ready={made !== null}>
      {frames.length > 0 && (
        <>
          <PianoRoll score={frames[frame]} label={`Gibbs step ${frame + 1}`} heightPx={ROLL_HEIGHT_PX} />
          <div class="row">
            <button type="button" onClick={() => setRunning(!running)}>
              {running ? "Pause" : "Watch it"}
            </button>
            <label>
              Step{" "}
              <input
                type="range"
                min={0}
                max={frames.length - 1}
                value={frame}
                onInput={(e) => setFrame(Number(e.currentTarget.value))}
              />
            </label>
            <span class="frame-label">
              step {frame + 1} of {frames.length}
            </span>
          </div>
        </>
      )}
    </Live>
  );
}

function Tokens({ melodyId, model }: { melodyId: string; model: string }) {
  const [tokens, setTokens] = useState<TokenProbability[] | null>(null);
  useEffect(() => {
    void attempt(() =>
      get<{ tokens: TokenProbability[] }>(`/api/lessons/transformer/tokens?melody_id=${melodyId}&model=${model}`),
    ).then((value) => value && setTokens(value.tokens));
  }, [melodyId, model]);
  return (
    <Live ready={tokens !== null}>
      <p>{tokens?.length} tokens.</p>
      <ol class="tokens" aria-label="The melody's tokens">
        {tokens?.map((token, index) => (
          <li key={index} class={token.name.split("_")[0].toLowerCase()}>
            {token.name}
          </li>
        ))}
      </ol>
    </Live>
  );
}

function Ranking({ title, tokens }: { title: string; tokens: TokenProbability[] }) {
  return (
    <table class="ranking">
      <caption>{title}</caption>
      <tbody>
        {tokens.map((token) => (
          <tr key={token.token_id}>
            <th scope="row">{token.name}</th>
            <td>
              <span class="bar" style={{ width: `${Math.round((token.probability ?? 0) * 100)}px` }} />
              {((token.probability ?? 0) * 100).toFixed(1)}%
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The next-token probabilities at a step; with `filters`, the sampling settings that change them. */
function NextToken({ melodyId, model, filters }: { melodyId: string; model: string; filters: boolean }) {
  const [step, setStep] = useState(5);
  const [total, setTotal] = useState<number | null>(null);
  const [sampling, setSampling] = useState(filters ? "top-k" : "temperature");
  const [topK, setTopK] = useState(3);
  const [topP, setTopP] = useState(0.9);
  const [temperature, setTemperature] = useState(1);
  const [next, setNext] = useState<NextTokens | null>(null);
  useEffect(() => {
    void get<{ tokens: TokenProbability[] }>(
      `/api/lessons/transformer/tokens?melody_id=${melodyId}&model=${model}`,
    ).then(
      (value) => setTotal(value.tokens.length),
      () => undefined,
    );
  }, [melodyId, model]);
  useEffect(() => {
    const query = new URLSearchParams({
      melody_id: melodyId,
      model,
      step: String(step),
      sampling,
      top_k: String(topK),
      top_p: String(topP),
      temperature: String(temperature),
    });
    void attempt(() => get<NextTokens>(`/api/lessons/transformer/next?${query}`)).then(
      (value) => value && setNext(value),
    );
  }, [melodyId, model, step, sampling, topK, topP, temperature]);
  return (
    <Live ready={next !== null}>
      <div class="row">
        <label>
          Step{" "}
          <input
            type="number"
            min={0}
            max={total ?? undefined}
            value={step}
            onInput={(e) => setStep(Number(e.currentTarget.value))}
          />
        </label>
        {filters && (
          <>
            <label>
              Sampling{" "}
              <select value={sampling} onChange={(e) => setSampling(e.currentTarget.value)}>
                <option value="top-k">top-k</option>
                <option value="nucleus">nucleus</option>
                <option value="temperature">temperature only</option>
              </select>
            </label>
            <label>
              k{" "}
              <input
                type="number"
                min={1}
                max={256}
                value={topK}
                onInput={(e) => setTopK(Number(e.currentTarget.value))}
              />
            </label>
            <label>
              p{" "}
              <input
                type="number"
                min={0.05}
                max={1}
                step={0.05}
                value={topP}
                onInput={(e) => setTopP(Number(e.currentTarget.value))}
              />
            </label>
            <label>
              Temperature{" "}
              <input
                type="number"
                min={0.1}
                max={3}
                step={0.1}
                value={temperature}
                onInput={(e) => setTemperature(Number(e.currentTarget.value))}
              />
            </label>
          </>
        )}
      </div>
      {next && (
        <>
          <p class="actual">
            {next.actual
              ? `Your melody has ${next.actual.name} here; the model gave it ${((next.actual.probability ?? 0) * 100).toFixed(1)}%.`
              : "This is past the end of your melody: what would come next."}
          </p>
          <div class="side-by-side">
            <Ranking title="The model's ten likeliest" tokens={next.model} />
            {filters && (
              <Ranking title={`What generation draws from (${next.kept} tokens left)`} tokens={next.sampled} />
            )}
          </div>
        </>
      )}
    </Live>
  );
}

function Judging({ examples }: { examples: boolean }) {
  const [items, setItems] = useState<MetricExamples[] | null>(null);
  useEffect(() => {
    void attempt(() => get<MetricExamples[]>("/api/lessons/judging/examples")).then(
      (value) => value && setItems(value),
    );
  }, []);
  return (
    <Live ready={items !== null}>
      {!examples && (
        <dl class="metric-words">
          {items?.map((item) => (
            <div key={item.metric}>
              <dt>{item.metric.replace(/_/g, " ")}</dt>
              <dd>{item.words}</dd>
            </div>
          ))}
        </dl>
      )}
      {examples &&
        items?.map((item) => (
          <section key={item.metric} class="metric-examples" data-metric={item.metric}>
            <h4>{item.metric.replace(/_/g, " ")}</h4>
            <p class="hint">{item.words}</p>
            <div class="side-by-side">
              <Roll score={item.high.notes} label={`High ${item.high.value.toFixed(2)}: ${item.high.title}`} />
              <Roll score={item.low.notes} label={`Low ${item.low.value.toFixed(2)}: ${item.low.title}`} />
            </div>
          </section>
        ))}
    </Live>
  );
}

function Widget({ lesson, step, melodyId }: { lesson: Lesson; step: Step; melodyId: string }) {
  switch (step.widget) {
    case "gan-diagram":
      return <Diagram boxes={["melody + noise", "generator (U-Net)", "accompaniment", "critic: real or made?"]} />;
    case "gan-sample":
      return (
        <Compare
          lesson={lesson}
          melodyId={melodyId}
          variants={[{ label: "threshold 0.5, seed 0", params: {}, seed: 0 }]}
        />
      );
    case "gan-run":
      return <TrainingRun model={lesson.model} />;
    case "gan-progress":
      return <Progress model={lesson.model} melodyId={melodyId} />;
    case "gan-threshold":
      return (
        <Compare
          lesson={lesson}
          melodyId={melodyId}
          variants={[
            { label: "threshold 0.3, seed 0", params: { threshold: 0.3 }, seed: 0 },
            { label: "threshold 0.7, seed 0", params: { threshold: 0.7 }, seed: 0 },
          ]}
        />
      );
    case "gan-seeds":
      return (
        <Compare
          lesson={lesson}
          melodyId={melodyId}
          variants={[
            { label: "seed 1", params: {}, seed: 1 },
            { label: "seed 2", params: {}, seed: 2 },
          ]}
        />
      );
    case "arcnn-diagram":
      return <Diagram boxes={["a Bach chorale", "hide random notes", "the network guesses them", "compare, learn"]} />;
    case "arcnn-replay":
      return <Replay lesson={lesson} melodyId={melodyId} />;
    case "arcnn-risk":
      return (
        <Compare
          lesson={lesson}
          melodyId={melodyId}
          variants={[
            { label: "creative risk 0.3", params: { creative_risk: 0.3 }, seed: 0 },
            { label: "creative risk 1.5", params: { creative_risk: 1.5 }, seed: 0 },
          ]}
        />
      );
    case "arcnn-iterations":
      return (
        <Compare
          lesson={lesson}
          melodyId={melodyId}
          variants={[
            { label: "5 iterations", params: { iterations: 5 }, seed: 0 },
            { label: "100 iterations", params: { iterations: 100 }, seed: 0 },
          ]}
        />
      );
    case "transformer-tokens":
      return <Tokens melodyId={melodyId} model={lesson.model} />;
    case "transformer-next":
      return <NextToken melodyId={melodyId} model={lesson.model} filters={false} />;
    case "transformer-filter":
      return <NextToken melodyId={melodyId} model={lesson.model} filters={true} />;
    case "judging-words":
      return <Judging examples={false} />;
    case "judging-examples":
      return <Judging examples={true} />;
    default:
      return null;
  }
}

function Quiz({ lesson, onDone }: { lesson: Lesson; onDone: () => void }) {
  const [answers, setAnswers] = useState<(number | null)[]>(lesson.quiz.map(() => null));
  const [checked, setChecked] = useState(false);
  const right = lesson.quiz.filter((q, index) => answers[index] === q.answer).length;
  return (
    <form
      class="quiz"
      onSubmit={(e) => {
        e.preventDefault();
        setChecked(true);
        if (right === lesson.quiz.length) onDone();
      }}
    >
      <h3>Quiz</h3>
      {lesson.quiz.map((question, index) => (
        <fieldset key={question.question} class="question">
          <legend>{question.question}</legend>
          {question.choices.map((choice, choiceIndex) => (
            <label key={choice}>
              <input
                type="radio"
                name={`q${index}`}
                checked={answers[index] === choiceIndex}
                onChange={() => {
                  setAnswers(answers.map((a, i) => (i === index ? choiceIndex : a)));
                  setChecked(false);
                }}
              />{" "}
              {choice}
            </label>
          ))}
          {checked && (
            <p class={`feedback ${answers[index] === question.answer ? "right" : "wrong"}`} role="status">
              {answers[index] === question.answer ? "Right. " : "Not quite. "}
              {question.explanation}
            </p>
          )}
        </fieldset>
      ))}
      <button type="submit" disabled={answers.includes(null)}>
        Check answers
      </button>
      {checked && (
        <p class="score" role="status">
          {right} of {lesson.quiz.length} right
          {right === lesson.quiz.length ? ": lesson done." : ": change the wrong ones and check again."}
        </p>
      )}
    </form>
  );
}

export function Learn({ onReady }: { onReady: () => void }) {
  const [lessons, setLessons] = useState<Lesson[]>([]);
  const [melodies, setMelodies] = useState<Melody[]>([]);
  const [melodyId, setMelodyId] = useState("twinkle");
  const [open, setOpen] = useState<Lesson | null>(null);
  const [stepIndex, setStepIndex] = useState(0);
  const [done, setDone] = useState<string[]>(readDone);

  useEffect(() => {
    void attempt(() => Promise.all([get<Lesson[]>("/api/lessons"), get<Melody[]>("/api/melodies")])).then((value) => {
      if (value) {
        setLessons(value[0]);
        setMelodies(value[1]);
      }
      onReady();
    });
  }, []);

  const finish = (name: string) => {
    const next = done.includes(name) ? done : [...done, name];
    window.localStorage.setItem(DONE_KEY, JSON.stringify(next));
    setDone(next);
  };

  if (!open) {
    return (
      <section aria-labelledby="learn-title">
        <h2 id="learn-title">Learn</h2>
        <p>Each lesson runs on the shipped models, with the melody you pick here.</p>
        <p>
          <label>
            Melody{" "}
            <select value={melodyId} onChange={(e) => setMelodyId(e.currentTarget.value)}>
              {melodies.map((melody) => (
                <option key={melody.id} value={melody.id}>
                  {melody.title}
                </option>
              ))}
            </select>
          </label>
        </p>
        <div class="cards">
          {lessons.map((lesson) => (
            <article key={lesson.name} class="card lesson-card" data-lesson={lesson.name}>
              <h3>
                {lesson.title} {done.includes(lesson.name) && <span class="done-mark">✓ done</span>}
              </h3>
              <p>{lesson.summary}</p>
              <button
                type="button"
                onClick={() => {
                  setOpen(lesson);
                  setStepIndex(0);
                }}
              >
                {done.includes(lesson.name) ? "Again" : "Start"}
              </button>
            </article>
          ))}
        </div>
      </section>
    );
  }

  const step = open.steps[stepIndex] as Step | undefined;
  return (
    <section class="lesson" data-lesson={open.name} aria-labelledby="lesson-title">
      <h2 id="lesson-title">{open.title}</h2>
      {step ? (
        <>
          <p class="hint">
            Step {stepIndex + 1} of {open.steps.length}
          </p>
          <h3>{step.title}</h3>
          <p>{step.text}</p>
          <Widget key={`${open.name}-${stepIndex}`} lesson={open} step={step} melodyId={melodyId} />
        </>
      ) : (
        <Quiz lesson={open} onDone={() => finish(open.name)} />
      )}
      <div class="row lesson-nav">
        <button type="button" disabled={stepIndex === 0} onClick={() => setStepIndex(stepIndex - 1)}>
          Back
        </button>
        {step && (
          <button type="button" onClick={() => setStepIndex(stepIndex + 1)}>
            {stepIndex + 1 === open.steps.length ? "To the quiz" : "Next"}
          </button>
        )}
        <button type="button" onClick={() => setOpen(null)}>
          All lessons
        </button>
      </div>
    </section>
  );
}
