"""The window cache: hit on the second call, missed by a changed spec or dataset, rebuilt when damaged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from opencomposer.data.cache import (
    cache_dir,
    cached_read,
    pack_rolls,
    read_arrays,
    score_from_arrays,
    score_to_arrays,
    unpack_rolls,
    write_arrays,
)
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.data.windows import PreparedDataset, WindowSpec, prepare
from opencomposer.errors import ScoreFileError
from opencomposer.music.pianoroll import RollSpec
from opencomposer.music.score import Note, Score, Track

RESOLUTION = 480
ROLL = RollSpec(steps_per_beat=4, low_pitch=36, high_pitch=84)
SPEC = WindowSpec(ROLL, bars=2, transpose=(-1, 1))


class CountingDataset(Dataset):
    """Ten four-bar pieces of a rising melody over a bass; `reads` counts the calls to `iter_pieces`."""

    def __init__(self, version: str = "1") -> None:
        layout = (TrackSlot("Melody", "melody"), TrackSlot("Bass", "accompaniment", program=32))
        self.info = DatasetInfo("counting", "Counting", "Test pieces.", (), "CC0", "none", layout, "counting", version)
        self.reads = 0

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        self.reads += 1
        for i in range(10):
            melody = tuple(Note(60 + (i + step) % 12, step * RESOLUTION, RESOLUTION) for step in range(16))
            bass = tuple(Note(40 + i % 5, bar * 4 * RESOLUTION, 4 * RESOLUTION) for bar in range(4))
            tracks = (Track("Melody", notes=melody, role="melody"), Track("Bass", 32, notes=bass, role="accompaniment"))
            yield Piece(f"counting/{i}", Score(resolution=RESOLUTION, tracks=tracks))


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))


def assert_same(left: PreparedDataset, right: PreparedDataset) -> None:
    for split in ("train", "valid", "test"):
        assert np.array_equal(left.windows[split], right.windows[split])
        assert np.array_equal(left.piece_ids[split], right.piece_ids[split])
        assert np.array_equal(left.shifts[split], right.shifts[split])
    assert left.tracks == right.tracks
    assert replace(left.stats, prepare_seconds=0.0) == replace(right.stats, prepare_seconds=0.0)
    assert left.reference.keys() == right.reference.keys()
    assert all(np.isclose(left.reference[key], right.reference[key], equal_nan=True) for key in left.reference)


def test_the_second_call_reads_the_cache_and_not_the_source(tmp_path):
    dataset = CountingDataset()
    cold = prepare(dataset, SPEC, workers=1)
    warm = prepare(dataset, SPEC, workers=1)
    assert dataset.reads == 1
    assert_same(cold, warm)
    assert warm.cache_path == cold.cache_path
    assert cold.cache_path.parent == tmp_path / "cache" == cache_dir()


def test_a_changed_spec_or_dataset_version_misses_the_cache():
    dataset = CountingDataset()
    first = prepare(dataset, SPEC, workers=1)
    other = prepare(dataset, WindowSpec(ROLL, bars=2, transpose=(-2, 2)), workers=1)
    assert dataset.reads == 2
    assert other.cache_path != first.cache_path
    assert len(other.windows["train"]) > len(first.windows["train"])

    new_version = CountingDataset(version="2")
    prepare(new_version, SPEC, workers=1)
    assert new_version.reads == 1


def test_refresh_rebuilds_the_cache():
    dataset = CountingDataset()
    prepare(dataset, SPEC, workers=1)
    prepare(dataset, SPEC, refresh=True, workers=1)
    assert dataset.reads == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_a_damaged_cache_file_is_rebuilt(damage, caplog):
    dataset = CountingDataset()
    cold = prepare(dataset, SPEC, workers=1)
    data = cold.cache_path.read_bytes()
    if damage == "truncate":
        damaged = data[: len(data) // 2]
    elif damage == "garbage":
        damaged = b"not a zip file at all"
    else:  # one flipped byte inside the stored arrays: only the zip member's CRC can tell
        middle = len(data) // 2
        damaged = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
    cold.cache_path.write_bytes(damaged)

    rebuilt = prepare(dataset, SPEC, workers=1)
    assert dataset.reads == 2
    assert "damaged" in caplog.text
    assert_same(cold, rebuilt)
    prepare(dataset, SPEC, workers=1)
    assert dataset.reads == 2  # the rebuilt file is whole again


def test_a_cache_file_written_for_another_spec_is_not_trusted():
    dataset = CountingDataset()
    first = prepare(dataset, SPEC, workers=1)
    second = prepare(dataset, WindowSpec(ROLL, bars=2), workers=1)
    second.cache_path.write_bytes(first.cache_path.read_bytes())
    again = prepare(dataset, WindowSpec(ROLL, bars=2), workers=1)
    assert dataset.reads == 3
    assert_same(second, again)


def test_a_write_interrupted_before_the_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "cache" / "arrays.npz"
    write_arrays(path, {"numbers": np.arange(3)})

    def interrupted(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_arrays(path, {"numbers": np.arange(5)})
    monkeypatch.undo()
    stored = read_arrays(path)
    assert stored is not None and np.array_equal(stored["numbers"], np.arange(3))
    assert [entry.name for entry in path.parent.iterdir()] == ["arrays.npz"]


def test_sparse_rolls_round_trip_and_bad_ones_are_refused():
    rng = np.random.default_rng(0)
    rolls = (rng.random((5, 2, 16, 12)) < 0.05).astype(np.uint8) * rng.integers(1, 3, (5, 2, 16, 12), dtype=np.uint8)
    packed = pack_rolls(rolls, "train")
    assert np.array_equal(unpack_rolls(packed, "train"), rolls)
    empty = np.zeros((0, 2, 16, 12), dtype=np.uint8)
    assert unpack_rolls(pack_rolls(empty, "test"), "test").shape == empty.shape
    packed["train_shape"] = np.array([1, 1, 1, 1])
    with pytest.raises(ValueError, match="do not fit"):
        unpack_rolls(packed, "train")


def test_a_missing_cache_file_reads_as_none(tmp_path):
    assert read_arrays(tmp_path / "nothing.npz") is None


def _two_track_score() -> Score:
    melody = Track(name="Voice", role="melody", program=53, notes=(Note(72, 0, 480, 90), Note(74, 480, 240, 70)))
    drums = Track(name="Kit", is_drum=True, notes=(Note(36, 0, 10, 100),))
    return Score(resolution=480, tempo=72.5, time_signature=(3, 4), tracks=(melody, drums))


def test_a_score_survives_the_arrays_round_trip() -> None:
    score = _two_track_score()
    assert score_from_arrays(score_to_arrays(score)) == score
    empty = Score(tracks=(Track(name="Silent"),))
    assert score_from_arrays(score_to_arrays(empty)) == empty


def test_cached_read_parses_a_file_once_until_it_changes(tmp_path: Path) -> None:
    source = tmp_path / "song.xml"
    source.write_text("first")
    calls: list[Path] = []

    def read(path: Path) -> Score:
        calls.append(path)
        return _two_track_score()

    folder = tmp_path / "scores"
    first = cached_read(source, read=read, reader="test:1", folder=folder)
    second = cached_read(source, read=read, reader="test:1", folder=folder)
    assert first == second == _two_track_score()
    assert len(calls) == 1
    cached_read(source, read=read, reader="test:2", folder=folder)  # a new loader version
    assert len(calls) == 2
    source.write_text("changed, and longer")
    cached_read(source, read=read, reader="test:2", folder=folder)
    assert len(calls) == 3


def test_a_damaged_score_cache_entry_is_read_again(tmp_path: Path) -> None:
    source = tmp_path / "song.xml"
    source.write_text("x")
    folder = tmp_path / "scores"
    cached_read(source, read=lambda _: _two_track_score(), reader="test:1", folder=folder)
    (entry,) = folder.glob("*.npz")
    write_arrays(entry, {"notes": np.zeros((1, 3), dtype=np.int64), "meta": np.zeros(0, dtype=np.uint8)})
    again = cached_read(source, read=lambda _: _two_track_score(), reader="test:1", folder=folder)
    assert again == _two_track_score()
    assert score_from_arrays(read_arrays(entry) or {}) == _two_track_score()


def test_a_file_the_reader_refuses_is_refused_again_without_reading_it(tmp_path: Path) -> None:
    source = tmp_path / "broken.mxl"
    source.write_text("not music")
    calls: list[Path] = []

    def read(path: Path) -> Score:
        calls.append(path)
        raise ScoreFileError(f"{path} could not be read as MusicXML")

    folder = tmp_path / "scores"
    for _ in range(2):
        with pytest.raises(ScoreFileError, match="could not be read as MusicXML"):
            cached_read(source, read=read, reader="test:1", folder=folder)
    assert len(calls) == 1
    source.write_text("mended, and longer")  # a changed file is read again
    with pytest.raises(ScoreFileError):
        cached_read(source, read=read, reader="test:1", folder=folder)
    assert len(calls) == 2
