// Where the melody comes from: a sample or a saved melody, an imported MIDI or MusicXML file; and its title.
import type { MelodyInput } from "../../hooks/useMelodyInput";

export function MelodySource({ input }: { input: MelodyInput }) {
  const { melodies, savedId } = input;
  return (
    <div class="row">
      <label>
        Sample or saved melody{" "}
        <select
          aria-label="Melody"
          value={melodies.some((m) => m.id === savedId) ? (savedId ?? "") : ""}
          onChange={(e) => {
            const id = (e.currentTarget as HTMLSelectElement).value;
            if (id) void input.loadMelody(id);
          }}
        >
          <option value="">(edited)</option>
          {melodies.map((melody) => (
            <option key={melody.id} value={melody.id}>
              {melody.title}
              {melody.builtin ? "" : " (yours)"}
            </option>
          ))}
        </select>
      </label>
      <label class="file-button">
        Import MIDI or MusicXML{" "}
        <input
          type="file"
          accept=".mid,.midi,.mxl,.musicxml,.xml"
          aria-label="Import a MIDI or MusicXML file"
          onChange={(e) => {
            const field = e.currentTarget as HTMLInputElement;
            const file = field.files?.[0];
            if (file) void input.importFile(file);
            field.value = "";
          }}
        />
      </label>
      <label>
        Title{" "}
        <input
          type="text"
          value={input.title}
          maxLength={200}
          onInput={(e) => input.rename((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
    </div>
  );
}
