// The recorder's controls: tempo, bars, metronome and count-in, record and stop, and the MIDI keyboard.
import type { MelodyInput } from "../../hooks/useMelodyInput";
import type { MidiKeyboard } from "../../hooks/useMidiKeyboard";
import { MAX_BARS, type Recorder } from "../../hooks/useRecorder";

export function RecorderControls({
  input,
  recorder,
  midi,
}: {
  input: MelodyInput;
  recorder: Recorder;
  midi: MidiKeyboard;
}) {
  return (
    <div class="row">
      <label>
        Tempo (quarter notes per minute){" "}
        <input
          type="number"
          min={40}
          max={240}
          value={input.tempo}
          aria-label="Tempo"
          onInput={(e) => {
            const v = Number((e.currentTarget as HTMLInputElement).value);
            if (v >= 20 && v <= 400) input.changeTempo(v);
          }}
        />
      </label>
      <label>
        Bars{" "}
        <input
          type="number"
          min={1}
          max={MAX_BARS}
          value={recorder.bars}
          aria-label="Bars to record"
          onInput={(e) => {
            const v = Number((e.currentTarget as HTMLInputElement).value);
            if (v >= 1 && v <= MAX_BARS) recorder.setBars(v);
          }}
        />
      </label>
      <label>
        <input
          type="checkbox"
          checked={recorder.metronome}
          onChange={(e) => recorder.setMetronome((e.currentTarget as HTMLInputElement).checked)}
        />{" "}
        Metronome
      </label>
      <label>
        <input
          type="checkbox"
          checked={recorder.countIn}
          onChange={(e) => recorder.setCountIn((e.currentTarget as HTMLInputElement).checked)}
        />{" "}
        Count-in
      </label>
      {recorder.recording ? (
        <button type="button" class="record on" onClick={recorder.finishTake}>
          Stop recording
        </button>
      ) : (
        <button type="button" class="record" onClick={() => void recorder.startRecording()}>
          Record
        </button>
      )}
      <span class="recording-state" aria-live="polite">
        {recorder.label}
      </span>
      <button type="button" onClick={() => void midi.enable()}>
        Use a MIDI keyboard
      </button>
      {midi.inputs && (
        <span class="midi-inputs">{midi.inputs.length ? `MIDI: ${midi.inputs.join(", ")}` : "No MIDI input"}</span>
      )}
    </div>
  );
}
