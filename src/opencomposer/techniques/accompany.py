"""Accompany: a melody in, the melody plus the accompaniment tracks a trained GAN makes for it.

The pipeline (inference only: no training, no file writes):

1. The melody track is found (`music.transform.melody_track`) and kept exactly as given: it is the first
   track of the result (AWS DeepComposer regenerated it; OpenComposer does not).
2. Its notes are drawn as a roll on the model's grid; when they do not fit the model's pitch range they
   are moved by whole octaves for the model's eyes only, and the accompaniment is moved back.
3. A melody of any length is cut into windows of the model's size that overlap by half, and every window
   gets the same noise, so the style stays the same from one window to the next.
4. The windows' outputs are blended where they overlap (each weighted by its distance from its own
   edges), so no seam clicks, then thresholded into notes (the threshold asked for, scaled per track by
   the model's calibration when its card has one): at most as many at once per track as the model's
   training data had, one-step gaps inside a note filled and notes shorter than the shortest
   note asked for dropped.
5. Each output track gets its name from the model and its General MIDI program from the model or the
   ensemble asked for.

torch is imported when a model is loaded, not with this module: the parameters declared here feed the
command line's flags, which must come up quickly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from opencomposer.music.pianoroll import RollSpec, from_roll, to_roll
from opencomposer.music.score import Note, Score, Track
from opencomposer.music.transform import melody_track
from opencomposer.registry import ModelEntry, get_model, load_weights
from opencomposer.techniques.base import (
    SEED,
    Generation,
    Param,
    Technique,
    Verb,
    check_time_budget,
    validate_params,
)

ENSEMBLES: dict[str, tuple[int, ...]] = {
    "piano": (0, 0, 0, 0),
    "strings": (40, 40, 41, 42),  # violin, violin, viola, cello
    "brass": (56, 60, 57, 58),  # trumpet, French horn, trombone, tuba
    "woodwinds": (73, 68, 71, 70),  # flute, oboe, clarinet, bassoon
    "organ": (19, 19, 19, 19),
    "choir": (52, 52, 52, 52),
    "guitar": (25, 24, 24, 33),  # steel guitar, nylon guitars, fingered electric bass
    "synth": (81, 89, 88, 38),  # saw lead, warm pad, new-age pad, synth bass
}
"""General MIDI programs of each ensemble, highest part first; n tracks take the lowest n parts."""

SHORTEST_NOTE_BEATS = {"16th": 0.25, "8th": 0.5, "quarter": 1.0}

BARS = Param(
    "bars",
    "int",
    0,
    "How many bars (of the melody's time signature) to accompany, from its start; 0 accompanies all of it.",
    minimum=0,
    maximum=1024,
    unit="bars",
)
INSTRUMENTS = Param(
    "instruments",
    "choice",
    "model",
    "The instruments that play the accompaniment: those the model learnt with, or an ensemble.",
    choices=("model", *ENSEMBLES),
)
THRESHOLD = Param(
    "threshold",
    "float",
    0.5,
    "How sure the model must be to play a note: lower plays more notes, higher fewer and safer ones.",
    minimum=0.05,
    maximum=0.95,
)
SHORTEST_NOTE = Param(
    "shortest_note",
    "choice",
    "8th",
    "The shortest accompaniment note kept; shorter fragments are dropped.",
    choices=tuple(SHORTEST_NOTE_BEATS),
)


class Accompany(Technique):
    """Accompany a melody with a trained GAN (U-Net or MuseGAN generator).

    Parameters
    ----------
    entry
        The model, from `opencomposer.registry.get_model`.
    """

    name: ClassVar[str] = "accompany"
    title: ClassVar[str] = "Accompany"
    description: ClassVar[str] = (
        "Adds accompaniment tracks to a melody, in the style of the music the model learnt from; "
        "the melody is kept exactly as played."
    )
    params: ClassVar[tuple[Param, ...]] = (BARS, INSTRUMENTS, THRESHOLD, SHORTEST_NOTE)
    verbs: ClassVar[tuple[Verb, ...]] = (
        Verb(
            "accompany",
            "Add accompaniment tracks to a melody with a GAN model; the melody is kept exactly as given.",
        ),
    )
    default_model: ClassVar[str] = "bach-chorale-unet"
    input_help: ClassVar[str] = (
        "A sample melody's name (see `opencomposer melodies list`, for example twinkle) or a MIDI or MusicXML file."
    )

    def __init__(self, entry: ModelEntry) -> None:
        from opencomposer.models import build_generator, generator_config

        card = entry.card
        self.entry = entry
        self.card = card
        self.roll = RollSpec(card.roll["steps_per_beat"], card.roll["low_pitch"], card.roll["high_pitch"])
        self.generator = build_generator(generator_config(card.architecture, card.config))
        self.generator.load_state_dict(load_weights(entry))
        self.generator.eval()
        self.window_steps = card.bars * 4 * self.roll.steps_per_beat
        self.output_tracks = [card.tracks[index] for index in card.generated_tracks if index != card.melody_index]
        # The generator's output channels that carry accompaniment (the lab's model also remakes the melody).
        self.output_channels = [
            channel for channel, index in enumerate(card.generated_tracks) if index != card.melody_index
        ]
        polyphony = card.decoding.get("max_polyphony")
        self.max_polyphony = [int(polyphony[channel]) for channel in self.output_channels] if polyphony else None
        # A track the model is unsure about (a pop song's second line) may have its own threshold at the
        # default setting, calibrated on the valid split; other settings scale it alike.
        calibrated = card.decoding.get("thresholds", {})
        self.threshold_scales = np.array(
            [
                float(calibrated.get(str(slot["name"]), THRESHOLD.default)) / float(THRESHOLD.default)
                for slot in self.output_tracks
            ]
        )

    @classmethod
    def from_model(cls, name: str) -> Accompany:
        """Load the model called `name` (or a model card's path); raises `UnknownNameError` when unknown."""
        return cls(get_model(name))

    def _generate(self, score: Score, params: Mapping[str, object], seed: int) -> Generation:
        """Accompany the melody of `score`; see the module docstring for the steps."""
        values = validate_params(self.params, params)
        seed = int(SEED.validate(seed))
        melody = score.tracks[melody_track(score)]
        steps_per_beat = self.roll.steps_per_beat
        # Bars of the melody's own time signature (the model's windows are 4/4, but a 3/4 tune counts in 3/4).
        steps_per_bar = max(1, round(score.ticks_per_bar * steps_per_beat / score.resolution))
        shift = _octave_shift([note.pitch for note in melody.notes], self.roll)
        moved = melody.with_notes([note._replace(pitch=note.pitch + shift) for note in melody.notes])
        melody_roll = to_roll(score.with_tracks([moved]), self.roll)[0] > 0  # (steps, pitches)
        bars = int(values["bars"]) or max(1, math.ceil(len(melody_roll) / steps_per_bar))
        n_steps = bars * steps_per_bar
        melody_roll = _fit(melody_roll, n_steps)

        probabilities, n_windows = self._probabilities(melody_roll, seed)  # (tracks, n_steps, pitches)
        min_steps = max(1, round(SHORTEST_NOTE_BEATS[str(values["shortest_note"])] * steps_per_beat))
        thresholds = np.clip(float(values["threshold"]) * self.threshold_scales, 0.0, 1.0)
        notes_roll = decode(probabilities, thresholds, min_steps, self.max_polyphony)
        tracks = self._tracks(notes_roll, score, melody, shift, str(values["instruments"]))
        result = score.with_tracks([melody, *tracks])
        info: dict[str, float | int | str] = {
            "model": self.card.name,
            "windows": n_windows,
            "octave_shift": -shift,
            "notes": sum(len(track.notes) for track in tracks),
        }
        return Generation(score=result, info=info)

    def describe(self, given: Score, generation: Generation, seed: int) -> str:
        """The melody's track and the accompaniment's, each with its instrument, and the size of the result."""
        from opencomposer.music.instruments import program_to_name

        result = generation.score
        parts = ", ".join(f"{track.name} ({program_to_name(track.program)})" for track in result.tracks[1:])
        return (
            f"{result.tracks[0].name!r} and {parts}; {result.n_notes} notes in {result.n_bars} bars "
            f"(model {self.card.name}, seed {seed})."
        )

    def _probabilities(self, melody_roll: npt.NDArray[np.bool_], seed: int) -> tuple[npt.NDArray[np.float32], int]:
        """The generator's blended output over the whole melody: (tracks, steps, pitches) in [0, 1]."""
        import torch

        window, n_steps = self.window_steps, len(melody_roll)
        hop = max(1, window // 2)
        starts = list(range(0, max(n_steps - window, 0) + hop, hop))  # the last window reaches n_steps
        padded = _fit(melody_roll, starts[-1] + window)
        batch = np.stack([padded[start : start + window] for start in starts])  # (W, T, P)
        melody = torch.from_numpy(batch[:, None].astype(np.float32) * 2.0 - 1.0)  # (W, 1, T, P)
        noise_shape = tuple(self.generator.noise_shape)
        noise = torch.randn((1, *noise_shape), generator=torch.Generator().manual_seed(seed))
        with torch.inference_mode():
            generated = self.generator(melody, noise.expand(len(starts), *noise_shape))  # (W, N, T, P)
        check_time_budget()
        output = ((generated[:, self.output_channels] + 1.0) / 2.0).numpy()

        # Triangular weights, largest mid-window: overlapping windows cross-fade instead of cutting.
        weights = np.minimum(np.arange(1, window + 1), np.arange(window, 0, -1)).astype(np.float32)
        total = np.zeros((output.shape[1], len(padded), padded.shape[1]), dtype=np.float32)
        weight_sum = np.zeros(len(padded), dtype=np.float32)
        for index, start in enumerate(starts):
            total[:, start : start + window] += output[index] * weights[None, :, None]
            weight_sum[start : start + window] += weights
        blended = (total / weight_sum[None, :, None])[:, :n_steps].astype(np.float32)
        return blended, len(starts)

    def _tracks(
        self, notes_roll: npt.NDArray[np.bool_], score: Score, melody: Track, shift: int, instruments: str
    ) -> list[Track]:
        programs = [int(slot["program"]) for slot in self.output_tracks]
        if instruments != "model":
            ensemble = ENSEMBLES[instruments]
            programs = [ensemble[max(0, len(ensemble) - len(programs) + i)] for i in range(len(programs))]
        templates = [
            Track(name=str(slot["name"]), program=program, role="accompaniment")
            for slot, program in zip(self.output_tracks, programs, strict=True)
        ]
        velocity = int(np.clip(np.mean([note.velocity for note in melody.notes] or [80]) - 10, 40, 110))
        # from_roll needs a whole number of ticks per step: work at a multiple of the score's resolution.
        factor = 1 if score.resolution % self.roll.steps_per_beat == 0 else self.roll.steps_per_beat
        made = from_roll(
            notes_roll, self.roll, tracks=templates, resolution=score.resolution * factor, velocity=velocity
        )
        if shift == 0 and factor == 1:
            return list(made.tracks)
        tracks = []
        for track in made.tracks:
            notes = [
                Note(note.pitch - shift, note.start // factor, max(1, note.duration // factor), note.velocity)
                for note in track.notes
                if 0 <= note.pitch - shift <= 127
            ]
            tracks.append(track.with_notes(notes))
        return tracks


def _fit(roll: npt.NDArray[np.bool_], n_steps: int) -> npt.NDArray[np.bool_]:
    """`roll` cut or padded with silence to `n_steps` steps."""
    if len(roll) >= n_steps:
        return roll[:n_steps]
    return np.pad(roll, ((0, n_steps - len(roll)), (0, 0)))


def _octave_shift(pitches: list[int], roll: RollSpec) -> int:
    """The whole-octave shift (semitones) that brings the most pitches into the roll's range, smallest first."""
    if not pitches:
        return 0
    values = np.asarray(pitches)

    def inside(shift: int) -> int:
        return int(np.count_nonzero((values + shift >= roll.low_pitch) & (values + shift <= roll.high_pitch)))

    return max((12 * k for k in range(-5, 6)), key=lambda shift: (inside(shift), -abs(shift)))


def decode(
    probabilities: npt.NDArray[np.floating],
    threshold: float | npt.NDArray[np.floating],
    min_steps: int,
    max_polyphony: list[int] | None = None,
) -> npt.NDArray[np.bool_]:
    """Turn note probabilities (tracks, steps, pitches) into a binary roll of playable notes.

    A cell sounds when its probability is at least `threshold` (one for all tracks, or one per track);
    where a track has more sounding cells at
    one step than its `max_polyphony`, only the most probable stay. Then, per pitch, silent gaps shorter
    than `min_steps` between two sounding runs are filled, and runs shorter than `min_steps` dropped.
    """
    on = probabilities >= np.reshape(threshold, (-1, 1, 1))
    if max_polyphony is not None:
        ranks = np.argsort(np.argsort(-probabilities, axis=2), axis=2)  # 0 = most probable pitch at the step
        limits = np.asarray(max_polyphony, dtype=np.int64)[:, None, None]
        on &= ranks < limits
    if min_steps <= 1:
        return on
    return _drop_short_runs(~_drop_short_runs(~on, min_steps, keep_edges=True), min_steps, keep_edges=False)


def _drop_short_runs(on: npt.NDArray[np.bool_], min_steps: int, *, keep_edges: bool) -> npt.NDArray[np.bool_]:
    """Clear the runs of True shorter than `min_steps` along axis 1; with `keep_edges`, runs touching an end stay."""
    tracks, steps, pitches = on.shape
    flat = np.moveaxis(on, 1, 2).reshape(-1, steps)  # (tracks * pitches, steps)
    padded = np.pad(flat, ((0, 0), (1, 1)))
    edges = np.diff(padded.astype(np.int8), axis=1)
    rows, begins = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    short = (ends - begins) < min_steps
    if keep_edges:
        short &= (begins > 0) & (ends < steps)
    out = flat.copy()
    for row, begin, end in zip(rows[short].tolist(), begins[short].tolist(), ends[short].tolist(), strict=True):
        out[row, begin:end] = False
    return np.moveaxis(out.reshape(tracks, pitches, steps), 2, 1)
