"""The JSB chorales with the canonical Boulanger-Lewandowski (2012) train / valid / test split.

Registered datasets:

- `jsb`: 16th-note steps (4 per beat, the grid the models' rolls use), from `jsb-chorales-16th.json`;
- `jsb-8th`: 8th-note steps, from `jsb-chorales-8th.json`;
- `jsb-quarter`: quarter-note steps, from `jsb-chorales-quarter.json` (the resolution at which
  NADE, RNN-RBM, RNN-NADE and Coconet report their test-set negative log-likelihood);
- `jsb-satb`: Coconet's voice-separated 16th-note version, `Jsb16thSeparated.npz`.

Each JSON piece is a list of time steps and each step an unordered set of sounding MIDI pitches, so the
voices are rebuilt: the highest pitch of a step is the soprano, the lowest the bass, and the ones between
are the alto, then the tenor. A unison is listed twice in a step, so it stays two voices; on the 0.4 % of
steps with fewer than four pitches some voices rest: a step with three pitches has no tenor, two pitches
only soprano and bass, one only a soprano.
The npz file gives the four voices directly (NaN = silent). In both, a pitch that sounds on
consecutive steps in the same voice is one held note: the files do not tell a held note from a repeated
one. Neither file carries a tempo or metre, so every piece is 4/4 at 100 quarter notes per minute (the
tempo of the AWS DeepComposer chorale snippets).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from opencomposer.data.download import require_data_file
from opencomposer.data.registry import SPLITS, Dataset, DatasetInfo, Piece, TrackSlot, register, skip_item
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.score import DEFAULT_RESOLUTION, Note, Score

SATB_TRACKS = (
    TrackSlot("Soprano", "melody"),
    TrackSlot("Alto", "accompaniment"),
    TrackSlot("Tenor", "accompaniment"),
    TrackSlot("Bass", "accompaniment"),
)
"""The layout of every chorale dataset (bach-chorales, jsb*, deepcomposer-jsb): SATB, all on piano."""

STEPS_PER_BEAT = {"quarter": 1, "8th": 2, "16th": 4}
"""Time steps per quarter note at each resolution the JSON files are published in."""

CHORALE_TEMPO_QPM = 100.0
_UPSTREAM = "github.com/czhuang/JSB-Chorales-dataset"
_LICENCE = "Public domain (Bach)"
_VOICES = len(SATB_TRACKS)


def dataset_name(resolution: str) -> str:
    """The registered name of the JSB dataset at `resolution` ("16th" is plain `jsb`)."""
    return "jsb" if resolution == "16th" else f"jsb-{resolution}"


class JsbChorales(Dataset):
    """The JSB chorales JSON files at one time resolution ("quarter", "8th" or "16th")."""

    def __init__(self, resolution: str = "16th") -> None:
        if resolution not in STEPS_PER_BEAT:
            raise ValueError(f"JSB resolution must be one of {', '.join(STEPS_PER_BEAT)}, not {resolution!r}.")
        self.resolution = resolution
        self.file_name = f"jsb-chorales-{resolution}.json"
        self.info = DatasetInfo(
            name=dataset_name(resolution),
            title=f"JSB chorales ({resolution} notes)",
            description=(
                f"382 Bach chorales at {resolution}-note resolution with the canonical train / valid / test "
                "split of Boulanger-Lewandowski et al. (2012); voices rebuilt from the pitch sets, highest "
                "to lowest, held notes and repeated notes merged."
            ),
            genres=("classical", "baroque", "chorale"),
            licence=_LICENCE,
            upstream=_UPSTREAM,
            tracks=SATB_TRACKS,
            folder="jsb",
            expected_pieces=382,
            has_published_split=True,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield the chorales of one split (or all: train, valid, test), each in its file order."""
        splits = _requested_splits(split)
        path = require_data_file(self.info, self.file_name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:
            raise DatasetError(
                f"{path} is damaged ({error}): delete it and run `opencomposer data download {self.info.name}`."
            ) from None
        steps_per_beat = STEPS_PER_BEAT[self.resolution]
        for split_name in splits:
            for index, steps in enumerate(data.get(split_name, [])):
                piece_id = f"{self.info.name}/{split_name}/{index}"
                try:
                    voices = pitch_sets_to_voices(steps)
                except ValueError as error:
                    skip_item(f"{piece_id} in {path}", str(error))
                    continue
                yield Piece(id=piece_id, score=voices_to_score(voices, steps_per_beat), split=split_name)


class JsbSatb(Dataset):
    """Coconet's voice-separated JSB chorales at 16th-note resolution (`Jsb16thSeparated.npz`)."""

    file_name = "Jsb16thSeparated.npz"

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="jsb-satb",
            title="JSB chorales, SATB voices (Coconet)",
            description=(
                "The JSB chorales at 16th-note resolution as Coconet (Huang et al., 2017) trains on them: "
                "four separate voices per step, with the Boulanger-Lewandowski train / valid / test split."
            ),
            genres=("classical", "baroque", "chorale"),
            licence=_LICENCE,
            upstream=_UPSTREAM,
            tracks=SATB_TRACKS,
            folder="jsb",
            expected_pieces=382,
            has_published_split=True,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield the chorales of one split (or all: train, valid, test), each in its file order."""
        splits = _requested_splits(split)
        # The file holds object arrays, which numpy can only read by unpickling: it is read only when its
        # bytes are exactly the published file's, so a swapped file can never run code.
        path = require_data_file(self.info, self.file_name, verify=True)
        with np.load(path, allow_pickle=True, encoding="latin1") as archive:
            data = {name: list(archive[name]) for name in archive.files}
        for split_name in splits:
            for index, steps in enumerate(data.get(split_name, [])):
                piece_id = f"{self.info.name}/{split_name}/{index}"
                try:
                    voices = separated_to_voices(steps)
                except ValueError as error:
                    skip_item(f"{piece_id} in {path}", str(error))
                    continue
                yield Piece(id=piece_id, score=voices_to_score(voices, STEPS_PER_BEAT["16th"]), split=split_name)


def _requested_splits(split: str | None) -> tuple[str, ...]:
    if split is None:
        return SPLITS
    if split not in SPLITS:
        raise UnknownNameError(f"There is no split called {split!r}: the JSB chorales have {', '.join(SPLITS)}.")
    return (split,)


VoiceSteps = list[list[int | None]]
"""Per step, the pitch of each of the four voices (S, A, T, B), None where the voice is silent."""


def pitch_sets_to_voices(steps: Sequence[Sequence[Any]]) -> VoiceSteps:
    """Assign each step's unordered pitches to soprano, alto, tenor and bass.

    The highest pitch goes to the soprano and the lowest to the bass; pitches between them go to the
    alto, then the tenor. A step with three pitches leaves the tenor silent, two pitches sound as soprano
    and bass, one as the soprano alone. A pitch listed twice in a step counts once.

    Raises
    ------
    ValueError
        When a step is not a list of MIDI pitches (integers 0-127) or has more than four of them.
    """
    voices: VoiceSteps = []
    for step_index, step in enumerate(steps):
        if not isinstance(step, list) or not all(_is_pitch(pitch) for pitch in step):
            raise ValueError(f"step {step_index} is not a list of MIDI pitches (0-127): {step!r}")
        pitches = sorted((int(pitch) for pitch in step), reverse=True)
        if len(pitches) > _VOICES:
            raise ValueError(f"step {step_index} has {len(pitches)} pitches; a four-voice chorale has at most 4")
        row: list[int | None] = [None] * _VOICES
        if pitches:
            row[0] = pitches[0]
        if len(pitches) >= 2:
            row[-1] = pitches[-1]
        for voice, pitch in enumerate(pitches[1:-1], start=1):
            row[voice] = pitch
        voices.append(row)
    return voices


def separated_to_voices(steps: npt.NDArray[Any]) -> VoiceSteps:
    """Read a (steps, 4) array of voice pitches (NaN = silent) as per-step voice pitches.

    Raises
    ------
    ValueError
        When the array is not (steps, 4) or holds a value that is neither NaN nor a MIDI pitch.
    """
    array = np.asarray(steps, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != _VOICES:
        raise ValueError(f"the piece has shape {array.shape}, not (steps, {_VOICES})")
    sounding = ~np.isnan(array)
    values = array[sounding]
    if np.any((values < 0) | (values > 127) | (values != np.round(values))):
        raise ValueError("the piece holds a value that is neither NaN nor a MIDI pitch (0-127)")
    return [
        [int(pitch) if is_sounding else None for pitch, is_sounding in zip(row, row_sounding, strict=True)]
        for row, row_sounding in zip(array, sounding, strict=True)
    ]


def voices_to_score(voices: VoiceSteps, steps_per_beat: int) -> Score:
    """Build an SATB score from per-step voice pitches; a pitch held over consecutive steps is one note."""
    step_ticks = DEFAULT_RESOLUTION // steps_per_beat
    tracks = []
    for voice, slot in enumerate(SATB_TRACKS):
        notes: list[Note] = []
        onset_step = 0
        current: int | None = None
        # A silent step after the last one ends the notes still sounding.
        padded: VoiceSteps = [*voices, [None] * _VOICES]
        for step, row in enumerate(padded):
            pitch = row[voice]
            if pitch == current:
                continue
            if current is not None:
                notes.append(Note(current, onset_step * step_ticks, (step - onset_step) * step_ticks))
            current, onset_step = pitch, step
        tracks.append(slot.to_track().with_notes(notes))
    return Score(resolution=DEFAULT_RESOLUTION, tempo=CHORALE_TEMPO_QPM, tracks=tuple(tracks))


def _is_pitch(value: object) -> bool:
    # A few pieces of the published files write their pitches as floats (67.0).
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value == int(value) and 0 <= value <= 127


register("jsb")(JsbChorales)
register("jsb-8th")(lambda: JsbChorales("8th"))
register("jsb-quarter")(lambda: JsbChorales("quarter"))
register("jsb-satb")(JsbSatb)
