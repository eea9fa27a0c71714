// Listening to a model's example: what it makes of a sample melody (`GET /api/models/{name}/example`), made on
// the server once per model and played here; a second press, or another model's, stops it.
import { useEffect, useState } from "preact/hooks";
import { type ScoreNotes, get } from "../api";
import { player } from "../player";
import { attempt, showError } from "../state";

export interface Listening {
  name: string;
  state: "loading" | "playing";
}

/** `onStart` is called before an example takes the player (so whatever played there can say it stopped). */
export function useModelExample(onStart?: () => void) {
  const [listening, setListening] = useState<Listening | null>(null);

  useEffect(() => () => player.stop(), []);

  async function listen(name: string): Promise<void> {
    if (listening?.name === name) {
      player.stop();
      setListening(null);
      return;
    }
    setListening({ name, state: "loading" });
    const example = await attempt(() => get<ScoreNotes>(`/api/models/${name}/example`));
    if (!example) {
      setListening(null);
      return;
    }
    try {
      onStart?.();
      await player.load(
        example,
        example.tracks.map((track) => ({ muted: false, solo: false, volumeDb: 0, program: track.program })),
      );
      player.setLoop(false);
      player.onEnd = () => setListening(null);
      await player.play(0);
      setListening({ name, state: "playing" });
    } catch (error) {
      setListening(null);
      showError(error);
    }
  }

  return { listening, listen };
}

export type ModelExample = ReturnType<typeof useModelExample>;
