"""Edit, harmonize and inpaint: an AR-CNN rewrites a four-voice score by annealed Gibbs sampling.

The pipeline (inference only: no training, no file writes):

1. The score's voices are found: tracks named like the model's voices (Soprano, Alto, ...) take their
   places; without a soprano the melody track (`music.transform.melody_track`) is the soprano, and the
   other pitched tracks, highest first, fill the voices still missing. A plain melody is thus a soprano
   over empty voices.
2. Each voice becomes one class per 16th-note step (its highest sounding pitch, or silence), on the
   model's pitch range; the whole score moves by whole octaves for the model's eyes when that fits it
   better, and a note still outside the range is folded in by octaves.
3. The mode chooses the cells the sampler may redraw: every cell of the lower voices (`harmonize`; the
   soprano is kept exactly), the chosen voices in the chosen bars (`inpaint`; all the rest is kept), or
   every cell under a budget (`edit`: at most the given share of the input's notes removed, at most the
   given number of notes added; after every iteration changes beyond the budget are undone, those kept
   at the previous iteration first). A note here is a run of one pitch in one voice.
4. Annealed blocked Gibbs sampling (`models.arcnn.gibbs_sample`) runs over the whole piece at once: the
   network is fully convolutional over time, so a piece of any length needs no windows. With
   ``parallels="avoid"`` (the default) a note that would make parallel fifths or octaves with another
   voice is made much less likely at each draw (`PARALLEL_PENALTY`); "allow" hears the network alone.
5. Runs equal to an input note come out as the input's own notes (timing and velocity untouched); new
   runs become notes on the 16th-note grid. Tracks not used as voices (drums, extra parts) are kept.
   Up to `MAX_FRAMES` intermediate scores, evenly spaced over the iterations, are returned for the UI.

torch is imported when a model is loaded, not with this module: the parameters declared here feed the
command line's flags, which must come up quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from opencomposer.errors import ParameterError
from opencomposer.music.pianoroll import RollSpec, to_roll
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

if TYPE_CHECKING:
    import torch

MAX_FRAMES = 30
EDIT_START_SHARE = 0.5
"""Share of the cells first redrawn in edit mode: the other half of the input stays visible as context."""

Run = tuple[int, int, int, int]
"""A note on the grid: (voice, start step, end step (exclusive), class)."""

VOICE_CHOICES: dict[str, tuple[int, ...]] = {
    "all": (0, 1, 2, 3),
    "soprano": (0,),
    "alto": (1,),
    "tenor": (2,),
    "bass": (3,),
    "lower three": (1, 2, 3),
}
"""Voices (0 = soprano) that inpainting regenerates, by choice."""

MODE = Param(
    "mode",
    "choice",
    "harmonize",
    "edit rewrites notes within the limits below; harmonize keeps the melody and writes the other voices; "
    "inpaint rewrites only the chosen bars and voices.",
    choices=("edit", "harmonize", "inpaint"),
)
MAX_REMOVE = Param(
    "max_remove_percent",
    "float",
    50.0,
    "Edit mode: the largest share of the input's notes the model may remove or change.",
    minimum=0.0,
    maximum=100.0,
    unit="%",
    modes=("edit",),
)
MAX_ADD = Param(
    "max_add_notes",
    "int",
    100,
    "Edit mode: the most notes the model may add.",
    minimum=0,
    maximum=10_000,
    unit="notes",
    modes=("edit",),
)
ITERATIONS = Param(
    "iterations",
    "int",
    100,
    "Sampling iterations: more let the model revise its choices longer, for smoother voice leading.",
    minimum=1,
    maximum=1000,
    unit="iterations",
)
CREATIVE_RISK = Param(
    "creative_risk",
    "float",
    0.6,
    "How adventurous the notes are: lower plays safe, 1 samples the model as trained, above 1 takes more "
    "surprising choices.",
    minimum=0.1,
    maximum=4.0,
)
PARALLELS = Param(
    "parallels",
    "choice",
    "avoid",
    "avoid: the sampler steers away from parallel fifths and octaves between the voices, as counterpoint "
    "teaching asks; allow: every note comes from the model alone, parallels and all.",
    choices=("avoid", "allow"),
)
PARALLEL_PENALTY = {"avoid": 10.0, "allow": 0.0}
"""Nats taken from a note's logit for each parallel fifth or octave it would make (`gibbs_sample`). Chosen
on 20 chorales of the jsb-satb valid split with the 1.02 M-parameter bach-arcnn of 2026-12-02: 6 nats left
parallel octaves at 3.7 times Bach's rate there, 10 left none and fifths below his, at the same similarity
index. With the current bach-arcnn, 10 nats leave the 77 test chorales near Bach's own rates (0.21 fifths
and 0.18 octaves per 100 transitions against his 0.22 and 0.11)."""
START_BAR = Param(
    "start_bar",
    "int",
    1,
    "Inpaint mode: the first bar to rewrite (the piece's first bar is 1).",
    minimum=1,
    maximum=1024,
    unit="bars",
    modes=("inpaint",),
)
INPAINT_BARS = Param(
    "inpaint_bars",
    "int",
    2,
    "Inpaint mode: how many bars to rewrite from the start bar.",
    minimum=1,
    maximum=1024,
    unit="bars",
    modes=("inpaint",),
)
VOICES = Param(
    "voices",
    "choice",
    "all",
    "Inpaint mode: which voices to rewrite in those bars.",
    choices=tuple(VOICE_CHOICES),
    modes=("inpaint",),
)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A score read into the model's grid."""

    classes: npt.NDArray[np.int64]  # (voices, steps)
    tracks: list[Track | None]  # the input track of each voice, or None
    others: list[Track]  # tracks that are not voices
    originals: dict[Run, list[Note]]  # the input notes behind each input run
    shift: int  # semitones the score was moved for the model
    steps_per_bar: int


class Edit(Technique):
    """Edit, harmonize or inpaint a score with a trained AR-CNN.

    Parameters
    ----------
    entry
        The model, from `opencomposer.registry.get_model`.
    """

    name: ClassVar[str] = "edit"
    title: ClassVar[str] = "Edit (AR-CNN)"
    description: ClassVar[str] = (
        "Rewrites a melody or a four-voice score like a Bach chorale: harmonizes a melody, edits notes that "
        "sound out of place, or fills in chosen bars, revising its choices over many iterations."
    )
    params: ClassVar[tuple[Param, ...]] = (
        MODE,
        START_BAR,
        INPAINT_BARS,
        VOICES,
        MAX_REMOVE,
        MAX_ADD,
        ITERATIONS,
        CREATIVE_RISK,
        PARALLELS,
    )
    verbs: ClassVar[tuple[Verb, ...]] = (
        Verb(
            "edit",
            "Rewrite a melody or score with an AR-CNN: notes that sound out of place are removed or changed and "
            "missing ones added, within the limits given.",
            mode="edit",
        ),
        Verb(
            "harmonize",
            "Harmonize a melody in four voices with an AR-CNN; the melody is kept exactly as given.",
            mode="harmonize",
        ),
        Verb(
            "inpaint",
            "Rewrite only the chosen bars (and voices) of a score with an AR-CNN; the rest stays as it was.",
            mode="inpaint",
        ),
    )
    default_model: ClassVar[str] = "bach-arcnn"
    input_help: ClassVar[str] = (
        "A sample melody's name (see `opencomposer melodies list`) or a MIDI or MusicXML file: a melody "
        "or a score of up to four voices."
    )

    def __init__(self, entry: ModelEntry) -> None:
        from opencomposer.models.arcnn import Arcnn, ArcnnConfig

        card = entry.card
        self.entry = entry
        self.card = card
        self.roll = RollSpec(card.roll["steps_per_beat"], card.roll["low_pitch"], card.roll["high_pitch"])
        self.model = Arcnn(ArcnnConfig(**card.config))
        self.model.load_state_dict(load_weights(entry))
        self.model.eval()
        self.voice_slots = list(card.tracks)
        self.rest = self.model.config.rest_class

    @classmethod
    def from_model(cls, name: str) -> Edit:
        """Load the model called `name` (or a model card's path); raises `UnknownNameError` when unknown."""
        return cls(get_model(name))

    def _generate(self, score: Score, params: Mapping[str, object], seed: int) -> Generation:
        """Edit, harmonize or inpaint `score`; see the module docstring for the steps."""
        import torch

        from opencomposer.models.arcnn import gibbs_sample

        values = validate_params(self.params, params)
        seed = int(SEED.validate(seed))
        mode = str(values["mode"])
        iterations = int(values["iterations"])
        piece = self._read(score)
        voices, n_steps = piece.classes.shape
        changeable = np.zeros((voices, n_steps), dtype=bool)
        project: Callable[[torch.Tensor], torch.Tensor] | None = None
        start_share = 1.0
        generator = torch.Generator().manual_seed(seed)
        if mode == "harmonize":
            changeable[1:] = True
        elif mode == "inpaint":
            changeable[self._inpaint_cells(values, piece, n_steps)] = True
        else:
            n_input = len(runs(piece.classes, self.rest))
            budget = Budget(
                piece.classes,
                self.rest,
                max_removed=int(float(values["max_remove_percent"]) / 100.0 * n_input),
                max_added=int(values["max_add_notes"]),
                generator=generator,
            )
            changeable[:] = True
            project = budget
            start_share = EDIT_START_SHARE
        keep = set(np.unique(np.linspace(0, iterations - 1, min(MAX_FRAMES, iterations)).round().astype(int)))
        states: list[npt.NDArray[np.int64]] = []

        def record(iteration: int, state: torch.Tensor) -> None:
            check_time_budget()
            if iteration in keep:
                states.append(state.numpy().copy())

        result = gibbs_sample(
            self.model,
            torch.from_numpy(piece.classes),
            torch.from_numpy(changeable),
            iterations=iterations,
            temperature=float(values["creative_risk"]),
            generator=generator,
            project=project,
            on_iteration=record,
            max_share=start_share,
            parallel_penalty=PARALLEL_PENALTY[str(values["parallels"])],
        ).numpy()
        keep_soprano = mode == "harmonize"
        frames = tuple(self._score(state, piece, score, keep_soprano) for state in states[:-1])
        final = self._score(result, piece, score, keep_soprano)
        before, after = set(runs(piece.classes, self.rest)), set(runs(result, self.rest))
        removed, added = before - after, after - before
        info: dict[str, float | int | str] = {
            "model": self.card.name,
            "mode": mode,
            "iterations": iterations,
            "notes_removed": len(removed),
            "notes_added": len(added),
            "notes_changed": sum(1 for note in removed if any(_overlap(note, new) for new in added)),
            "octave_shift": -piece.shift,
        }
        return Generation(score=final, frames=(*frames, final), info=info)

    def describe(self, given: Score, generation: Generation, seed: int) -> str:
        """The result's voices, the notes added and removed, and its length in bars."""
        info = generation.info
        return (
            f"{', '.join(track.name for track in generation.score.tracks)}; {info['notes_added']} notes added, "
            f"{info['notes_removed']} removed, in {generation.score.n_bars} bars (model {self.card.name}, seed {seed})."
        )

    def _inpaint_cells(
        self, values: Mapping[str, object], piece: _Piece, n_steps: int
    ) -> tuple[npt.NDArray[np.int64], slice]:
        n_bars = n_steps // piece.steps_per_bar
        start_bar = int(str(values["start_bar"]))
        if start_bar > n_bars:
            raise ParameterError(
                f"start_bar {start_bar} is past the end of the piece, which has {n_bars} bar(s); choose a bar "
                f"from 1 to {n_bars}."
            )
        first = (start_bar - 1) * piece.steps_per_bar
        last = min(n_steps, first + int(str(values["inpaint_bars"])) * piece.steps_per_bar)
        chosen = [voice for voice in VOICE_CHOICES[str(values["voices"])] if voice < len(piece.tracks)]
        return np.asarray(chosen, dtype=np.int64)[:, None], slice(first, last)

    def _read(self, score: Score) -> _Piece:
        """Find the voices of `score` and draw them on the model's grid."""
        voices = len(self.voice_slots)
        assigned: list[Track | None] = [None] * voices
        names = [str(slot["name"]).lower() for slot in self.voice_slots]
        by_name = {track.name.lower(): track for track in score.tracks if not track.is_drum}
        for index, name in enumerate(names):
            assigned[index] = by_name.get(name)
        if assigned[0] is None:
            assigned[0] = score.tracks[melody_track(score)]
        used = {id(track) for track in assigned if track is not None}
        # Voices not found by name: the other pitched tracks, highest first.
        spare = sorted(
            (track for track in score.tracks if not track.is_drum and track.notes and id(track) not in used),
            key=_mean_pitch,
            reverse=True,
        )
        for index in range(voices):
            if assigned[index] is None and spare:
                assigned[index] = spare.pop(0)
        used = {id(track) for track in assigned if track is not None}
        others = [track for track in score.tracks if id(track) not in used]
        steps_per_beat = self.roll.steps_per_beat
        steps_per_bar = max(1, round(score.ticks_per_bar * steps_per_beat / score.resolution))
        notes = [note for track in assigned if track is not None for note in track.notes]
        shift = _octave_shift([note.pitch for note in notes], self.roll)
        end_step = int(self.roll.ticks_to_steps(max((note.end for note in notes), default=1), score.resolution))
        n_steps = max(1, -(-end_step // steps_per_bar)) * steps_per_bar
        classes = np.full((voices, n_steps), self.rest, dtype=np.int64)
        originals: dict[Run, list[Note]] = {}
        for voice, track in enumerate(assigned):
            if track is None:
                continue
            folded = track.with_notes([note._replace(pitch=self._fold(note.pitch + shift)) for note in track.notes])
            roll = to_roll(score.with_tracks([folded]), self.roll, n_steps)[0] > 0  # (steps, pitches)
            sounding = roll.any(axis=1)
            top = roll.shape[1] - 1 - np.argmax(roll[:, ::-1], axis=1)
            classes[voice] = np.where(sounding, top, self.rest)
            for run in runs(classes[voice : voice + 1], self.rest):
                _, begin, end, _ = run
                ticks = (begin * score.resolution // steps_per_beat, end * score.resolution // steps_per_beat)
                inside = [note for note in track.notes if ticks[0] <= note.start < ticks[1]]
                originals[(voice, *run[1:])] = inside
        return _Piece(classes, assigned, others, originals, shift, steps_per_bar)

    def _fold(self, pitch: int) -> int:
        """`pitch` moved by whole octaves into the model's range (the nearest octave that fits)."""
        while pitch < self.roll.low_pitch:
            pitch += 12
        while pitch > self.roll.high_pitch:
            pitch -= 12
        return pitch

    def _score(self, classes: npt.NDArray[np.int64], piece: _Piece, score: Score, keep_soprano: bool) -> Score:
        """The score of a state: input notes where a run is unchanged, grid notes elsewhere, other tracks kept."""
        steps_per_beat = self.roll.steps_per_beat
        input_notes = [note for track in piece.tracks if track is not None for note in track.notes]
        velocity = int(np.clip(np.mean([note.velocity for note in input_notes] or [80]), 40, 110))
        notes: list[list[Note]] = [[] for _ in piece.tracks]
        for run in runs(classes, self.rest):
            voice, begin, end, label = run
            if run in piece.originals:
                notes[voice].extend(piece.originals[run])
                continue
            start = begin * score.resolution // steps_per_beat
            stop = end * score.resolution // steps_per_beat
            pitch = label + self.roll.low_pitch - piece.shift
            if 0 <= pitch <= 127:
                notes[voice].append(Note(pitch, start, max(1, stop - start), velocity))
        tracks = []
        for voice, (slot, track) in enumerate(zip(self.voice_slots, piece.tracks, strict=True)):
            if voice == 0 and keep_soprano and track is not None:
                tracks.append(track)
                continue
            template = track or Track(
                name=str(slot["name"]),
                program=int(slot["program"]),
                role="melody" if voice == 0 else "accompaniment",
            )
            tracks.append(template.with_notes(sorted(notes[voice], key=lambda note: (note.start, note.pitch))))
        return score.with_tracks([*tracks, *piece.others])


class Budget:
    """Undo the changes of an edit beyond its budget (a `gibbs_sample` projection).

    Parameters
    ----------
    original
        (voices, steps) the input's classes.
    rest
        The class of silence.
    max_removed
        Input notes (runs) that may be missing from a state.
    max_added
        Notes (runs) not in the input that a state may hold.
    generator
        Draws which changes stay when there are too many (those kept last time go first).
    """

    def __init__(
        self,
        original: npt.NDArray[np.int64],
        rest: int,
        *,
        max_removed: int,
        max_added: int,
        generator: torch.Generator,
    ) -> None:
        self.original = original
        self.rest = rest
        self.max_removed = max_removed
        self.max_added = max_added
        self.generator = generator
        self.input_runs = set(runs(original, rest))
        self.kept: set[Run] = set()

    def __call__(self, state: torch.Tensor) -> torch.Tensor:
        """The state with changes beyond the budget undone (cells set back to the input's)."""
        import torch

        cells = state.numpy().copy()
        while True:
            present = set(runs(cells, self.rest))
            removed = sorted(self.input_runs - present)
            added = sorted(present - self.input_runs)
            if len(removed) > self.max_removed:
                self._undo(cells, self._excess(removed, self.max_removed))
            elif len(added) > self.max_added:
                self._undo(cells, self._excess(added, self.max_added))
            else:
                break
        self.kept = set(added) | set(removed)
        return torch.from_numpy(cells)

    def _excess(self, changes: Sequence[Run], allowed: int) -> list[Run]:
        """The changes to undo: all but `allowed`, keeping those kept last time first, then at random."""
        import torch

        order = torch.randperm(len(changes), generator=self.generator).tolist()
        ranked = sorted(order, key=lambda index: changes[index] not in self.kept)
        return [changes[index] for index in ranked[allowed:]]

    def _undo(self, cells: npt.NDArray[np.int64], changes: Sequence[Run]) -> None:
        # One step more on each side: a run can differ from the input only by where it stops (a neighbour of
        # the same class), so restoring its neighbours too always changes at least one cell.
        for voice, begin, end, _ in changes:
            span = slice(max(0, begin - 1), end + 1)
            cells[voice, span] = self.original[voice, span]


def runs(classes: npt.NDArray[np.int64], rest: int) -> list[Run]:
    """The notes of a (voices, steps) grid: each run of one non-silent class in one voice."""
    found: list[Run] = []
    for voice, row in enumerate(classes):
        changes = np.flatnonzero(np.diff(row)) + 1
        starts = [0, *changes.tolist()]
        ends = [*changes.tolist(), len(row)]
        for begin, end in zip(starts, ends, strict=True):
            label = int(row[begin])
            if label != rest:
                found.append((voice, begin, end, label))
    return found


def _overlap(first: Run, second: Run) -> bool:
    return first[0] == second[0] and first[1] < second[2] and second[1] < first[2]


def _mean_pitch(track: Track) -> float:
    return float(np.mean([note.pitch for note in track.notes]))


def _octave_shift(pitches: list[int], roll: RollSpec) -> int:
    """The whole-octave shift (semitones) that brings the most pitches into the roll's range, smallest first."""
    if not pitches:
        return 0
    values = np.asarray(pitches)

    def inside(shift: int) -> int:
        return int(np.count_nonzero((values + shift >= roll.low_pitch) & (values + shift <= roll.high_pitch)))

    return max((12 * k for k in range(-5, 6)), key=lambda shift: (inside(shift), -abs(shift)))
