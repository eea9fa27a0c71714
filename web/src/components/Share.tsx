// Sharing: a composition downloaded as one bundle (MIDI, MP3, piano roll, a card of what made it and a page that
// plays it anywhere), and a bundle imported from someone else, made again here to check it gives the same notes.
import { useState } from "preact/hooks";
import { type Composition, type Melody, post } from "../api";
import { attempt, showNotice } from "../state";

/** What `POST /api/shares` answers. */
export interface ShareImported {
  melody: Melody;
  composition: Composition;
  model_present: boolean;
  same_weights: boolean;
  regenerated: Composition | null;
  identical: boolean | null;
  sentence: string;
}

/** A link that downloads a composition's share bundle (a .ocshare zip). */
export function ShareButton({ composition }: { composition: Composition }) {
  return (
    <a
      class="button"
      href={`/api/compositions/${composition.id}/share`}
      download
      title="One file with the MIDI, an MP3, the piano roll, what made it and a page that plays it in any browser"
    >
      Share
    </a>
  );
}

/** A file input that imports a share bundle and makes it again here; `onImported` is called when it is stored. */
export function ImportShare({ onImported }: { onImported: (imported: ShareImported) => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ShareImported | null>(null);

  async function upload(file: File): Promise<void> {
    const form = new FormData();
    form.append("file", file);
    form.append("regenerate", "true");
    setBusy(true);
    const imported = await attempt(() => post<ShareImported>("/api/shares", form));
    setBusy(false);
    if (!imported) return;
    setResult(imported);
    showNotice(`Imported "${imported.composition.title}". ${imported.sentence}`);
    onImported(imported);
  }

  return (
    <div class="row">
      <label class="file-button">
        Import a shared composition{" "}
        <input
          type="file"
          accept=".ocshare,.zip"
          aria-label="Import a shared composition"
          disabled={busy}
          onChange={(e) => {
            const input = e.currentTarget as HTMLInputElement;
            const file = input.files?.[0];
            if (file) void upload(file);
            input.value = "";
          }}
        />
      </label>
      {busy && <span class="help">Importing and making it again…</span>}
      {result && !busy && (
        <span class="help" data-identical={String(result.identical)}>
          {result.identical === true ? "Regenerated identically. " : ""}
          {result.sentence}
        </span>
      )}
    </div>
  );
}
