// The studio's first panel, the melody in: where it comes from, the recorder, the keyboard, the editor and tools.
import { useState } from "preact/hooks";
import type { BusyTask } from "../../hooks/useBusy";
import type { MelodyInput } from "../../hooks/useMelodyInput";
import type { MelodyPlayback } from "../../hooks/useMelodyPlayback";
import type { MidiKeyboard } from "../../hooks/useMidiKeyboard";
import type { Recorder } from "../../hooks/useRecorder";
import { RESOLUTION, ticksPerBar } from "../../music";
import { Keyboard } from "../Keyboard";
import { KEY_HELP, PianoRoll } from "../PianoRoll";
import { MelodySource } from "./MelodySource";
import { MelodyTools } from "./MelodyTools";
import { RecorderControls } from "./RecorderControls";

export function MelodyPanel({
  input,
  recorder,
  midi,
  playback,
  busy,
}: {
  input: MelodyInput;
  recorder: Recorder;
  midi: MidiKeyboard;
  playback: MelodyPlayback;
  busy: BusyTask | null;
}) {
  const [base, setBase] = useState(48);
  const { score } = input;
  const editorBars = Math.max(
    recorder.bars,
    Math.ceil(
      Math.max(0, ...score.tracks.flatMap((t) => t.notes.map((n) => n.start_ticks + n.duration_ticks))) /
        ticksPerBar(score),
    ),
  );
  return (
    <section class="panel" aria-labelledby="input-title">
      <h2 id="input-title">1. Your melody</h2>
      <MelodySource input={input} />
      <RecorderControls input={input} recorder={recorder} midi={midi} />
      <Keyboard
        base={base}
        active={recorder.active}
        onBase={setBase}
        onNoteOn={recorder.noteOn}
        onNoteOff={recorder.noteOff}
      />
      <PianoRoll
        score={score}
        label="Melody editor"
        bars={editorBars}
        followPlayer={playback.playing}
        liveNotes={recorder.liveNotes}
        playheadTicks={recorder.playheadTicks}
        editTrack={0}
        onEdit={input.edit}
        onUndo={input.undo}
        gridTicks={RESOLUTION / 4}
        heightPx={200}
      />
      <MelodyTools input={input} playback={playback} busy={busy} />
      <p class="help">
        Click the roll to add a note, drag it to move, drag its right edge to resize, right-click or double-click to
        delete. {KEY_HELP}
      </p>
    </section>
  );
}
