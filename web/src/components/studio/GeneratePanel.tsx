// The studio's second panel: a technique and a model (by genre), their parameters and seed, generate, and the time
// budget.
import type { Status } from "../../api";
import type { Busy } from "../../hooks/useBusy";
import type { Generation } from "../../hooks/useGeneration";
import type { ModelExample } from "../../hooks/useModelExample";
import { ParamForm } from "../ParamForm";
import { ModelGenreLine, ModelPicker } from "./ModelPicker";

export function GeneratePanel({
  generation,
  example,
  busy,
  hasNotes,
  status,
}: {
  generation: Generation;
  example: ModelExample;
  busy: Busy;
  hasNotes: boolean;
  status: Status | null;
}) {
  const { techniques, selectedTechnique } = generation;
  const task = busy.busy;
  return (
    <section class="panel" aria-labelledby="generate-title">
      <h2 id="generate-title">2. Generate</h2>
      <div class="row">
        <label>
          Technique{" "}
          <select
            aria-label="Technique"
            value={generation.technique}
            onChange={(e) => {
              const chosen = techniques.find((t) => t.name === (e.currentTarget as HTMLSelectElement).value);
              if (chosen) generation.chooseTechnique(chosen);
            }}
          >
            {techniques.map((t) => (
              <option key={t.name} value={t.name}>
                {t.title}
              </option>
            ))}
          </select>
        </label>
        <ModelPicker
          names={selectedTechnique?.models ?? []}
          cards={generation.modelCards}
          value={generation.model}
          onChange={generation.setModel}
          example={example}
        />
        <label>
          Seed{" "}
          <input
            type="number"
            min={0}
            placeholder="random"
            value={generation.seed}
            aria-label="Seed"
            onInput={(e) => generation.setSeed((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button
          type="button"
          class="primary"
          disabled={!!task || !generation.model || !hasNotes}
          onClick={() => void generation.generate()}
        >
          Generate
        </button>
        {task && (
          <span class="progress" role="status">
            <progress aria-label={task.what} /> {task.what}… {(busy.elapsedMs / 1000).toFixed(1)} s
            {status?.limits.max_generation_seconds ? ` of at most ${status.limits.max_generation_seconds} s` : ""}
          </span>
        )}
      </div>
      <ModelGenreLine cards={generation.modelCards} value={generation.model} />
      {status && (
        <p class="help budget">
          Each generation may take up to{" "}
          {status.limits.max_generation_seconds ? `${status.limits.max_generation_seconds} s` : "any time"} and make up
          to {Math.round(status.limits.max_composition_seconds / 60)} minutes of music; melodies take up to{" "}
          {status.limits.max_melody_bars} bars.
        </p>
      )}
      {selectedTechnique && <p class="help">{selectedTechnique.description}</p>}
      {selectedTechnique && !selectedTechnique.models.length && (
        <p class="help">No model is installed for this technique yet: train one on the Training page.</p>
      )}
      {selectedTechnique && (
        <ParamForm
          prefix="param"
          schema={selectedTechnique.params_schema}
          values={generation.params}
          onChange={generation.setParams}
        />
      )}
    </section>
  );
}
