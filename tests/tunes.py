"""A tiny dataset of melody-and-bass tunes, for the tests that run whole trainings from the command line."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.music.score import Note, Score, Track

LAYOUT = (TrackSlot("Melody", "melody"), TrackSlot("Bass", "accompaniment", program=32))
SPLITS = ["train"] * 6 + ["valid", "test", "test"]


class Tunes(Dataset):
    """Nine seeded tunes of `bars` 4/4 bars (six train, one valid, two test): quarter notes over a bass of
    whole notes two octaves below each bar's first melody note."""

    def __init__(self, name: str = "tiny", bars: int = 4) -> None:
        self.info = DatasetInfo(name, name.title(), "Test tunes.", ("test",), "CC0", "none", LAYOUT, name)
        self.bars = bars

    def is_present(self) -> bool:
        return True

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        for index, piece_split in enumerate(SPLITS):
            rng = np.random.default_rng(index)
            melody = [Note(int(rng.integers(60, 72)), beat * 480, 480) for beat in range(4 * self.bars)]
            bass = [Note(melody[bar * 4].pitch - 24, bar * 1920, 1920) for bar in range(self.bars)]
            score = Score(
                tracks=(Track("Melody", notes=tuple(melody), role="melody"), Track("Bass", 32, notes=tuple(bass)))
            )
            if split is None or split == piece_split:
                yield Piece(f"{self.info.name}/{index}", score, piece_split)
