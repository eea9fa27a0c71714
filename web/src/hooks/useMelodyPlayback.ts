// Hearing the input as it stands, melody and other tracks (the result's own controls play the composition).
import { useState } from "preact/hooks";
import type { ScoreNotes } from "../api";
import { player } from "../player";
import { showError } from "../state";

export function useMelodyPlayback(score: ScoreNotes) {
  const [playing, setPlaying] = useState(false);

  async function toggle(): Promise<void> {
    if (playing) {
      player.stop();
      setPlaying(false);
      return;
    }
    try {
      await player.load(
        score,
        score.tracks.map((track) => ({ muted: false, solo: false, volumeDb: 0, program: track.program })),
      );
      player.setLoop(false);
      player.onEnd = () => setPlaying(false);
      await player.play(0);
      setPlaying(true);
    } catch (error) {
      showError(error);
    }
  }

  return { playing, setPlaying, toggle };
}

export type MelodyPlayback = ReturnType<typeof useMelodyPlayback>;
