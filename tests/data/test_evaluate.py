"""`opencomposer.data.evaluate`: reading the two sets, the common track layout, windows and reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from opencomposer.data import evaluate as evaluation_module
from opencomposer.data.evaluate import (
    MELODY_ACCOMPANIMENT,
    PieceSet,
    evaluate_sets,
    read_piece_files,
    read_reference,
    write_figure,
    write_json,
)
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.errors import EvaluationError, UnknownNameError
from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track

RESOLUTION = 480
QUARTER = RESOLUTION
SATB_SLOTS = (
    TrackSlot("Soprano", "melody"),
    TrackSlot("Alto", "accompaniment"),
    TrackSlot("Tenor", "accompaniment"),
    TrackSlot("Bass", "accompaniment"),
)


def musical_score(seed: int, n_tracks: int = 4, bars: int = 8, names: tuple[str, ...] = ()) -> Score:
    """Quarter notes wandering around C major, one register per track (highest first)."""
    rng = np.random.default_rng(seed)
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    tracks = []
    for index in range(n_tracks):
        degrees = np.cumsum(rng.integers(-2, 3, size=bars * 4)) % 14
        pitches = 72 - 12 * index + scale[degrees % 7] + 12 * (degrees // 7) - 12
        notes = tuple(Note(int(p), step * QUARTER, QUARTER) for step, p in enumerate(pitches))
        name = names[index] if names else f"Part {index + 1}"
        tracks.append(Track(name=name, notes=notes))
    return Score(resolution=RESOLUTION, tracks=tuple(tracks))


def write_scores(folder: Path, scores: list[Score]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, score in enumerate(scores):
        path = folder / f"piece{index:02d}.mid"
        write_midi(score, path)
        paths.append(path)
    return paths


def piece_set(scores: list[Score], layout: tuple[TrackSlot, ...] | None = None) -> PieceSet:
    return PieceSet(source="test", pieces=tuple(Piece(f"p{i}", score) for i, score in enumerate(scores)), layout=layout)


def test_read_piece_files_reads_folders_recursively_and_skips_unreadable_files(tmp_path: Path) -> None:
    write_scores(tmp_path / "set", [musical_score(1)])
    write_scores(tmp_path / "set" / "more", [musical_score(2)])
    (tmp_path / "set" / "broken.mid").write_bytes(b"not a midi file at all")
    (tmp_path / "set" / "notes.txt").write_text("ignored", encoding="utf-8")
    result = read_piece_files([tmp_path / "set"])
    assert len(result.pieces) == 2
    assert len(result.skipped) == 1
    assert "broken.mid" in result.skipped[0]
    assert len(read_piece_files([tmp_path / "set"], limit=1).pieces) == 1


def test_read_piece_files_says_when_there_is_nothing_to_read(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvaluationError, match="No MIDI or MusicXML file"):
        read_piece_files([tmp_path / "empty"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.mid").write_bytes(b"junk")
    with pytest.raises(EvaluationError, match="None of the 1 files"):
        read_piece_files([tmp_path / "bad"])


def test_a_reference_that_is_neither_a_folder_nor_a_dataset_is_explained() -> None:
    with pytest.raises(UnknownNameError, match=r"not a file or folder\. There is no dataset called"):
        read_reference("no-such-dataset-or-folder")


class TinyChorales(Dataset):
    """A stand-in dataset of three generated four-part pieces."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="tiny",
            title="Tiny",
            description="Three generated pieces.",
            genres=(),
            licence="none",
            upstream="none",
            tracks=SATB_SLOTS,
            folder="tiny",
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        for seed in range(3):
            score = musical_score(100 + seed, names=tuple(slot.name for slot in SATB_SLOTS))
            yield Piece(f"tiny/{seed}", score)


def test_a_dataset_reference_brings_its_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation_module, "get_dataset", lambda name: TinyChorales())
    reference = read_reference("tiny", limit=2)
    assert reference.source == "dataset tiny"
    assert len(reference.pieces) == 2
    assert reference.layout == SATB_SLOTS
    generated = piece_set([musical_score(seed) for seed in range(3)])
    result = evaluate_sets(generated, reference)
    assert result.tracks == SATB_SLOTS
    assert "pitch_range/Soprano" in result.generated.metrics
    assert "parallel_fifths" in result.reference.metrics
    assert "tonal_distance" in result.generated.metrics


def test_sets_with_the_same_track_count_use_the_reference_tracks_and_its_melody() -> None:
    reference = piece_set([musical_score(seed, n_tracks=3, names=("Piano", "Lead", "Bass")) for seed in range(3)])
    result = evaluate_sets(piece_set([musical_score(9, n_tracks=3)]), reference)
    assert [slot.name for slot in result.tracks] == ["Piano", "Lead", "Bass"]
    assert [slot.role for slot in result.tracks] == ["accompaniment", "melody", "accompaniment"]  # by its name


def test_sets_with_different_track_counts_are_compared_as_melody_and_accompaniment() -> None:
    reference = piece_set([musical_score(seed, n_tracks=4) for seed in range(3)], layout=SATB_SLOTS)
    generated = piece_set([musical_score(seed, n_tracks=2) for seed in range(3)])
    result = evaluate_sets(generated, reference)
    assert result.tracks == MELODY_ACCOMPANIMENT
    assert {"pitch_range/Melody", "pitch_range/Accompaniment", "tonal_distance"} <= set(result.reference.metrics)
    assert "parallel_fifths" not in result.reference.metrics


def test_pieces_are_cut_into_whole_windows_and_a_short_piece_is_one_window() -> None:
    long_piece = musical_score(1, bars=10)  # two 4-bar windows; the last 2 bars are left out
    short_piece = musical_score(2, bars=2)  # one window, half silent
    result = evaluate_sets(piece_set([long_piece, short_piece]), piece_set([musical_score(3)]))
    assert result.generated.windows == 3
    assert result.generated.metrics["empty_bar_rate/Part 1"] == pytest.approx((0 + 0 + 0.5) / 3)
    assert result.reference.windows == 2


def test_a_set_without_notes_cannot_be_evaluated() -> None:
    silent = Score(resolution=RESOLUTION, tracks=(Track(name="Melody"),))
    with pytest.raises(EvaluationError, match="hold no notes"):
        evaluate_sets(piece_set([silent]), piece_set([musical_score(1)]))


def test_identical_sets_are_similar_and_the_report_files_are_written(tmp_path: Path) -> None:
    scores = [musical_score(seed) for seed in range(12)]
    result = evaluate_sets(piece_set(scores), piece_set(scores))
    # Not exactly 1: the inter-set distances include each piece against itself (12 zeros of 144).
    assert result.similarity_index > 0.9
    assert result.generated.metrics == result.reference.metrics
    write_json(result, tmp_path / "evaluation.json")
    write_figure(result, tmp_path / "evaluation.png")
    data = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert data["similarity_index"] == pytest.approx(result.similarity_index)
    assert data["generated"]["pieces"] == 12
    assert set(data["features"]["pitch_range"]) >= {"overlap_area", "kl_divergence", "overlap_area_generated"}
    json.dumps(data, allow_nan=False)  # strict JSON: undefined values are null, never NaN
    png = (tmp_path / "evaluation.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_metric_rows_list_every_metric_of_either_set() -> None:
    reference = piece_set([musical_score(seed, n_tracks=4) for seed in range(3)], layout=SATB_SLOTS)
    result = evaluate_sets(piece_set([musical_score(7, n_tracks=4)]), reference)
    rows = result.metric_rows()
    assert [row[0] for row in rows] == list(result.reference.metrics)
    assert all(len(row) == 3 for row in rows)
