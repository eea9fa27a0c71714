"""The AWS DeepComposer GAN lab's 229 chorale snippets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opencomposer.data import registry
from opencomposer.data.registry import get_dataset, read_report
from opencomposer.data.sources.deepcomposer_jsb import SNIPPETS_DIR, DeepComposerJsb
from opencomposer.data.sources.jsb import SATB_TRACKS
from opencomposer.errors import DatasetError
from opencomposer.music.midi import read_midi, write_midi


@pytest.fixture
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, with no shared copy to fall back on."""
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(registry, "shared_data_dirs", lambda: [])
    return tmp_path / "data"


def test_229_two_bar_pieces_in_the_satb_layout(shared_data: Path) -> None:
    pieces = list(get_dataset("deepcomposer-jsb").iter_pieces())

    assert len(pieces) == 229
    assert all(piece.score.n_bars == 2 for piece in pieces)
    assert all(
        [(t.name, t.role) for t in piece.score.tracks] == [(s.name, s.role) for s in SATB_TRACKS] for piece in pieces
    )
    assert all(piece.score.tempo == 100 and piece.split is None for piece in pieces)


def test_ids_follow_the_file_numbers_and_are_stable(shared_data: Path) -> None:
    ids = [piece.id for piece in DeepComposerJsb().iter_pieces()]

    assert ids[:3] == ["deepcomposer-jsb/0", "deepcomposer-jsb/1", "deepcomposer-jsb/2"]
    assert ids[-1] == "deepcomposer-jsb/228"
    assert ids == [piece.id for piece in DeepComposerJsb().iter_pieces()]


def test_track_zero_of_the_file_is_the_soprano(shared_data: Path) -> None:
    path = shared_data / "deepcomposer" / SNIPPETS_DIR / "MIDI-7.mid"
    piece = next(p for p in DeepComposerJsb().iter_pieces() if p.id == "deepcomposer-jsb/7")

    assert piece.score.tracks[0].notes == read_midi(path).tracks[0].notes


def test_bad_files_are_skipped_and_counted(shared_data: Path, private_data: Path) -> None:
    folder = private_data / "deepcomposer" / SNIPPETS_DIR
    folder.mkdir(parents=True)
    for number in (0, 1):
        shutil.copy(shared_data / "deepcomposer" / SNIPPETS_DIR / f"MIDI-{number}.mid", folder)
    (folder / "MIDI-2.mid").write_bytes(b"MThd but not really")
    three_voices = read_midi(folder / "MIDI-0.mid")
    write_midi(three_voices.with_tracks(three_voices.tracks[:3]), folder / "MIDI-3.mid")

    report = read_report(DeepComposerJsb())

    assert report.pieces_per_split == {"all": 2}
    assert sorted(Path(item.item).name for item in report.skipped) == ["MIDI-2.mid", "MIDI-3.mid"]
    assert report.summary() == "2 of 4 pieces read; 2 skipped: see log"


def test_a_folder_without_snippets_says_to_download(private_data: Path) -> None:
    (private_data / "deepcomposer").mkdir(parents=True)

    with pytest.raises(DatasetError, match="opencomposer data download deepcomposer-jsb"):
        list(DeepComposerJsb().iter_pieces())
