// Notes, ticks and seconds: the small amount of music arithmetic the browser needs.
import type { Note, ScoreNotes, ScoreSummary } from "./api";

export const RESOLUTION = 480;
export const TRACK_COLOURS = ["#e4572e", "#29a3a3", "#f3a712", "#6a4c93", "#3a86ff", "#8ac926", "#ff70a6", "#8d99ae"];
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

export function pitchName(pitch: number): string {
  return `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

export function ticksToSeconds(ticks: number, score: Pick<ScoreNotes, "resolution" | "tempo_qpm">): number {
  return (ticks / score.resolution) * (60 / score.tempo_qpm);
}

export function secondsToTicks(seconds: number, score: Pick<ScoreNotes, "resolution" | "tempo_qpm">): number {
  return (seconds * score.tempo_qpm * score.resolution) / 60;
}

export function ticksPerBar(score: Pick<ScoreNotes, "resolution" | "time_signature">): number {
  const [beats, unit] = score.time_signature;
  return (score.resolution * 4 * beats) / unit;
}

export function endTicks(score: ScoreNotes): number {
  let end = 0;
  for (const track of score.tracks)
    for (const note of track.notes) end = Math.max(end, note.start_ticks + note.duration_ticks);
  return end;
}

export function melodyScore(notes: Note[], tempoQpm: number, program = 0): ScoreNotes {
  return {
    resolution: RESOLUTION,
    tempo_qpm: tempoQpm,
    time_signature: [4, 4],
    tracks: [{ name: "Melody", program, is_drum: false, role: "melody", notes }],
  };
}

/** The melody a score's notes belong to: the track whose role is melody, else the first pitched one. */
export function melodyTrackIndex(score: ScoreNotes): number {
  const index = score.tracks.findIndex((track) => track.role === "melody");
  return index >= 0
    ? index
    : Math.max(
        0,
        score.tracks.findIndex((track) => !track.is_drum),
      );
}

/** `notes` moved to `resolution` ticks per quarter note. */
export function rescale(notes: Note[], from: number, to: number = RESOLUTION): Note[] {
  if (from === to) return notes.map((note) => ({ ...note }));
  const factor = to / from;
  return notes.map((note) => ({
    ...note,
    start_ticks: Math.round(note.start_ticks * factor),
    duration_ticks: Math.max(1, Math.round(note.duration_ticks * factor)),
  }));
}

// General MIDI's sixteen instrument families, for the per-track instrument menu.
export const GM_FAMILIES: { name: string; program: number }[] = [
  "Piano",
  "Chromatic percussion",
  "Organ",
  "Guitar",
  "Bass",
  "Strings",
  "Ensemble",
  "Brass",
  "Reed",
  "Pipe",
  "Synth lead",
  "Synth pad",
  "Synth effects",
  "Ethnic",
  "Percussive",
  "Sound effects",
].map((name, index) => ({ name, program: index * 8 }));

/** A composition's notes with every track its summary lists, in its order and with its role: a MIDI file keeps
 * neither a track without notes nor the tracks' roles, and a user expects to see each track the model made. */
export function withSummaryTracks(score: ScoreNotes, summary: ScoreSummary): ScoreNotes {
  const unused = score.tracks.slice();
  const tracks = summary.tracks.map((listed) => {
    const index = unused.findIndex((track) => track.name === listed.name);
    const notes = index >= 0 ? unused.splice(index, 1)[0].notes : [];
    return { name: listed.name, program: listed.program, is_drum: listed.is_drum, role: listed.role, notes };
  });
  return { ...score, tracks: [...tracks, ...unused] };
}
