// The music studio: a melody in (samples, keyboard, MIDI keyboard, import, piano-roll editing), a technique and
// a model to run on it with their parameters, and the composition out.
import { useEffect, useRef } from "preact/hooks";
import { type Melody, type ModelCard, type Status, type Technique, get } from "../api";
import { Result } from "../components/Result";
import { GeneratePanel } from "../components/studio/GeneratePanel";
import { MelodyPanel } from "../components/studio/MelodyPanel";
import { useBusy } from "../hooks/useBusy";
import { useGeneration } from "../hooks/useGeneration";
import { useMelodyInput } from "../hooks/useMelodyInput";
import { useMelodyPlayback } from "../hooks/useMelodyPlayback";
import { useMidiKeyboard } from "../hooks/useMidiKeyboard";
import { useModelExample } from "../hooks/useModelExample";
import { useRecorder } from "../hooks/useRecorder";
import { attempt } from "../state";

export interface StudioQuery {
  composition?: string;
  technique?: string;
  model?: string;
}

export function Studio({ query, status, onReady }: { query: StudioQuery; status: Status | null; onReady: () => void }) {
  const busy = useBusy();
  const input = useMelodyInput(busy.during);
  const playback = useMelodyPlayback(input.score);
  const example = useModelExample(() => playback.setPlaying(false));
  const recorder = useRecorder({ tempo: input.tempo, onTake: input.takeRecording });
  const midi = useMidiKeyboard({ noteOn: recorder.noteOn, noteOff: recorder.noteOff });
  const generation = useGeneration({
    during: busy.during,
    ensureSaved: input.ensureSaved,
    onShow: () => playback.setPlaying(false),
  });
  // Set once the first melody is in: a later visit (a model chosen elsewhere) keeps the user's melody.
  const started = useRef(false);

  useEffect(() => {
    void (async () => {
      const loaded = await attempt(() =>
        Promise.all([
          get<Melody[]>("/api/melodies"),
          get<Technique[]>("/api/techniques"),
          get<ModelCard[]>("/api/models"),
        ]),
      );
      if (!loaded) return;
      const [melodyList, techniqueList, modelCards] = loaded;
      input.setMelodies(melodyList);
      generation.setTechniques(techniqueList);
      generation.setModelCards(modelCards);
      const chosen = techniqueList.find((t) => t.name === query.technique) ?? techniqueList[0];
      if (chosen) generation.chooseTechnique(chosen, query.model);
      if (query.composition) {
        const composition = await generation.openComposition(query.composition);
        if (composition) await input.loadMelody(composition.melody_id, melodyList);
      } else if (!started.current && melodyList[0]) await input.loadMelody(melodyList[0].id, melodyList);
      started.current = true;
      onReady();
    })();
  }, [query.composition, query.technique, query.model]);

  return (
    <div class="studio">
      <MelodyPanel input={input} recorder={recorder} midi={midi} playback={playback} busy={busy.busy} />
      <GeneratePanel
        generation={generation}
        example={example}
        busy={busy}
        hasNotes={input.notes.length > 0}
        status={status}
      />
      {generation.result && (
        <Result
          composition={generation.result.composition}
          score={generation.result.score}
          frames={generation.result.frames}
          status={status}
          onUseAsInput={(melody) => void input.useAsInput(melody)}
        />
      )}
    </div>
  );
}
