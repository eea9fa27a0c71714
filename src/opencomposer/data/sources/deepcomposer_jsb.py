"""The 229 two-bar Bach chorale snippets that the AWS DeepComposer GAN lab trains on.

The files (`deepcomposer/gan-original-midi/MIDI-<n>.mid`) come from the lab's repository: four piano
tracks each, soprano first (the melody the lab conditions on), 4/4 at 100 quarter notes per minute,
32 steps at 4 steps per beat. Their pitches are kept as the lab wrote them, on average 22 semitones above
the same voices in the JSB chorales (soprano mean pitch 92 against 71): a model trained here learns the
lab's data, and its rolls need a pitch range that reaches up to MIDI 101.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from opencomposer.data.download import require_data_folder
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, refuse_split, register, skip_item
from opencomposer.data.sources.jsb import SATB_TRACKS
from opencomposer.errors import DatasetError, MidiError
from opencomposer.music.midi import read_midi

SNIPPETS_DIR = "gan-original-midi"
_FILE_PATTERN = re.compile(r"MIDI-(\d+)\.mid")


@register("deepcomposer-jsb")
class DeepComposerJsb(Dataset):
    """The AWS DeepComposer GAN lab's chorale snippets, in the order of their file numbers."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="deepcomposer-jsb",
            title="AWS DeepComposer GAN lab chorales",
            description=(
                "The 229 two-bar, four-track (SATB, piano, 100 bpm) Bach chorale snippets that the AWS "
                "DeepComposer GAN lab trains its accompaniment model on; track 0 is the melody."
            ),
            genres=("classical", "baroque", "chorale"),
            licence="MIT",
            upstream="github.com/aws-samples/aws-deepcomposer-samples (reinvent-labs/lab-2/original_midi)",
            tracks=SATB_TRACKS,
            folder="deepcomposer",
            expected_pieces=229,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every snippet (the lab publishes no split, so `split` must be None)."""
        refuse_split(self.info, split)
        for number, path in self._files():
            piece_id = f"{self.info.name}/{number}"
            try:
                score = read_midi(path)
            except MidiError as error:
                skip_item(str(path), str(error))
                continue
            if len(score.tracks) != len(SATB_TRACKS):
                skip_item(str(path), f"it has {len(score.tracks)} tracks with notes, not the four voices S, A, T, B")
                continue
            tracks = tuple(
                slot.to_track().with_notes(track.notes) for slot, track in zip(SATB_TRACKS, score.tracks, strict=True)
            )
            yield Piece(id=piece_id, score=score.with_tracks(tracks))

    def _files(self) -> list[tuple[int, Path]]:
        folder = require_data_folder(self.info) / SNIPPETS_DIR
        numbered = [
            (int(match.group(1)), path)
            for path in (folder.iterdir() if folder.is_dir() else ())
            if (match := _FILE_PATTERN.fullmatch(path.name))
        ]
        if not numbered:
            raise DatasetError(
                f"{folder} holds no MIDI-<n>.mid files: run `opencomposer data download {self.info.name}`."
            )
        return sorted(numbered)
