// Under the melody editor: its note count, play, undo and clear, and the server's rhythm assist and transpose.
import { useState } from "preact/hooks";
import type { BusyTask } from "../../hooks/useBusy";
import type { MelodyInput } from "../../hooks/useMelodyInput";
import type { MelodyPlayback } from "../../hooks/useMelodyPlayback";

const GRIDS = ["1/4", "1/8", "1/12", "1/16", "1/24", "1/32"] as const;

export function MelodyTools({
  input,
  playback,
  busy,
}: {
  input: MelodyInput;
  playback: MelodyPlayback;
  busy: BusyTask | null;
}) {
  const [grid, setGrid] = useState<(typeof GRIDS)[number]>("1/16");
  const [semitones, setSemitones] = useState(1);
  const { notes, otherTracks } = input;
  return (
    <div class="row">
      <span class="melody-count">
        {notes.length} notes
        {otherTracks.length > 0 &&
          ` in the melody, with ${otherTracks.map((t) => `${t.name || "a track"} (${t.notes.length})`).join(", ")}`}
      </span>
      <button type="button" onClick={() => void playback.toggle()} disabled={!notes.length && !playback.playing}>
        {playback.playing ? "Stop melody" : "Play melody"}
      </button>
      <button type="button" onClick={input.undo} disabled={!input.history.length}>
        Undo
      </button>
      <button type="button" onClick={() => input.edit([])} disabled={!notes.length}>
        Clear
      </button>
      <label>
        Rhythm assist grid{" "}
        <select
          value={grid}
          onChange={(e) => setGrid((e.currentTarget as HTMLSelectElement).value as (typeof GRIDS)[number])}
        >
          {GRIDS.map((g) => (
            <option key={g}>{g}</option>
          ))}
        </select>
      </label>
      <button
        type="button"
        disabled={!!busy || !notes.length}
        onClick={() =>
          void input.operate("Rhythm assist", (id) => `/api/melodies/${id}/quantize`, { grid, strength: 1 })
        }
      >
        Rhythm assist
      </button>
      <label>
        Semitones{" "}
        <input
          type="number"
          min={-24}
          max={24}
          value={semitones}
          aria-label="Semitones"
          onInput={(e) => setSemitones(Number((e.currentTarget as HTMLInputElement).value))}
        />
      </label>
      <button
        type="button"
        disabled={!!busy || !notes.length || !semitones}
        onClick={() => void input.operate("Transposing", (id) => `/api/melodies/${id}/transpose`, { semitones })}
      >
        Transpose
      </button>
    </div>
  );
}
