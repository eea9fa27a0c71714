"""Piano rolls: the one bridge between notes and tensors.

A roll is a `uint8` array of shape (tracks, steps, pitches) with three values per cell:

- `OFF` (0): silent,
- `ONSET` (2): a note starts at this step,
- `HOLD` (1): a note that started earlier is still sounding.

Keeping the onset in the same cell (rather than in a second channel) lets `from_roll` tell a held
note from the same pitch struck again on every step, so both survive a round trip; `roll > 0` is the
plain binary roll that most models read. A step is `1 / steps_per_beat` of a quarter note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opencomposer.music.score import DEFAULT_TEMPO_QPM, Note, Score, Track

OFF, HOLD, ONSET = 0, 1, 2

RollArray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class RollSpec:
    """How a roll samples time and pitch.

    Parameters
    ----------
    steps_per_beat
        Time steps per quarter note (4 gives 16th notes).
    low_pitch, high_pitch
        The lowest and highest MIDI pitch in the roll, both included.
    """

    steps_per_beat: int = 4
    low_pitch: int = 0
    high_pitch: int = 127

    def __post_init__(self) -> None:
        if self.steps_per_beat <= 0:
            raise ValueError(f"steps_per_beat must be positive, not {self.steps_per_beat}.")
        if not 0 <= self.low_pitch <= self.high_pitch <= 127:
            raise ValueError(f"pitch range {self.low_pitch}-{self.high_pitch} is not inside 0-127.")

    @property
    def n_pitches(self) -> int:
        """Number of pitch rows in the roll."""
        return self.high_pitch - self.low_pitch + 1

    def ticks_to_steps(self, ticks: int | npt.NDArray[np.int64], resolution: int) -> npt.NDArray[np.int64]:
        """Convert ticks to the nearest step (half a step rounds up)."""
        return np.floor(np.asarray(ticks, dtype=np.float64) * self.steps_per_beat / resolution + 0.5).astype(np.int64)

    def steps_per_bar(self, time_signature: tuple[int, int] = (4, 4)) -> int:
        """Steps in one bar; raises `ValueError` when a bar is not a whole number of steps."""
        numerator, denominator = time_signature
        steps = self.steps_per_beat * 4 * numerator / denominator
        if steps != int(steps):
            raise ValueError(
                f"A {numerator}/{denominator} bar is not a whole number of steps at {self.steps_per_beat} per beat."
            )
        return int(steps)


def to_roll(score: Score, spec: RollSpec, n_steps: int | None = None) -> RollArray:
    """Render a score as a roll of shape (tracks, steps, pitches), values `OFF`, `HOLD`, `ONSET`.

    Parameters
    ----------
    score
        The score; each track becomes one channel, in order.
    spec
        Time and pitch sampling.
    n_steps
        Length of the roll in steps; notes past it are cut. Default: just long enough for every note.

    Notes outside the spec's pitch range are dropped. A note shorter than one step still takes one
    step. Overlapping notes on one pitch merge into one sounding run that keeps both onsets.
    """
    if n_steps is not None and n_steps < 0:
        raise ValueError(f"n_steps must be zero or more, not {n_steps}.")
    tracks_idx, starts, ends, pitches = _note_arrays(score, spec)
    if n_steps is None:
        n_steps = int(ends.max()) if ends.size else 0
    keep = starts < n_steps
    tracks_idx, starts, ends, pitches = tracks_idx[keep], starts[keep], np.minimum(ends[keep], n_steps), pitches[keep]
    out = np.zeros((len(score.tracks), n_steps, spec.n_pitches), dtype=np.uint8)
    # Sounding runs by a difference array (+1 at each onset, -1 at each end, then a running sum), kept to
    # the (track, pitch) rows that hold notes: most of a roll's pitches are silent.
    rows, row_of_note = np.unique(tracks_idx * spec.n_pitches + pitches, return_inverse=True)
    changes = np.zeros((rows.size, n_steps + 1), dtype=np.int32)
    np.add.at(changes, (row_of_note, starts), 1)
    np.add.at(changes, (row_of_note, ends), -1)
    sounding = np.cumsum(changes[:, :n_steps], axis=1) > 0  # (rows, steps)
    row_tracks, row_pitches = np.divmod(rows, spec.n_pitches)
    out[row_tracks, :, row_pitches] = sounding  # HOLD where sounding
    out[tracks_idx, starts, pitches] = ONSET
    return out


def _note_arrays(
    score: Score, spec: RollSpec
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Track index, start step, end step (exclusive) and pitch row of every note inside the range."""
    counts = [len(track.notes) for track in score.tracks]
    total = sum(counts)
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    table = np.array([note[:3] for track in score.tracks for note in track.notes], dtype=np.int64).reshape(total, 3)
    tracks_idx = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    pitch, start_ticks, duration_ticks = table[:, 0], table[:, 1], table[:, 2]
    starts = spec.ticks_to_steps(start_ticks, score.resolution)
    ends = np.maximum(spec.ticks_to_steps(start_ticks + duration_ticks, score.resolution), starts + 1)
    inside = (pitch >= spec.low_pitch) & (pitch <= spec.high_pitch) & (starts >= 0)
    return tracks_idx[inside], starts[inside], ends[inside], pitch[inside] - spec.low_pitch


def from_roll(
    roll: npt.NDArray[np.generic],
    spec: RollSpec,
    *,
    tracks: Sequence[Track] | None = None,
    resolution: int = 480,
    tempo: float = DEFAULT_TEMPO_QPM,
    time_signature: tuple[int, int] = (4, 4),
    velocity: int = 80,
) -> Score:
    """Turn a roll of shape (tracks, steps, pitches) back into a score.

    Parameters
    ----------
    roll
        Either a roll from `to_roll` (`OFF`/`HOLD`/`ONSET`, any integer dtype), where an `ONSET` starts
        a new note even inside a sounding run, or a boolean / 0-1 roll, where each unbroken run is one
        note. Any other non-zero value counts as sounding.
    spec
        The spec the roll was made with.
    tracks
        Templates giving each channel its name, program, drum flag and role (their notes are ignored).
        Default: unnamed piano tracks.
    resolution, tempo, time_signature
        Of the new score.
    velocity
        The velocity of every note.
    """
    roll = np.asarray(roll)
    if roll.ndim != 3 or roll.shape[2] != spec.n_pitches:
        raise ValueError(f"Expected a roll of shape (tracks, steps, {spec.n_pitches}), got {roll.shape}.")
    n_tracks = roll.shape[0]
    templates = list(tracks) if tracks is not None else [Track(name=f"Track {i + 1}") for i in range(n_tracks)]
    if len(templates) != n_tracks:
        raise ValueError(f"The roll has {n_tracks} tracks but {len(templates)} track templates were given.")
    if resolution % spec.steps_per_beat:
        raise ValueError(f"resolution {resolution} is not a multiple of steps_per_beat {spec.steps_per_beat}.")
    ticks_per_step = resolution // spec.steps_per_beat

    # Work on (tracks, pitches, steps) so np.nonzero lists each pitch's events in time order.
    sounding = np.moveaxis(np.greater(roll, 0), 1, 2)
    # Any integer dtype may carry onsets: a roll from `to_roll` that went through torch comes back as int64.
    onset = np.moveaxis(roll == ONSET, 1, 2) if np.issubdtype(roll.dtype, np.integer) else np.zeros_like(sounding)
    padded = np.pad(sounding, ((0, 0), (0, 0), (1, 1)))
    begins = sounding & (onset | ~padded[:, :, :-2])
    # A run ends before a step that is silent or that starts a new note.
    next_begins = np.pad(begins[:, :, 1:], ((0, 0), (0, 0), (0, 1)))
    finishes = sounding & (~padded[:, :, 2:] | next_begins)
    t_idx, p_idx, start_steps = np.nonzero(begins)
    end_steps = np.nonzero(finishes)[2] + 1
    notes_by_track: list[list[Note]] = [[] for _ in range(n_tracks)]
    for track, pitch, start, end in zip(
        t_idx.tolist(), p_idx.tolist(), start_steps.tolist(), end_steps.tolist(), strict=True
    ):
        notes_by_track[track].append(
            Note(pitch + spec.low_pitch, start * ticks_per_step, (end - start) * ticks_per_step, velocity)
        )
    return Score(
        resolution=resolution,
        tempo=tempo,
        time_signature=time_signature,
        tracks=tuple(template.with_notes(notes) for template, notes in zip(templates, notes_by_track, strict=True)),
    )
