// Recording a take from the keyboards: a count-in bar, then up to `bars` bars at the melody's tempo with an
// optional metronome; key presses become notes in ticks, shown as they come and handed over when it ends.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Note } from "../api";
import { RESOLUTION } from "../music";
import { player } from "../player";
import { showNotice } from "../state";

export const MAX_BARS = 8;
const BEATS_PER_BAR = 4;

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

export function useRecorder({ tempo, onTake }: { tempo: number; onTake: (recorded: Note[]) => void }) {
  const [bars, setBars] = useState(4);
  const [metronome, setMetronome] = useState(true);
  const [countIn, setCountIn] = useState(true);
  const [recording, setRecording] = useState<Recording>(null);
  const [active, setActive] = useState<Set<number>>(new Set());
  // The recorder reads these from key and MIDI handlers, which must not change while a take runs.
  const take = useRef<Take | null>(null);

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
      onTake(recorded);
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

  const countInBeats = countIn ? BEATS_PER_BAR : 0;
  const label = recording
    ? recording.phase === "count-in"
      ? `Count-in: ${BEATS_PER_BAR - recording.beat}…`
      : `Recording bar ${Math.floor((recording.beat - countInBeats) / BEATS_PER_BAR) + 1} of ${bars}`
    : "";

  return {
    bars,
    setBars,
    metronome,
    setMetronome,
    countIn,
    setCountIn,
    recording: recording !== null,
    label,
    active,
    noteOn,
    noteOff,
    startRecording,
    finishTake,
    liveNotes: recording ? takeNotes(take.current, ticksNow()) : undefined,
    playheadTicks: recording ? Math.max(0, ticksNow()) : null,
  };
}

export type Recorder = ReturnType<typeof useRecorder>;
