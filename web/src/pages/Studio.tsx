// The music studio: a melody in (samples, keyboard, MIDI keyboard, import, piano-roll editing), a technique and
// a model to run on it with their parameters, and the composition out.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  type Composition,
  type Melody,
  type Note,
  type ParamValues,
  type ScoreNotes,
  type Status,
  type Technique,
  type TrackNotes,
  get,
  post,
} from "../api";
import { Keyboard } from "../components/Keyboard";
import { ParamForm, defaults } from "../components/ParamForm";
import { KEY_HELP, PianoRoll } from "../components/PianoRoll";
import { Result } from "../components/Result";
import { connectMidi } from "../midi";
import { RESOLUTION, melodyScore, melodyTrackIndex, rescale, ticksPerBar, withSummaryTracks } from "../music";
import { player } from "../player";
import { UserError, attempt, clearMessage, showError, showNotice } from "../state";

const MAX_BARS = 8;
const BEATS_PER_BAR = 4;
const GRIDS = ["1/4", "1/8", "1/12", "1/16", "1/24", "1/32"] as const;

// A take being recorded: when its first downbeat is, the notes held (pitch to start tick) and those done.
interface Take {
  startMs: number;
  msPerTick: number;
  open: Map<number, number>;
  velocities: Map<number, number>;
  notes: Note[];
  endTicks: number;
}

type Recording = { phase: "count-in" | "recording"; beat: number; totalBeats: number } | null;

/** A take's notes so far, the held ones lasting until `nowTicks`, for the melody editor to show as they come. */
function takeNotes(current: Take | null, nowTicks: number): Note[] {
  if (!current) return [];
  const held = [...current.open].map(([pitch, start]) => ({
    pitch,
    start_ticks: start,
    duration_ticks: Math.max(RESOLUTION / 16, Math.round(nowTicks) - start),
    velocity: current.velocities.get(pitch) ?? 90,
  }));
  return [...current.notes, ...held];
}

export interface StudioQuery {
  composition?: string;
  technique?: string;
  model?: string;
}

export function Studio({ query, status, onReady }: { query: StudioQuery; status: Status | null; onReady: () => void }) {
  const [melodies, setMelodies] = useState<Melody[]>([]);
  const [techniques, setTechniques] = useState<Technique[]>([]);
  const [notes, setNotes] = useState<Note[]>([]);
  // The input's other tracks (a composition used as the next input, a multi-track file): shown and played with
  // the melody, sent with it to the technique, never edited here.
  const [otherTracks, setOtherTracks] = useState<TrackNotes[]>([]);
  const [history, setHistory] = useState<Note[][]>([]);
  const [tempo, setTempo] = useState(120);
  const [bars, setBars] = useState(4);
  const [title, setTitle] = useState("My melody");
  const [savedId, setSavedId] = useState<string | null>(null);
  const [metronome, setMetronome] = useState(true);
  const [countIn, setCountIn] = useState(true);
  const [recording, setRecording] = useState<Recording>(null);
  const [base, setBase] = useState(48);
  const [active, setActive] = useState<Set<number>>(new Set());
  const [midiInputs, setMidiInputs] = useState<string[] | null>(null);
  const [grid, setGrid] = useState<(typeof GRIDS)[number]>("1/16");
  const [semitones, setSemitones] = useState(1);
  const [technique, setTechnique] = useState("");
  const [model, setModel] = useState("");
  const [params, setParams] = useState<ParamValues>({});
  const [seed, setSeed] = useState("");
  const [melodyPlaying, setMelodyPlaying] = useState(false);
  // Set once the first melody is in: a later visit (a model chosen elsewhere) keeps the user's melody.
  const started = useRef(false);
  const [busy, setBusy] = useState<{ what: string; startedMs: number } | null>(null);
  const [elapsedMs, setElapsedMs] = useState(0);
  const [result, setResult] = useState<{ composition: Composition; score: ScoreNotes; frames: ScoreNotes[] } | null>(
    null,
  );

  // The recorder reads these from key and MIDI handlers, which must not change while a take runs.
  const take = useRef<Take | null>(null);

  const selectedTechnique = techniques.find((t) => t.name === technique);

  useEffect(() => {
    void (async () => {
      const loaded = await attempt(() =>
        Promise.all([get<Melody[]>("/api/melodies"), get<Technique[]>("/api/techniques")]),
      );
      if (!loaded) return;
      const [melodyList, techniqueList] = loaded;
      setMelodies(melodyList);
      setTechniques(techniqueList);
      const chosen = techniqueList.find((t) => t.name === query.technique) ?? techniqueList[0];
      if (chosen) chooseTechnique(chosen, query.model);
      if (query.composition) await openComposition(query.composition, melodyList);
      else if (!started.current && melodyList[0]) await loadMelody(melodyList[0].id, melodyList);
      started.current = true;
      onReady();
    })();
  }, [query.composition, query.technique, query.model]);

  useEffect(() => {
    if (!busy) return;
    const timer = window.setInterval(() => setElapsedMs(performance.now() - busy.startedMs), 100);
    return () => window.clearInterval(timer);
  }, [busy]);

  function chooseTechnique(chosen: Technique, preferredModel?: string): void {
    setTechnique(chosen.name);
    setModel(preferredModel && chosen.models.includes(preferredModel) ? preferredModel : (chosen.models[0] ?? ""));
    setParams(defaults(chosen.params_schema));
  }

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

  async function openComposition(id: string, known: Melody[]): Promise<void> {
    const composition = await attempt(() => get<Composition>(`/api/compositions/${id}`));
    if (!composition) return;
    await showComposition(composition);
    await loadMelody(composition.melody_id, known);
  }

  async function showComposition(composition: Composition): Promise<void> {
    const notes = await attempt(() => get<ScoreNotes>(`/api/compositions/${composition.id}/notes`));
    if (!notes) return;
    const score = withSummaryTracks(notes, composition.summary);
    const frames =
      Number(composition.info.frames ?? 0) > 0
        ? ((await attempt(() => get<ScoreNotes[]>(`/api/compositions/${composition.id}/frames`))) ?? [])
        : [];
    setMelodyPlaying(false);
    setResult({ composition, score, frames });
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

  async function operate(what: string, path: (id: string) => string, body: unknown): Promise<void> {
    setBusy({ what, startedMs: performance.now() });
    try {
      const id = await ensureSaved();
      const melody = await post<Melody>(path(id), body);
      setMelodies((list) => [...list, melody]);
      const score = await get<ScoreNotes>(`/api/melodies/${melody.id}/notes`);
      takeInput(score);
      setSavedId(melody.id);
      setTitle(melody.title);
      clearMessage();
    } catch (error) {
      showError(error);
    } finally {
      setBusy(null);
    }
  }

  async function importFile(file: File): Promise<void> {
    const form = new FormData();
    form.append("file", file);
    setBusy({ what: "Importing", startedMs: performance.now() });
    try {
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
    } catch (error) {
      showError(error);
    } finally {
      setBusy(null);
    }
  }

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

  async function generate(): Promise<void> {
    setBusy({ what: "Generating", startedMs: performance.now() });
    setElapsedMs(0);
    try {
      const id = await ensureSaved();
      const body = { technique, model, melody_id: id, params, ...(seed.trim() ? { seed: Number(seed) } : {}) };
      const composition = await post<Composition>("/api/compositions", body);
      await showComposition(composition);
      clearMessage();
    } catch (error) {
      showError(error);
    } finally {
      setBusy(null);
    }
  }

  // Recording: a count-in bar, then up to `bars` bars at `tempo`; key presses become notes in ticks.
  const ticksNow = (): number => {
    const current = take.current;
    return current ? (performance.now() - current.startMs) / current.msPerTick : 0;
  };

  const noteOn = useCallback((pitch: number, velocity = 90) => {
    player.noteOn(pitch, velocity);
    setActive((keys) => new Set(keys).add(pitch));
    const current = take.current;
    if (current) {
      const ticks = ticksNow();
      // A note struck just before the downbeat belongs to it.
      if (ticks >= -RESOLUTION / 8 && ticks < current.endTicks) {
        current.open.set(pitch, Math.max(0, Math.round(ticks)));
        current.velocities.set(pitch, velocity);
      }
    }
  }, []);

  const noteOff = useCallback((pitch: number) => {
    player.noteOff(pitch);
    setActive((keys) => {
      const next = new Set(keys);
      next.delete(pitch);
      return next;
    });
    const current = take.current;
    const start = current?.open.get(pitch);
    if (current && start !== undefined) {
      current.open.delete(pitch);
      const end = Math.min(current.endTicks, Math.round(ticksNow()));
      current.notes.push({
        pitch,
        start_ticks: start,
        duration_ticks: Math.max(RESOLUTION / 16, end - start),
        velocity: current.velocities.get(pitch) ?? 90,
      });
    }
  }, []);

  function finishTake(): void {
    const current = take.current;
    if (!current) return;
    const end = Math.min(current.endTicks, Math.round(ticksNow()));
    current.open.forEach((start, pitch) =>
      current.notes.push({
        pitch,
        start_ticks: start,
        duration_ticks: Math.max(RESOLUTION / 16, end - start),
        velocity: 90,
      }),
    );
    take.current = null;
    setRecording(null);
    const recorded = current.notes.sort((a, b) => a.start_ticks - b.start_ticks || a.pitch - b.pitch);
    if (recorded.length) {
      setOtherTracks([]);
      edit(recorded);
      setTitle("Recorded melody");
      showNotice(`Recorded ${recorded.length} notes.`);
    } else {
      showNotice("Nothing was played during the recording; press keys while it runs.");
    }
  }

  useEffect(() => {
    if (!recording || !take.current) return;
    const msPerBeat = 60000 / tempo;
    // Each beat is due at a fixed time from the take's start, so the clicks do not drift behind the
    // recorded notes' clock as the delays of the timers add up.
    const countInMs = (countIn ? BEATS_PER_BAR : 0) * msPerBeat;
    const due = take.current.startMs - countInMs + (recording.beat + 1) * msPerBeat;
    const timer = window.setTimeout(
      () => {
        const beat = recording.beat + 1;
        if (beat >= recording.totalBeats) {
          finishTake();
          return;
        }
        const countInBeats = countIn ? BEATS_PER_BAR : 0;
        if (metronome || beat < countInBeats) player.tick(beat % BEATS_PER_BAR === 0);
        setRecording({ ...recording, beat, phase: beat < countInBeats ? "count-in" : "recording" });
      },
      Math.max(0, due - performance.now()),
    );
    return () => window.clearTimeout(timer);
  }, [recording]);

  async function startRecording(): Promise<void> {
    await player.unlock();
    player.stop();
    const countInBeats = countIn ? BEATS_PER_BAR : 0;
    const msPerBeat = 60000 / tempo;
    take.current = {
      startMs: performance.now() + countInBeats * msPerBeat,
      msPerTick: msPerBeat / RESOLUTION,
      open: new Map(),
      notes: [],
      endTicks: bars * BEATS_PER_BAR * RESOLUTION,
      velocities: new Map(),
    };
    if (metronome || countIn) player.tick(true);
    setRecording({
      phase: countInBeats ? "count-in" : "recording",
      beat: 0,
      totalBeats: countInBeats + bars * BEATS_PER_BAR,
    });
  }

  async function enableMidi(): Promise<void> {
    try {
      const names = await connectMidi({ noteOn, noteOff });
      setMidiInputs(names);
      showNotice(
        names.length
          ? `Listening to ${names.join(", ")}.`
          : "No MIDI keyboard is connected; plug one in and press the button again.",
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      showError(new UserError(`The MIDI keyboard cannot be used: ${reason}.`));
    }
  }

  const melodyOnly = melodyScore(notes, tempo);
  const editorScore = otherTracks.length
    ? { ...melodyOnly, tracks: [...melodyOnly.tracks, ...otherTracks] }
    : melodyOnly;

  /** Hear the melody as it stands (the result's own player controls play the composition). */
  async function toggleMelody(): Promise<void> {
    if (melodyPlaying) {
      player.stop();
      setMelodyPlaying(false);
      return;
    }
    try {
      const score = editorScore;
      await player.load(
        score,
        score.tracks.map((track) => ({ muted: false, solo: false, volumeDb: 0, program: track.program })),
      );
      player.setLoop(false);
      player.onEnd = () => setMelodyPlaying(false);
      await player.play(0);
      setMelodyPlaying(true);
    } catch (error) {
      showError(error);
    }
  }
  const countInBeats = countIn ? BEATS_PER_BAR : 0;
  const recordingLabel = recording
    ? recording.phase === "count-in"
      ? `Count-in: ${BEATS_PER_BAR - recording.beat}…`
      : `Recording bar ${Math.floor((recording.beat - countInBeats) / BEATS_PER_BAR) + 1} of ${bars}`
    : "";
  const editorBars = Math.max(
    bars,
    Math.ceil(
      Math.max(0, ...editorScore.tracks.flatMap((t) => t.notes.map((n) => n.start_ticks + n.duration_ticks))) /
        ticksPerBar(editorScore),
    ),
  );

  return (
    <div class="studio">
      <section class="panel" aria-labelledby="input-title">
        <h2 id="input-title">1. Your melody</h2>
        <div class="row">
          <label>
            Sample or saved melody{" "}
            <select
              aria-label="Melody"
              value={melodies.some((m) => m.id === savedId) ? (savedId ?? "") : ""}
              onChange={(e) => {
                const id = (e.currentTarget as HTMLSelectElement).value;
                if (id) void loadMelody(id);
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
                const input = e.currentTarget as HTMLInputElement;
                const file = input.files?.[0];
                if (file) void importFile(file);
                input.value = "";
              }}
            />
          </label>
          <label>
            Title{" "}
            <input
              type="text"
              value={title}
              maxLength={200}
              onInput={(e) => {
                setTitle((e.currentTarget as HTMLInputElement).value);
                setSavedId(null);
              }}
            />
          </label>
        </div>
        <div class="row">
          <label>
            Tempo (quarter notes per minute){" "}
            <input
              type="number"
              min={40}
              max={240}
              value={tempo}
              aria-label="Tempo"
              onInput={(e) => {
                const v = Number((e.currentTarget as HTMLInputElement).value);
                if (v >= 20 && v <= 400) {
                  setTempo(v);
                  setSavedId(null);
                }
              }}
            />
          </label>
          <label>
            Bars{" "}
            <input
              type="number"
              min={1}
              max={MAX_BARS}
              value={bars}
              aria-label="Bars to record"
              onInput={(e) => {
                const v = Number((e.currentTarget as HTMLInputElement).value);
                if (v >= 1 && v <= MAX_BARS) setBars(v);
              }}
            />
          </label>
          <label>
            <input
              type="checkbox"
              checked={metronome}
              onChange={(e) => setMetronome((e.currentTarget as HTMLInputElement).checked)}
            />{" "}
            Metronome
          </label>
          <label>
            <input
              type="checkbox"
              checked={countIn}
              onChange={(e) => setCountIn((e.currentTarget as HTMLInputElement).checked)}
            />{" "}
            Count-in
          </label>
          {recording ? (
            <button type="button" class="record on" onClick={finishTake}>
              Stop recording
            </button>
          ) : (
            <button type="button" class="record" onClick={() => void startRecording()}>
              Record
            </button>
          )}
          <span class="recording-state" aria-live="polite">
            {recordingLabel}
          </span>
          <button type="button" onClick={() => void enableMidi()}>
            Use a MIDI keyboard
          </button>
          {midiInputs && (
            <span class="midi-inputs">{midiInputs.length ? `MIDI: ${midiInputs.join(", ")}` : "No MIDI input"}</span>
          )}
        </div>
        <Keyboard base={base} active={active} onBase={setBase} onNoteOn={noteOn} onNoteOff={noteOff} />
        <PianoRoll
          score={editorScore}
          label="Melody editor"
          bars={editorBars}
          followPlayer={melodyPlaying}
          liveNotes={recording ? takeNotes(take.current, ticksNow()) : undefined}
          playheadTicks={recording ? Math.max(0, ticksNow()) : null}
          editTrack={0}
          onEdit={edit}
          onUndo={undo}
          gridTicks={RESOLUTION / 4}
          heightPx={200}
        />
        <div class="row">
          <span class="melody-count">
            {notes.length} notes
            {otherTracks.length > 0 &&
              ` in the melody, with ${otherTracks.map((t) => `${t.name || "a track"} (${t.notes.length})`).join(", ")}`}
          </span>
          <button type="button" onClick={() => void toggleMelody()} disabled={!notes.length && !melodyPlaying}>
            {melodyPlaying ? "Stop melody" : "Play melody"}
          </button>
          <button type="button" onClick={undo} disabled={!history.length}>
            Undo
          </button>
          <button type="button" onClick={() => edit([])} disabled={!notes.length}>
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
            onClick={() => void operate("Rhythm assist", (id) => `/api/melodies/${id}/quantize`, { grid, strength: 1 })}
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
            onClick={() => void operate("Transposing", (id) => `/api/melodies/${id}/transpose`, { semitones })}
          >
            Transpose
          </button>
        </div>
        <p class="help">
          Click the roll to add a note, drag it to move, drag its right edge to resize, right-click or double-click to
          delete. {KEY_HELP}
        </p>
      </section>

      <section class="panel" aria-labelledby="generate-title">
        <h2 id="generate-title">2. Generate</h2>
        <div class="row">
          <label>
            Technique{" "}
            <select
              aria-label="Technique"
              value={technique}
              onChange={(e) => {
                const chosen = techniques.find((t) => t.name === (e.currentTarget as HTMLSelectElement).value);
                if (chosen) chooseTechnique(chosen);
              }}
            >
              {techniques.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.title}
                </option>
              ))}
            </select>
          </label>
          <label>
            Model{" "}
            <select
              aria-label="Model"
              value={model}
              onChange={(e) => setModel((e.currentTarget as HTMLSelectElement).value)}
            >
              {selectedTechnique?.models.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </label>
          <label>
            Seed{" "}
            <input
              type="number"
              min={0}
              placeholder="random"
              value={seed}
              aria-label="Seed"
              onInput={(e) => setSeed((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button
            type="button"
            class="primary"
            disabled={!!busy || !model || !notes.length}
            onClick={() => void generate()}
          >
            Generate
          </button>
          {busy && (
            <span class="progress" role="status">
              <progress aria-label={busy.what} /> {busy.what}… {(elapsedMs / 1000).toFixed(1)} s
              {status?.limits.max_generation_seconds ? ` of at most ${status.limits.max_generation_seconds} s` : ""}
            </span>
          )}
        </div>
        {status && (
          <p class="help budget">
            Each generation may take up to{" "}
            {status.limits.max_generation_seconds ? `${status.limits.max_generation_seconds} s` : "any time"} and make
            up to {Math.round(status.limits.max_composition_seconds / 60)} minutes of music; melodies take up to{" "}
            {status.limits.max_melody_bars} bars.
          </p>
        )}
        {selectedTechnique && <p class="help">{selectedTechnique.description}</p>}
        {selectedTechnique && !selectedTechnique.models.length && (
          <p class="help">No model is installed for this technique yet: train one on the Training page.</p>
        )}
        {selectedTechnique && (
          <ParamForm prefix="param" schema={selectedTechnique.params_schema} values={params} onChange={setParams} />
        )}
      </section>

      {result && (
        <Result
          composition={result.composition}
          score={result.score}
          frames={result.frames}
          status={status}
          onUseAsInput={(melody) => void useAsInput(melody)}
        />
      )}
    </div>
  );
}
