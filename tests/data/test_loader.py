"""The PyTorch adapter: float batches of the right shape, every window once an epoch, seeded shuffling."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from opencomposer.data.loader import WindowBatches, make_loader
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.data.windows import PreparedDataset, WindowSpec, prepare
from opencomposer.errors import DatasetError
from opencomposer.music.pianoroll import ONSET, RollSpec
from opencomposer.music.score import Note, Score, Track

RESOLUTION = 480
ROLL = RollSpec(steps_per_beat=4, low_pitch=36, high_pitch=84)


class Arpeggios(Dataset):
    """Eight-bar pieces of broken chords over a bass, all in the train split."""

    def __init__(self, n_pieces: int) -> None:
        layout = (TrackSlot("Melody", "melody"), TrackSlot("Bass", "accompaniment", program=32))
        self.info = DatasetInfo("arpeggios", "Arpeggios", "Test pieces.", (), "CC0", "none", layout, "arpeggios")
        self.n_pieces = n_pieces

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        for i in range(self.n_pieces):
            melody = tuple(Note(60 + (i * 5 + step * 4) % 13, step * RESOLUTION, 2 * RESOLUTION) for step in range(32))
            bass = tuple(Note(36 + (i + bar) % 12, bar * 4 * RESOLUTION, 4 * RESOLUTION) for bar in range(8))
            tracks = (Track("Melody", notes=melody, role="melody"), Track("Bass", 32, notes=bass, role="accompaniment"))
            yield Piece(f"arpeggios/{i}", Score(resolution=RESOLUTION, tracks=tracks), "train")


@pytest.fixture
def prepared(tmp_path, monkeypatch) -> PreparedDataset:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    return prepare(Arpeggios(5), WindowSpec(ROLL, bars=2), workers=1)  # 5 pieces x 4 windows


def rows(batches: list[torch.Tensor]) -> list[bytes]:
    return sorted(window.numpy().astype(np.uint8).tobytes() for batch in batches for window in batch)


def test_batches_are_float_rolls_of_the_window_shape(prepared):
    batches = list(make_loader(prepared, "train", batch_size=8, shuffle=False, seed=0))
    assert [batch.shape for batch in batches] == [(8, 2, 32, 49), (8, 2, 32, 49), (4, 2, 32, 49)]
    assert all(batch.dtype == torch.float32 for batch in batches)
    assert set(np.unique(torch.cat(batches).numpy()).tolist()) == {0.0, 1.0}
    assert torch.equal(torch.cat(batches), torch.from_numpy(prepared.windows["train"] > 0).float())


def test_non_binary_batches_keep_onsets_apart_from_held_steps(prepared):
    batch = next(iter(make_loader(prepared, "train", batch_size=20, shuffle=False, seed=0, binary=False)))
    assert set(np.unique(batch.numpy()).tolist()) == {0.0, 1.0, float(ONSET)}
    assert torch.equal(batch, torch.from_numpy(prepared.windows["train"]).float())


def test_shuffling_visits_every_window_once_per_epoch_in_a_seeded_order(prepared):
    loader = make_loader(prepared, "train", batch_size=6, shuffle=True, seed=7, binary=False)
    first_epoch, second_epoch = list(loader), list(loader)
    expected = rows([torch.from_numpy(prepared.windows["train"]).float()])
    assert rows(first_epoch) == rows(second_epoch) == expected
    assert not torch.equal(torch.cat(first_epoch), torch.cat(second_epoch))
    again = list(make_loader(prepared, "train", batch_size=6, shuffle=True, seed=7, binary=False))
    assert torch.equal(torch.cat(again), torch.cat(first_epoch))


def test_drop_last_leaves_out_a_short_last_batch(prepared):
    batches = list(make_loader(prepared, "train", batch_size=8, shuffle=True, seed=0, drop_last=True))
    assert [len(batch) for batch in batches] == [8, 8]


def test_a_whole_batch_is_one_indexing_of_the_array(prepared):
    dataset = WindowBatches(prepared.windows["train"], binary=False)
    assert len(dataset) == 20
    assert torch.equal(dataset[[3, 0]], torch.from_numpy(prepared.windows["train"][[3, 0]]).float())


@pytest.mark.parametrize(
    ("split", "batch_size", "message"),
    [("dev", 4, "no split"), ("valid", 4, "no windows"), ("train", 0, "at least one")],
)
def test_a_bad_request_is_refused(prepared, split, batch_size, message):
    with pytest.raises(DatasetError, match=message):
        make_loader(prepared, split, batch_size=batch_size, shuffle=False, seed=0)
