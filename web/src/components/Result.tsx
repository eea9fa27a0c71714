// A composition: its tracks on one piano roll with a playhead; play, pause, loop; mute, solo, instrument and
// volume per track; the AR-CNN's edits replayed frame by frame; downloads.
import { useEffect, useState } from "preact/hooks";
import { type Composition, type Melody, type ScoreNotes, type Status, post } from "../api";
import { GM_FAMILIES, TRACK_COLOURS, secondsToTicks } from "../music";
import { type TrackMix, player } from "../player";
import { attempt, showError } from "../state";
import { PianoRoll } from "./PianoRoll";
import { ShareButton } from "./Share";

const FRAME_MS = 120;

interface Props {
  composition: Composition;
  score: ScoreNotes;
  frames: ScoreNotes[];
  status: Status | null;
  /** Called with the melody made of the chosen tracks, to load it as the next input. */
  onUseAsInput?: (melody: Melody) => void;
}

export function Result({ composition, score, frames, status, onUseAsInput }: Props) {
  const [chosen, setChosen] = useState<boolean[]>([]);
  const [mixes, setMixes] = useState<TrackMix[]>([]);
  const [playing, setPlaying] = useState(false);
  const [loop, setLoop] = useState(false);
  const [playheadTicks, setPlayheadTicks] = useState(0);
  const [frame, setFrame] = useState<number | null>(null);
  const [animating, setAnimating] = useState(false);

  /** Back to the top, not playing. */
  function rewind(): void {
    setPlaying(false);
    setPlayheadTicks(0);
  }

  /** Load this result into the (shared) player with `mix`. */
  async function take(mix: TrackMix[]): Promise<void> {
    player.onEnd = rewind;
    await player.load(score, mix);
    player.setLoop(loop);
  }

  useEffect(() => {
    const initial = score.tracks.map((track) => ({ muted: false, solo: false, volumeDb: 0, program: track.program }));
    setMixes(initial);
    setChosen(score.tracks.map(() => true));
    void take(initial);
    rewind();
    setFrame(null);
    setAnimating(false);
    return () => {
      player.stop();
      player.onEnd = null;
    };
  }, [score]);

  useEffect(() => {
    if (!playing) return;
    let handle = 0;
    const draw = () => {
      if (!player.holds(score)) {
        // Something else (the melody) took the player: this result is no longer playing.
        rewind();
        return;
      }
      setPlayheadTicks(secondsToTicks(player.positionSeconds, score));
      handle = requestAnimationFrame(draw);
    };
    handle = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(handle);
  }, [playing, score]);

  useEffect(() => {
    if (!animating || frame === null) return;
    const timer = window.setTimeout(() => {
      const next = frame + 1 < frames.length ? frame + 1 : null;
      setFrame(next);
      if (next === null) setAnimating(false);
    }, FRAME_MS);
    return () => window.clearTimeout(timer);
  }, [animating, frame, frames]);

  async function toggle(): Promise<void> {
    try {
      if (player.playing && player.holds(score)) {
        player.pause();
        setPlaying(false);
      } else {
        // The melody was played meanwhile: take the player back, with this result's mix.
        if (!player.holds(score)) await take(mixes);
        await player.play();
        setPlaying(true);
      }
    } catch (error) {
      showError(error);
    }
  }

  function stop(): void {
    if (player.holds(score)) player.stop();
    rewind();
  }

  async function useAsInput(): Promise<void> {
    const tracks = chosen.flatMap((keep, index) => (keep ? [index] : []));
    if (!tracks.length) {
      showError(new Error("Tick at least one track to use as the next input."));
      return;
    }
    const melody = await attempt(() => post<Melody>(`/api/compositions/${composition.id}/melody`, { tracks }));
    if (melody) onUseAsInput?.(melody);
  }

  function changeMix(index: number, change: Partial<TrackMix>): void {
    const next = mixes.map((mix, i) => (i === index ? { ...mix, ...change } : mix));
    setMixes(next);
    player.setMix(index, next[index]);
  }

  const soloing = mixes.some((mix) => mix.solo);
  const shown = frame !== null && frames[frame] ? frames[frame] : score;
  const base = `/api/compositions/${composition.id}`;
  return (
    <section class="panel result" aria-labelledby="result-title">
      <h2 id="result-title">{composition.title}</h2>
      <p class="meta">
        {composition.action} · {composition.model} · seed {composition.seed} · {composition.summary.bars} bars ·{" "}
        {composition.summary.duration_seconds.toFixed(1)} s
      </p>
      <div class="row transport">
        <button type="button" class="primary" onClick={() => void toggle()} aria-pressed={playing}>
          {playing ? "Pause" : "Play"}
        </button>
        <button type="button" onClick={stop}>
          Stop
        </button>
        <label>
          <input
            type="checkbox"
            checked={loop}
            onChange={(e) => {
              const value = (e.currentTarget as HTMLInputElement).checked;
              setLoop(value);
              player.setLoop(value);
            }}
          />{" "}
          Loop
        </label>
        {frames.length > 0 && (
          <span class="row">
            <button
              type="button"
              onClick={() => {
                setFrame(0);
                setAnimating(true);
              }}
              disabled={animating}
            >
              Show the edits
            </button>
            <label>
              Edit step{" "}
              <input
                type="range"
                min={0}
                max={frames.length - 1}
                value={frame ?? frames.length - 1}
                aria-label="Edit step"
                onInput={(e) => {
                  setAnimating(false);
                  setFrame(Number((e.currentTarget as HTMLInputElement).value));
                }}
              />
            </label>
            <span>{frame === null ? `${frames.length} edit steps` : `edit step ${frame + 1} of ${frames.length}`}</span>
          </span>
        )}
        <span class="spacer" />
        <a class="button" href={`${base}/midi`} download>
          Download MIDI
        </a>
        <ShareButton composition={composition} />
        {status?.audio
          ? (["wav", "ogg", "mp3"] as const).map((format) => (
              <a key={format} class="button" href={`${base}/audio/${format}`} download>
                {format.toUpperCase()}
              </a>
            ))
          : status && <span class="help">Audio downloads: {status.audio_missing}</span>}
      </div>
      {status?.audio && (
        <label class="rendered">
          Rendered by FluidSynth (General MIDI, the instruments of the file){" "}
          <audio controls preload="none" src={`${base}/audio/ogg`} aria-label="Rendered audio" />
        </label>
      )}
      <PianoRoll
        score={shown}
        label={`Composition ${composition.title}`}
        playheadTicks={playheadTicks}
        hiddenTracks={mixes.map((mix) => mix.muted || (soloing && !mix.solo))}
        heightPx={300}
      />
      <table class="tracks">
        <thead>
          <tr>
            <th scope="col">Track</th>
            <th scope="col">Notes</th>
            <th scope="col">Mute</th>
            <th scope="col">Solo</th>
            <th scope="col">Instrument</th>
            <th scope="col">Volume</th>
            {onUseAsInput && <th scope="col">Next input</th>}
          </tr>
        </thead>
        <tbody>
          {score.tracks.map((track, index) => {
            const mix = mixes[index];
            if (!mix) return null;
            return (
              <tr key={index} class="track-row">
                <td>
                  <span class="swatch" style={{ background: TRACK_COLOURS[index % TRACK_COLOURS.length] }} />
                  <span class="track-name">{track.name || `Track ${index + 1}`}</span>
                  <small> {track.role}</small>
                </td>
                <td>{track.notes.length}</td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Mute ${track.name}`}
                    checked={mix.muted}
                    onChange={(e) => changeMix(index, { muted: (e.currentTarget as HTMLInputElement).checked })}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Solo ${track.name}`}
                    checked={mix.solo}
                    onChange={(e) => changeMix(index, { solo: (e.currentTarget as HTMLInputElement).checked })}
                  />
                </td>
                <td>
                  {track.is_drum ? (
                    "Drums"
                  ) : (
                    <select
                      aria-label={`Instrument of ${track.name}`}
                      value={String(Math.floor(mix.program / 8) * 8)}
                      onChange={(e) =>
                        changeMix(index, { program: Number((e.currentTarget as HTMLSelectElement).value) })
                      }
                    >
                      {GM_FAMILIES.map((family) => (
                        <option key={family.program} value={String(family.program)}>
                          {family.name}
                        </option>
                      ))}
                    </select>
                  )}
                </td>
                <td>
                  <input
                    type="range"
                    min={-40}
                    max={6}
                    value={mix.volumeDb}
                    aria-label={`Volume of ${track.name} (dB)`}
                    onInput={(e) => changeMix(index, { volumeDb: Number((e.currentTarget as HTMLInputElement).value) })}
                  />
                </td>
                {onUseAsInput && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Use ${track.name || `track ${index + 1}`} in the next input`}
                      checked={chosen[index] ?? true}
                      onChange={(e) =>
                        setChosen(
                          chosen.map((keep, i) => (i === index ? (e.currentTarget as HTMLInputElement).checked : keep)),
                        )
                      }
                    />
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {onUseAsInput && (
        <div class="row">
          <button type="button" onClick={() => void useAsInput()}>
            Use as the next input
          </button>
          <span class="help">The ticked tracks become the input: pick any technique and model and generate again.</span>
        </div>
      )}
    </section>
  );
}
