// Challenges: each one's task, inputs and scoring rule, a form for an attempt (model, settings, seed), the score
// the server computed with its breakdown, and the local leaderboard, best first, whose compositions open in the
// studio.
import { useEffect, useState } from "preact/hooks";
import { type Challenge, type ChallengeAttempt, type ParamValues, type Technique, get, post } from "../api";
import { ParamForm, defaults } from "../components/ParamForm";
import { attempt as run } from "../state";

function value(figure: number | string | boolean | null): string {
  if (typeof figure === "number") return Number.isInteger(figure) ? String(figure) : figure.toFixed(3);
  return figure === null ? "—" : String(figure);
}

function Breakdown({ result }: { result: ChallengeAttempt }) {
  return (
    <dl class="breakdown" aria-label="Score breakdown">
      {Object.entries(result.breakdown).map(([name, figure]) => (
        <div key={name}>
          <dt>{name.replace(/_/g, " ")}</dt>
          <dd>{value(figure)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Leaderboard(props: { attempts: ChallengeAttempt[]; onOpen: (compositionId: string) => void }) {
  if (!props.attempts.length) return <p>No attempts yet: yours will be listed here, best first.</p>;
  return (
    <table class="leaderboard" aria-label="Leaderboard">
      <thead>
        <tr>
          <th>#</th>
          <th>Score</th>
          <th>Model</th>
          <th>Seed</th>
          <th>Compositions</th>
        </tr>
      </thead>
      <tbody>
        {props.attempts.map((entry, index) => (
          <tr key={entry.id} data-attempt={entry.id}>
            <td>{index + 1}</td>
            <td>{entry.score.toFixed(1)}</td>
            <td>
              {entry.model}
              {entry.genre ? ` (${entry.genre})` : ""}
            </td>
            <td>{entry.seed}</td>
            <td>
              {entry.composition_ids.map((id, n) => (
                <button key={id} type="button" class="link" onClick={() => props.onOpen(id)}>
                  open {n + 1}
                </button>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ChallengePanel(props: { challenge: Challenge; techniques: Technique[]; onOpen: (id: string) => void }) {
  const { challenge, techniques } = props;
  const [model, setModel] = useState(challenge.models[0] ?? "");
  const technique = techniques.find((t) => t.models.includes(model));
  const [params, setParams] = useState<ParamValues>({});
  const [seed, setSeed] = useState(0);
  const [genre, setGenre] = useState(challenge.genres[0] ?? "");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ChallengeAttempt | null>(null);
  const [board, setBoard] = useState<ChallengeAttempt[]>([]);
  const prefix = `challenge-${challenge.id}`;
  const shown = technique && {
    properties: Object.fromEntries(
      Object.entries(technique.params_schema.properties).filter(([name]) => !(name in challenge.fixed_params)),
    ),
  };

  const refresh = () =>
    void run(() => get<ChallengeAttempt[]>(`/api/challenges/${challenge.id}/attempts`)).then(
      (rows) => rows && setBoard(rows),
    );
  useEffect(refresh, [challenge.id]);
  useEffect(() => {
    if (shown) setParams(defaults(shown));
  }, [model, technique?.name]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const body = { model, params, seed, ...(challenge.genres.length ? { genre } : {}) };
    const made = await run(() => post<ChallengeAttempt>(`/api/challenges/${challenge.id}/attempts`, body));
    setBusy(false);
    if (made) {
      setResult(made);
      refresh();
    }
  };

  return (
    <section class="challenge" aria-labelledby={`${prefix}-title`} data-challenge={challenge.id}>
      <h2 id={`${prefix}-title`}>{challenge.title}</h2>
      <p>{challenge.task}</p>
      <p>
        <strong>Inputs:</strong> {challenge.inputs}
      </p>
      <p>
        <strong>Scoring:</strong> {challenge.scoring}
      </p>
      {challenge.models.length ? (
        <form onSubmit={submit}>
          <label for={`${prefix}-model`}>Model</label>
          <select id={`${prefix}-model`} value={model} onChange={(e) => setModel(e.currentTarget.value)}>
            {challenge.models.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          {challenge.genres.length > 0 && (
            <>
              <label for={`${prefix}-genre`}>Genre</label>
              <select id={`${prefix}-genre`} value={genre} onChange={(e) => setGenre(e.currentTarget.value)}>
                {challenge.genres.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </>
          )}
          <label for={`${prefix}-seed`}>Seed</label>
          <input
            id={`${prefix}-seed`}
            type="number"
            min={0}
            value={seed}
            onChange={(e) => setSeed(Number(e.currentTarget.value))}
          />
          {shown && <ParamForm prefix={prefix} schema={shown} values={params} onChange={setParams} />}
          <button type="submit" disabled={busy}>
            {busy ? "Scoring…" : "Submit"}
          </button>
        </form>
      ) : (
        <p>You have no model for this challenge yet: train one on the Training page first.</p>
      )}
      {result && (
        <div class="result" role="status">
          <p>
            Score: <strong data-score>{result.score.toFixed(1)}</strong> of 100
          </p>
          <Breakdown result={result} />
        </div>
      )}
      <h3>Leaderboard</h3>
      <Leaderboard attempts={board} onOpen={props.onOpen} />
    </section>
  );
}

export function Challenges(props: { onOpen: (compositionId: string) => void; onReady: () => void }) {
  const [challenges, setChallenges] = useState<Challenge[] | null>(null);
  const [techniques, setTechniques] = useState<Technique[]>([]);
  useEffect(() => {
    void run(() => Promise.all([get<Challenge[]>("/api/challenges"), get<Technique[]>("/api/techniques")])).then(
      (loaded) => {
        if (!loaded) return;
        setTechniques(loaded[1]);
        setChallenges(loaded[0]);
        props.onReady();
      },
    );
  }, []);
  if (!challenges) return <p>Loading the challenges…</p>;
  return (
    <div class="challenges">
      <p>
        Local Chartbusters: each challenge scores your attempt on this machine, from the project's own metrics. Every
        attempt is saved with its compositions and can be made again from its model, settings and seed.
      </p>
      {challenges.map((challenge) => (
        <ChallengePanel key={challenge.id} challenge={challenge} techniques={techniques} onOpen={props.onOpen} />
      ))}
    </div>
  );
}
