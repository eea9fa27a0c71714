// The on-screen keyboard: two octaves to click, or to play with the computer's keys (the lower row from Z for
// the lower octave, the upper row from Q for the upper one; - and = shift the octaves).
import { useEffect } from "preact/hooks";
import { pitchName } from "../music";

const LOWER_ROW = ["z", "s", "x", "d", "c", "v", "g", "b", "h", "n", "j", "m"];
const UPPER_ROW = ["q", "2", "w", "3", "e", "r", "5", "t", "6", "y", "7", "u"];
const BLACK = new Set([1, 3, 6, 8, 10]);
export const LOWEST_BASE = 24;
export const HIGHEST_BASE = 84;

/** The semitone above `base` that a computer key plays, or null. */
export function keyOffset(key: string): number | null {
  const lower = LOWER_ROW.indexOf(key);
  if (lower >= 0) return lower;
  const upper = UPPER_ROW.indexOf(key);
  return upper >= 0 ? upper + 12 : null;
}

interface Props {
  base: number;
  active: Set<number>;
  onBase: (base: number) => void;
  onNoteOn: (pitch: number) => void;
  onNoteOff: (pitch: number) => void;
}

function typingInto(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLSelectElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLCanvasElement
  );
}

export function Keyboard({ base, active, onBase, onNoteOn, onNoteOff }: Props) {
  useEffect(() => {
    const held = new Map<string, number>();
    const down = (event: KeyboardEvent) => {
      if (event.repeat || event.ctrlKey || event.metaKey || event.altKey || typingInto(event.target)) return;
      const key = event.key.toLowerCase();
      if (key === "-" || key === "=") {
        onBase(Math.min(HIGHEST_BASE, Math.max(LOWEST_BASE, base + (key === "=" ? 12 : -12))));
        return;
      }
      const offset = keyOffset(key);
      if (offset === null || held.has(key)) return;
      held.set(key, base + offset);
      onNoteOn(base + offset);
      event.preventDefault();
    };
    const up = (event: KeyboardEvent) => {
      const key = event.key.toLowerCase();
      const pitch = held.get(key);
      if (pitch === undefined) return;
      held.delete(key);
      onNoteOff(pitch);
    };
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
      held.forEach((pitch) => onNoteOff(pitch));
    };
  }, [base, onBase, onNoteOn, onNoteOff]);

  const keys = Array.from({ length: 24 }, (_, offset) => base + offset);
  return (
    <div class="keyboard-wrap">
      <div class="row">
        <button type="button" onClick={() => onBase(Math.max(LOWEST_BASE, base - 12))} aria-label="Octave down (-)">
          Octave −
        </button>
        <span aria-live="polite">
          {pitchName(base)}–{pitchName(base + 23)}
        </span>
        <button type="button" onClick={() => onBase(Math.min(HIGHEST_BASE, base + 12))} aria-label="Octave up (=)">
          Octave +
        </button>
        <span class="help">
          Play with Z S X D C… (lower octave) and Q 2 W 3 E… (upper octave); - and = change octave.
        </span>
      </div>
      <div class="keyboard" role="group" aria-label="Keyboard">
        {keys.map((pitch) => (
          <button
            type="button"
            key={pitch}
            class={`key ${BLACK.has(pitch % 12) ? "black" : "white"} ${active.has(pitch) ? "down" : ""}`}
            aria-label={pitchName(pitch)}
            data-pitch={pitch}
            onPointerDown={(event) => {
              (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
              onNoteOn(pitch);
            }}
            onPointerUp={() => onNoteOff(pitch)}
            onKeyDown={(event) => {
              if (event.key === "Enter" || event.key === " ") {
                event.preventDefault();
                if (!event.repeat) onNoteOn(pitch);
              }
            }}
            onKeyUp={(event) => {
              if (event.key === "Enter" || event.key === " ") onNoteOff(pitch);
            }}
          />
        ))}
      </div>
    </div>
  );
}
