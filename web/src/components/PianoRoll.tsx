// A piano roll on a canvas: every track in its colour with a playhead; one track may be edited with the mouse
// (click to add, drag to move, drag the right edge to resize, right-click or double-click to delete) or with
// the keyboard (see KEY_HELP).
import { useEffect, useRef, useState } from "preact/hooks";
import type { Note, ScoreNotes } from "../api";
import { TRACK_COLOURS, endTicks, pitchName, ticksPerBar } from "../music";
import { player } from "../player";

export const KEY_HELP =
  "Keys: N adds a note, [ and ] select the previous or next, arrows move it (Shift+left/right changes its length), " +
  "Delete removes it, Ctrl+Z undoes.";

interface Props {
  score: ScoreNotes;
  label: string;
  bars?: number;
  playheadTicks?: number | null;
  /** Draw the shared player's playhead while it plays (this roll's score, loaded into it). */
  followPlayer?: boolean;
  /** Notes being recorded, drawn over the edited track as they are played. */
  liveNotes?: Note[];
  hiddenTracks?: boolean[];
  editTrack?: number;
  gridTicks?: number;
  onEdit?: (notes: Note[]) => void;
  onUndo?: () => void;
  heightPx?: number;
}

type Drag = {
  index: number;
  mode: "move" | "resize";
  grabTicks: number;
  grabPitch: number;
  original: Note;
  /** A note drawn by this gesture (always kept), not one grabbed (kept only if it changed). */
  added: boolean;
};

const EDGE_PX = 6;
const MIN_PITCH_SPAN = 24;
// Rows at least this tall name every natural note; shorter ones name only the Cs.
const NAMED_ROW_PX = 9;
const NATURAL = [0, 2, 4, 5, 7, 9, 11];

export function PianoRoll(props: Props) {
  const { score, editTrack, onEdit } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [draft, setDraft] = useState<Note[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [widthPx, setWidthPx] = useState(800);
  const [followedTicks, setFollowedTicks] = useState<number | null>(null);
  const [hoverPitch, setHoverPitch] = useState<number | null>(null);
  const playheadTicks = followedTicks ?? props.playheadTicks ?? null;
  const liveNotes = props.liveNotes ?? [];
  const heightPx = props.heightPx ?? 240;
  const grid = props.gridTicks ?? score.resolution / 4;
  const editable = editTrack !== undefined && onEdit !== undefined;
  const editNotes = editable ? (draft ?? score.tracks[editTrack]?.notes ?? []) : [];

  const tracks = score.tracks.map((track, index) => (index === editTrack ? { ...track, notes: editNotes } : track));
  const bar = ticksPerBar(score);
  const shown = { ...score, tracks };
  const liveEndTicks = Math.max(0, ...liveNotes.map((note) => note.start_ticks + note.duration_ticks));
  const lengthTicks = Math.max(endTicks(shown), liveEndTicks, (props.bars ?? 1) * bar, bar);
  const totalTicks = Math.ceil(lengthTicks / bar) * bar;
  const pitches = [...tracks.flatMap((track) => track.notes), ...liveNotes].map((note) => note.pitch);
  let low = pitches.length ? Math.min(...pitches) - 2 : 58;
  let high = pitches.length ? Math.max(...pitches) + 2 : 74;
  if (high - low < MIN_PITCH_SPAN) {
    const middle = Math.round((high + low) / 2);
    low = middle - MIN_PITCH_SPAN / 2;
    high = middle + MIN_PITCH_SPAN / 2;
  }
  const xPerTick = widthPx / totalTicks;
  const rowPx = heightPx / (high - low + 1);
  const toX = (ticks: number) => ticks * xPerTick;
  const toY = (pitch: number) => (high - pitch) * rowPx;

  useEffect(() => {
    const element = canvas.current?.parentElement;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidthPx(Math.max(200, element.clientWidth)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (!props.followPlayer) return;
    let handle = 0;
    const ticksPerSecond = (score.tempo_qpm / 60) * score.resolution;
    const draw = () => {
      setFollowedTicks(player.playing ? player.positionSeconds * ticksPerSecond : null);
      handle = requestAnimationFrame(draw);
    };
    draw();
    return () => {
      cancelAnimationFrame(handle);
      setFollowedTicks(null);
    };
  }, [props.followPlayer, score.tempo_qpm, score.resolution]);

  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext("2d");
    if (!element || !context) return;
    const ratio = window.devicePixelRatio || 1;
    element.width = widthPx * ratio;
    element.height = heightPx * ratio;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#fbfaf7";
    context.fillRect(0, 0, widthPx, heightPx);
    for (let pitch = low; pitch <= high; pitch++) {
      if ([1, 3, 6, 8, 10].includes(pitch % 12)) {
        context.fillStyle = "#efece4";
        context.fillRect(0, toY(pitch), widthPx, rowPx);
      }
    }
    const beat = (score.resolution * 4) / score.time_signature[1];
    for (let ticks = 0; ticks <= totalTicks; ticks += beat) {
      context.fillStyle = ticks % bar === 0 ? "#b9b3a5" : "#e2ddd2";
      context.fillRect(Math.round(toX(ticks)), 0, 1, heightPx);
    }
    context.fillStyle = "#8a8373";
    context.font = "10px sans-serif";
    for (let pitch = low; pitch <= high; pitch++) {
      const named = pitch % 12 === 0 || (rowPx >= NAMED_ROW_PX && NATURAL.includes(pitch % 12));
      if (pitch === hoverPitch) {
        context.fillStyle = "rgba(0, 0, 0, 0.06)";
        context.fillRect(0, toY(pitch), widthPx, rowPx);
      }
      if (!named && pitch !== hoverPitch) continue;
      context.fillStyle = pitch === hoverPitch ? "#111" : "#8a8373";
      context.font = `${pitch % 12 === 0 || pitch === hoverPitch ? "bold " : ""}${Math.min(10, Math.max(8, rowPx))}px sans-serif`;
      context.fillText(pitchName(pitch), 2, toY(pitch) + rowPx - 1);
    }
    tracks.forEach((track, index) => {
      if (props.hiddenTracks?.[index]) return;
      const colour = TRACK_COLOURS[index % TRACK_COLOURS.length];
      track.notes.forEach((note, noteIndex) => {
        context.fillStyle = colour;
        context.globalAlpha = 0.55 + (0.45 * note.velocity) / 127;
        const x = toX(note.start_ticks);
        const w = Math.max(2, toX(note.duration_ticks) - 1);
        context.fillRect(x, toY(note.pitch) + 0.5, w, Math.max(2, rowPx - 1));
        context.globalAlpha = 1;
        if (index === editTrack && noteIndex === selected) {
          context.strokeStyle = "#111";
          context.lineWidth = 2;
          context.strokeRect(x, toY(note.pitch) + 0.5, w, Math.max(2, rowPx - 1));
        }
      });
    });
    for (const note of liveNotes) {
      context.fillStyle = TRACK_COLOURS[(editTrack ?? 0) % TRACK_COLOURS.length];
      context.globalAlpha = 0.6;
      context.fillRect(
        toX(note.start_ticks),
        toY(note.pitch) + 0.5,
        Math.max(2, toX(note.duration_ticks) - 1),
        Math.max(2, rowPx - 1),
      );
      context.globalAlpha = 1;
    }
    if (playheadTicks !== null) {
      context.fillStyle = "#d00000";
      context.fillRect(toX(playheadTicks), 0, 2, heightPx);
    }
  });

  function locate(event: MouseEvent): { ticks: number; pitch: number; x: number } {
    const rect = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    return { ticks: Math.max(0, x / xPerTick), pitch: Math.round(high - y / rowPx + 0.5), x };
  }

  function hit(ticks: number, pitch: number): number {
    for (let index = editNotes.length - 1; index >= 0; index--) {
      const note = editNotes[index];
      if (note.pitch === pitch && ticks >= note.start_ticks && ticks <= note.start_ticks + note.duration_ticks)
        return index;
    }
    return -1;
  }

  const snap = (ticks: number) => Math.max(0, Math.round(ticks / grid) * grid);

  function commit(notes: Note[], select: number | null): void {
    setDraft(null);
    setSelected(select);
    onEdit?.(notes.slice().sort((a, b) => a.start_ticks - b.start_ticks || a.pitch - b.pitch));
  }

  function onPointerDown(event: PointerEvent): void {
    if (!editable || event.button !== 0) return;
    const target = event.currentTarget as HTMLCanvasElement;
    target.focus();
    // Pointer events serve the mouse, a pen and a finger alike; capture keeps a drag going off the canvas.
    target.setPointerCapture?.(event.pointerId);
    const { ticks, pitch, x } = locate(event);
    const index = hit(ticks, pitch);
    if (index >= 0) {
      const note = editNotes[index];
      const nearEdge = Math.abs(toX(note.start_ticks + note.duration_ticks) - x) <= EDGE_PX;
      setSelected(index);
      setDraft(editNotes.map((n) => ({ ...n })));
      const mode = nearEdge ? "resize" : "move";
      setDrag({ index, mode, grabTicks: ticks, grabPitch: pitch, original: { ...note }, added: false });
      return;
    }
    const note: Note = { pitch, start_ticks: Math.floor(ticks / grid) * grid, duration_ticks: grid * 2, velocity: 90 };
    const notes = [...editNotes.map((n) => ({ ...n })), note];
    setDraft(notes);
    setSelected(notes.length - 1);
    const added = notes.length - 1;
    setDrag({ index: added, mode: "resize", grabTicks: ticks, grabPitch: pitch, original: { ...note }, added: true });
  }

  function onPointerMove(event: PointerEvent): void {
    const { ticks, pitch } = locate(event);
    setHoverPitch(pitch);
    if (!drag || !draft) return;
    const notes = draft.slice();
    const original = drag.original;
    if (drag.mode === "move") {
      notes[drag.index] = {
        ...original,
        start_ticks: snap(original.start_ticks + ticks - drag.grabTicks),
        pitch: Math.min(127, Math.max(0, original.pitch + pitch - drag.grabPitch)),
      };
    } else {
      const end = Math.max(original.start_ticks + grid, snap(ticks));
      notes[drag.index] = { ...original, duration_ticks: end - original.start_ticks };
    }
    setDraft(notes);
  }

  function onPointerUp(): void {
    if (!drag || !draft) return;
    setDrag(null);
    const now = draft[drag.index];
    const unchanged =
      !drag.added &&
      now.start_ticks === drag.original.start_ticks &&
      now.pitch === drag.original.pitch &&
      now.duration_ticks === drag.original.duration_ticks;
    if (unchanged) {
      // A click that only selected a note is no edit: nothing to undo, the melody unchanged.
      setDraft(null);
      return;
    }
    commit(draft, drag.index);
  }

  function remove(index: number): void {
    commit(
      editNotes.filter((_, i) => i !== index),
      null,
    );
  }

  function onContextMenu(event: MouseEvent): void {
    if (!editable) return;
    event.preventDefault();
    const { ticks, pitch } = locate(event);
    const index = hit(ticks, pitch);
    if (index >= 0) remove(index);
  }

  function onDoubleClick(event: MouseEvent): void {
    if (!editable) return;
    const { ticks, pitch } = locate(event);
    const index = hit(ticks, pitch);
    if (index >= 0) remove(index);
  }

  function onKeyDown(event: KeyboardEvent): void {
    if (!editable) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      props.onUndo?.();
      event.preventDefault();
      return;
    }
    const index = selected !== null && selected < editNotes.length ? selected : null;
    const change = (note: Note) => {
      const notes = editNotes.map((n) => ({ ...n }));
      if (index === null) return;
      notes[index] = note;
      commit(notes, index);
    };
    const note = index !== null ? editNotes[index] : null;
    switch (event.key) {
      case "n":
      case "N": {
        const last = note ?? editNotes[editNotes.length - 1];
        const added: Note = last
          ? { ...last, start_ticks: last.start_ticks + last.duration_ticks }
          : { pitch: 60, start_ticks: 0, duration_ticks: score.resolution, velocity: 90 };
        commit([...editNotes, added], editNotes.length);
        break;
      }
      case "[":
      case "]": {
        if (!editNotes.length) return;
        const next = index === null ? 0 : (index + (event.key === "]" ? 1 : -1) + editNotes.length) % editNotes.length;
        setSelected(next);
        break;
      }
      case "ArrowUp":
      case "ArrowDown":
        if (note)
          change({ ...note, pitch: Math.min(127, Math.max(0, note.pitch + (event.key === "ArrowUp" ? 1 : -1))) });
        break;
      case "ArrowLeft":
      case "ArrowRight": {
        if (!note) return;
        const delta = event.key === "ArrowRight" ? grid : -grid;
        if (event.shiftKey) change({ ...note, duration_ticks: Math.max(grid, note.duration_ticks + delta) });
        else change({ ...note, start_ticks: Math.max(0, note.start_ticks + delta) });
        break;
      }
      case "Delete":
      case "Backspace":
        if (index !== null) remove(index);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  const count = tracks.reduce((sum, track) => sum + track.notes.length, 0);
  return (
    <div
      class="roll"
      data-playhead-ticks={playheadTicks ?? ""}
      data-notes={count}
      data-live-notes={liveNotes.length}
      title={hoverPitch !== null ? pitchName(hoverPitch) : undefined}
    >
      <canvas
        ref={canvas}
        // On an editable roll a finger draws and drags notes instead of scrolling or zooming the page.
        style={{ width: `${widthPx}px`, height: `${heightPx}px`, touchAction: editable ? "none" : "auto" }}
        tabIndex={0}
        role="img"
        aria-label={`${props.label}: ${count} notes${editable ? `. ${KEY_HELP}` : ""}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => setHoverPitch(null)}
        onContextMenu={onContextMenu}
        onDblClick={onDoubleClick}
        onKeyDown={onKeyDown}
      />
    </div>
  );
}
