// Generating: the technique and model chosen (among the models' cards, which say their genres), their parameters
// and seed, and the composition they made.
import { useState } from "preact/hooks";
import { type Composition, type ModelCard, type ParamValues, type ScoreNotes, type Technique, get, post } from "../api";
import { defaults } from "../components/ParamForm";
import { withSummaryTracks } from "../music";
import { attempt, clearMessage } from "../state";
import type { Busy } from "./useBusy";

export interface Generated {
  composition: Composition;
  score: ScoreNotes;
  frames: ScoreNotes[];
}

export function useGeneration({
  during,
  ensureSaved,
  onShow,
}: {
  during: Busy["during"];
  ensureSaved: () => Promise<string>;
  onShow: () => void;
}) {
  const [techniques, setTechniques] = useState<Technique[]>([]);
  const [technique, setTechnique] = useState("");
  const [model, setModel] = useState("");
  const [modelCards, setModelCards] = useState<ModelCard[]>([]);
  const [params, setParams] = useState<ParamValues>({});
  const [seed, setSeed] = useState("");
  const [result, setResult] = useState<Generated | null>(null);

  const selectedTechnique = techniques.find((t) => t.name === technique);

  function chooseTechnique(chosen: Technique, preferredModel?: string): void {
    setTechnique(chosen.name);
    setModel(preferredModel && chosen.models.includes(preferredModel) ? preferredModel : (chosen.models[0] ?? ""));
    setParams(defaults(chosen.params_schema));
  }

  async function showComposition(composition: Composition): Promise<void> {
    const notes = await attempt(() => get<ScoreNotes>(`/api/compositions/${composition.id}/notes`));
    if (!notes) return;
    const score = withSummaryTracks(notes, composition.summary);
    const frames =
      Number(composition.info.frames ?? 0) > 0
        ? ((await attempt(() => get<ScoreNotes[]>(`/api/compositions/${composition.id}/frames`))) ?? [])
        : [];
    onShow();
    setResult({ composition, score, frames });
  }

  /** Show a stored composition as the result; returns it, or null when it could not be read. */
  async function openComposition(id: string): Promise<Composition | null> {
    const composition = await attempt(() => get<Composition>(`/api/compositions/${id}`));
    if (!composition) return null;
    await showComposition(composition);
    return composition;
  }

  async function generate(): Promise<void> {
    await during("Generating", async () => {
      const id = await ensureSaved();
      const body = { technique, model, melody_id: id, params, ...(seed.trim() ? { seed: Number(seed) } : {}) };
      const composition = await post<Composition>("/api/compositions", body);
      await showComposition(composition);
      clearMessage();
    });
  }

  return {
    techniques,
    setTechniques,
    selectedTechnique,
    technique,
    chooseTechnique,
    model,
    setModel,
    modelCards,
    setModelCards,
    params,
    setParams,
    seed,
    setSeed,
    result,
    openComposition,
    generate,
  };
}

export type Generation = ReturnType<typeof useGeneration>;
