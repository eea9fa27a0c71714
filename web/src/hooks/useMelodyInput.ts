// The studio's input: the melody being edited (with undo), the other tracks that come with it, its title and
// tempo, and the stored melody it equals; loaded, imported, transformed on the server and saved from here.
import { useState } from "preact/hooks";
import { type Melody, type Note, type ScoreNotes, type TrackNotes, get, post } from "../api";
import { RESOLUTION, melodyScore, melodyTrackIndex, rescale } from "../music";
import { UserError, attempt, clearMessage, showNotice } from "../state";
import type { Busy } from "./useBusy";

export function useMelodyInput(during: Busy["during"]) {
  const [melodies, setMelodies] = useState<Melody[]>([]);
  const [notes, setNotes] = useState<Note[]>([]);
  // The input's other tracks (a composition used as the next input, a multi-track file): shown and played with
  // the melody, sent with it to the technique, never edited here.
  const [otherTracks, setOtherTracks] = useState<TrackNotes[]>([]);
  const [history, setHistory] = useState<Note[][]>([]);
  const [tempo, setTempo] = useState(120);
  const [title, setTitle] = useState("My melody");
  const [savedId, setSavedId] = useState<string | null>(null);

  function edit(next: Note[]): void {
    setHistory((past) => [...past.slice(-99), notes]);
    setNotes(next);
    setSavedId(null);
  }

  function undo(): void {
    const previous = history[history.length - 1];
    if (!previous) return;
    setHistory(history.slice(0, -1));
    setNotes(previous);
    setSavedId(null);
  }

  function rename(next: string): void {
    setTitle(next);
    setSavedId(null);
  }

  function changeTempo(qpm: number): void {
    setTempo(qpm);
    setSavedId(null);
  }

  /** Put a take from the recorder in the editor, alone. */
  function takeRecording(recorded: Note[]): void {
    setOtherTracks([]);
    edit(recorded);
    setTitle("Recorded melody");
  }

  /** Put a stored input in the editor: its melody to edit, its other tracks beside it. */
  function takeInput(score: ScoreNotes): void {
    const index = melodyTrackIndex(score);
    setOtherTracks(
      score.tracks
        .filter((_, i) => i !== index)
        .map((track) => ({ ...track, notes: rescale(track.notes, score.resolution) })),
    );
    edit(rescale(score.tracks[index]?.notes ?? [], score.resolution));
  }

  async function loadMelody(id: string, known: Melody[] = melodies): Promise<void> {
    const score = await attempt(() => get<ScoreNotes>(`/api/melodies/${encodeURIComponent(id)}/notes`));
    if (!score) return;
    takeInput(score);
    setTempo(Math.round(score.tempo_qpm));
    setSavedId(id);
    const melody = known.find((m) => m.id === id);
    if (melody) setTitle(melody.title);
  }

  /** The id of a stored melody equal to the editor's notes, saving them first when they changed. */
  async function ensureSaved(): Promise<string> {
    if (savedId) return savedId;
    if (!notes.length) throw new UserError("The melody has no notes yet: record, import or draw some first.");
    const others = otherTracks.map(({ name, program, is_drum, notes }) => ({ name, program, is_drum, notes }));
    const melody = await post<Melody>("/api/melodies", {
      title,
      notes,
      resolution: RESOLUTION,
      tempo_qpm: tempo,
      other_tracks: others,
    });
    setSavedId(melody.id);
    setMelodies((list) => [...list, melody]);
    return melody.id;
  }

  /** Run a server-side transform (`path` from the saved melody's id) and take the melody it makes. */
  async function operate(what: string, path: (id: string) => string, body: unknown): Promise<void> {
    await during(what, async () => {
      const id = await ensureSaved();
      const melody = await post<Melody>(path(id), body);
      setMelodies((list) => [...list, melody]);
      const score = await get<ScoreNotes>(`/api/melodies/${melody.id}/notes`);
      takeInput(score);
      setSavedId(melody.id);
      setTitle(melody.title);
      clearMessage();
    });
  }

  async function importFile(file: File): Promise<void> {
    const form = new FormData();
    form.append("file", file);
    await during("Importing", async () => {
      const melody = await post<Melody>("/api/melodies/upload", form);
      setMelodies((list) => [...list, melody]);
      const score = await get<ScoreNotes>(`/api/melodies/${melody.id}/notes`);
      takeInput(score);
      setSavedId(melody.id);
      setTitle(melody.title);
      setTempo(Math.round(score.tempo_qpm));
      showNotice(
        `Imported "${melody.title}": ${melody.summary.notes} notes in ${melody.summary.tracks.length} ` +
          `track${melody.summary.tracks.length === 1 ? "" : "s"}, ${melody.summary.bars} bars.`,
      );
    });
  }

  /** Make a composition's stored melody the input, scrolled back to the top to go on from there. */
  async function useAsInput(melody: Melody): Promise<void> {
    const known = [...melodies, melody];
    setMelodies(known);
    await loadMelody(melody.id, known);
    showNotice(
      `"${melody.title}" is the input now: ${melody.summary.notes} notes in ${melody.summary.tracks.length} ` +
        "tracks. Pick a technique and a model, and generate.",
    );
    window.scrollTo({ top: 0, behavior: "smooth" });
  }

  const melodyOnly = melodyScore(notes, tempo);
  const score = otherTracks.length ? { ...melodyOnly, tracks: [...melodyOnly.tracks, ...otherTracks] } : melodyOnly;

  return {
    melodies,
    setMelodies,
    notes,
    otherTracks,
    history,
    tempo,
    title,
    savedId,
    score,
    edit,
    undo,
    rename,
    changeTempo,
    takeRecording,
    loadMelody,
    ensureSaved,
    operate,
    importFile,
    useAsInput,
  };
}

export type MelodyInput = ReturnType<typeof useMelodyInput>;
