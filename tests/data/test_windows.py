"""Cutting datasets into training windows: shapes, splits by piece, held notes, transposition, bad input."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

import opencomposer.data.windows as windows_module
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot, get_dataset, skip_item
from opencomposer.data.windows import PreparedDataset, WindowSpec, prepare, split_of
from opencomposer.errors import DatasetError
from opencomposer.metrics import window_metrics
from opencomposer.music.pianoroll import HOLD, ONSET, RollSpec, from_roll, to_roll
from opencomposer.music.score import Note, Score, Track

RESOLUTION = 480
BAR_TICKS = 4 * RESOLUTION
ROLL = RollSpec(steps_per_beat=4, low_pitch=24, high_pitch=96)
LAYOUT = (TrackSlot("Melody", "melody"), TrackSlot("Bass", "accompaniment", program=32))


def melody_and_bass(n_bars: int, seed: int, silent_melody_bars: Sequence[int] = ()) -> Score:
    """Quarter notes in 60-72 over whole-note bass in 36-48, `n_bars` bars of 4/4."""
    rng = np.random.default_rng(seed)
    melody = [
        Note(int(rng.integers(60, 73)), bar * BAR_TICKS + beat * RESOLUTION, RESOLUTION)
        for bar in range(n_bars)
        if bar not in silent_melody_bars
        for beat in range(4)
    ]
    bass = [Note(int(rng.integers(36, 49)), bar * BAR_TICKS, BAR_TICKS) for bar in range(n_bars)]
    return Score(
        resolution=RESOLUTION,
        tracks=(
            Track("Melody", notes=tuple(melody), role="melody"),
            Track("Bass", 32, notes=tuple(bass), role="accompaniment"),
        ),
    )


class TinyDataset(Dataset):
    """Pieces held in memory."""

    def __init__(self, pieces: Sequence[Piece], layout: tuple[TrackSlot, ...] = LAYOUT) -> None:
        self.info = DatasetInfo("tiny", "Tiny", "Test pieces.", ("test",), "CC0", "none", layout, "tiny")
        self.pieces = list(pieces)

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        yield from (piece for piece in self.pieces if split is None or piece.split == split)


def tiny(n_pieces: int = 6, n_bars: int = 8, split: str | None = None) -> TinyDataset:
    return TinyDataset([Piece(f"tiny/{i}", melody_and_bass(n_bars, seed=i), split) for i in range(n_pieces)])


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))


def n_windows(prepared: PreparedDataset) -> int:
    return sum(len(windows) for windows in prepared.windows.values())


def test_windows_are_whole_bars_of_the_chosen_tracks():
    prepared = prepare(tiny(n_pieces=3, n_bars=8, split="train"), WindowSpec(ROLL, bars=4), workers=1)
    assert prepared.windows["train"].shape == (6, 2, 64, ROLL.n_pitches)
    assert prepared.windows["train"].dtype == np.uint8
    assert prepared.track_names == ("Melody", "Bass")

    overlapping = prepare(tiny(n_pieces=3, n_bars=8, split="train"), WindowSpec(ROLL, bars=4, hop_bars=2), workers=1)
    assert len(overlapping.windows["train"]) == 3 * 3

    bass_only = prepare(
        tiny(n_pieces=3, split="train"), WindowSpec(ROLL, tracks=("Bass",), skip_empty_melody=False), workers=1
    )
    assert bass_only.track_names == ("Bass",)
    assert np.array_equal(bass_only.windows["train"][:, 0], prepared.windows["train"][:, 1])


def test_the_last_bar_is_padded_and_a_piece_shorter_than_a_window_gives_none():
    ragged = melody_and_bass(8, seed=0)
    ragged = ragged.with_tracks([track.with_notes(track.notes[:-2]) for track in ragged.tracks])  # ends inside bar 8
    dataset = TinyDataset([Piece("ragged", ragged, "train"), Piece("short", melody_and_bass(3, seed=1), "train")])
    prepared = prepare(dataset, WindowSpec(ROLL, bars=4), workers=1)
    assert list(prepared.piece_ids["train"]) == ["ragged", "ragged"]
    assert not prepared.windows["train"][1, :, -8:].any()
    assert prepared.stats.pieces_without_windows == 1
    assert prepared.stats.pieces == {"train": 2, "valid": 0, "test": 0}


def test_no_piece_is_in_two_splits_and_the_split_is_stable():
    dataset = tiny(n_pieces=60, n_bars=4)
    prepared = prepare(dataset, WindowSpec(ROLL, bars=4), workers=1)
    ids = {split: set(prepared.piece_ids[split].tolist()) for split in ("train", "valid", "test")}
    assert not ids["train"] & ids["valid"] and not ids["train"] & ids["test"] and not ids["valid"] & ids["test"]
    assert set().union(*ids.values()) == {piece.id for piece in dataset.pieces}
    assert all(split_of(piece) in {s for s, members in ids.items() if piece.id in members} for piece in dataset.pieces)
    assert len(ids["train"]) > len(ids["valid"]) + len(ids["test"])
    again = prepare(dataset, WindowSpec(ROLL, bars=4), refresh=True, workers=1)
    assert all(np.array_equal(again.piece_ids[split], prepared.piece_ids[split]) for split in ids)


def test_a_published_split_is_kept():
    pieces = [
        Piece(f"p{i}", melody_and_bass(4, seed=i), split) for i, split in enumerate(["test", "valid", "train"] * 3)
    ]
    prepared = prepare(TinyDataset(pieces), WindowSpec(ROLL, bars=4), workers=1)
    for split in ("train", "valid", "test"):
        assert set(prepared.piece_ids[split].tolist()) == {piece.id for piece in pieces if piece.split == split}
    assert prepared.stats.pieces == {"train": 3, "valid": 3, "test": 3}


def test_a_window_round_trips_through_a_score():
    prepared = prepare(tiny(n_pieces=2, n_bars=8, split="train"), WindowSpec(ROLL, bars=4), workers=1)
    templates = [slot.to_track() for slot in prepared.tracks]
    for window in prepared.windows["train"]:
        score = from_roll(window, ROLL, tracks=templates, resolution=RESOLUTION)
        assert np.array_equal(to_roll(score, ROLL, n_steps=window.shape[1]), window)


def test_a_note_held_into_a_window_starts_there_as_an_onset():
    # A melody note from bar 3 to bar 6: the second 4-bar window must open with it struck, not held.
    held = Score(
        resolution=RESOLUTION,
        tracks=(
            Track("Melody", notes=(Note(67, 2 * BAR_TICKS, 4 * BAR_TICKS),), role="melody"),
            Track("Bass", notes=(Note(40, 7 * BAR_TICKS, BAR_TICKS),)),
        ),
    )
    prepared = prepare(TinyDataset([Piece("held", held, "train")]), WindowSpec(ROLL, bars=4), workers=1)
    row = 67 - ROLL.low_pitch
    first, second = prepared.windows["train"][:, 0, :, row]
    assert first[32] == ONSET and (first[33:] == HOLD).all()
    assert second[0] == ONSET and (second[1:32] == HOLD).all() and not second[32:].any()


def test_windows_with_a_silent_melody_are_skipped_unless_asked_to_keep_them():
    score = melody_and_bass(8, seed=0, silent_melody_bars=range(4, 8))
    dataset = TinyDataset([Piece("half", score, "train")])
    prepared = prepare(dataset, WindowSpec(ROLL, bars=4), workers=1)
    assert len(prepared.windows["train"]) == 1
    assert prepared.stats.windows_skipped_empty_melody == 1
    kept = prepare(dataset, WindowSpec(ROLL, bars=4, skip_empty_melody=False), workers=1)
    assert len(kept.windows["train"]) == 2


def transposed(rolls: np.ndarray, shift: int) -> np.ndarray:
    """`rolls` moved `shift` pitch rows up, losing what leaves the range."""
    out = np.zeros_like(rolls)
    if shift >= 0:
        out[..., shift:] = rolls[..., : rolls.shape[-1] - shift]
    else:
        out[..., :shift] = rolls[..., -shift:]
    return out


def test_transposition_triples_the_training_windows_and_keeps_every_note():
    pieces = [Piece(f"p{i}", melody_and_bass(8, seed=i), split) for i, split in enumerate(["train", "valid", "test"])]
    plain = prepare(TinyDataset(pieces), WindowSpec(ROLL, bars=4), workers=1)
    augmented = prepare(TinyDataset(pieces), WindowSpec(ROLL, bars=4, transpose=(-1, 1)), workers=1)
    assert len(augmented.windows["train"]) == 3 * len(plain.windows["train"])
    assert len(augmented.windows["valid"]) == len(plain.windows["valid"])
    assert augmented.stats.windows_transposed == 2 * len(plain.windows["train"])
    base = plain.windows["train"]
    for shift in (-1, 0, 1):
        expected = transposed(base, shift)
        assert (expected > 0).sum() == (base > 0).sum()  # every note stayed inside the range
        assert np.array_equal(augmented.windows["train"][augmented.shifts["train"] == shift], expected)


def test_a_shift_that_would_push_a_note_out_of_the_range_is_not_used():
    top = Score(
        resolution=RESOLUTION,
        tracks=(Track("Melody", notes=(Note(ROLL.high_pitch, 0, BAR_TICKS),), role="melody"), Track("Bass")),
    )
    prepared = prepare(
        TinyDataset([Piece("top", top, "train")]), WindowSpec(ROLL, bars=1, transpose=(-2, 2)), workers=1
    )
    assert sorted(prepared.shifts["train"].tolist()) == [-2, -1, 0]


def test_drum_tracks_are_not_transposed():
    layout = (TrackSlot("Melody", "melody"), TrackSlot("Drums", "other", is_drum=True))
    drums = Track("Drums", is_drum=True, notes=tuple(Note(36, beat * RESOLUTION, RESOLUTION) for beat in range(4)))
    melody = Track("Melody", notes=(Note(60, 0, BAR_TICKS),), role="melody")
    dataset = TinyDataset([Piece("groove", Score(resolution=RESOLUTION, tracks=(melody, drums)), "train")], layout)
    prepared = prepare(dataset, WindowSpec(ROLL, bars=1, transpose=(-1, 1)), workers=1)
    windows = prepared.windows["train"]
    assert len(windows) == 3
    assert all(np.array_equal(window[1], windows[0][1]) for window in windows)
    assert sorted(int(np.flatnonzero(window[0].any(axis=0))[0]) + ROLL.low_pitch for window in windows) == [59, 60, 61]


def test_parallel_preparation_gives_the_same_windows():
    dataset = tiny(n_pieces=12, n_bars=8)
    spec = WindowSpec(ROLL, bars=2, transpose=(-1, 1))
    serial = prepare(dataset, spec, workers=1)
    parallel = prepare(dataset, spec, refresh=True, workers=2)
    for split in ("train", "valid", "test"):
        assert np.array_equal(serial.windows[split], parallel.windows[split])
        assert np.array_equal(serial.piece_ids[split], parallel.piece_ids[split])


def test_reference_metrics_are_those_of_the_real_training_windows():
    dataset = tiny(n_pieces=4, split="train")
    plain = prepare(dataset, WindowSpec(ROLL, bars=4), workers=1)
    augmented = prepare(dataset, WindowSpec(ROLL, bars=4, transpose=(-1, 1)), workers=1)
    expected = window_metrics(
        plain.windows["train"], ROLL, steps_per_bar=16, track_names=["Melody", "Bass"], melody_index=0
    )
    assert "pitch_range/Melody" in expected and "tonal_distance" in expected
    assert augmented.reference.keys() == expected.keys()
    assert all(np.isclose(augmented.reference[key], value, equal_nan=True) for key, value in expected.items())


def test_reference_metrics_of_a_large_dataset_come_from_a_seeded_sample(monkeypatch):
    monkeypatch.setattr(windows_module, "REFERENCE_WINDOWS", 3)
    dataset = tiny(n_pieces=6, split="train")
    first = prepare(dataset, WindowSpec(ROLL, bars=2), workers=1)
    again = prepare(dataset, WindowSpec(ROLL, bars=2), refresh=True, workers=1)
    assert len(first.windows["train"]) == 24
    assert first.reference.keys() == again.reference.keys()
    assert all(np.isclose(first.reference[key], again.reference[key], equal_nan=True) for key in first.reference)
    rates = [
        window_metrics(first.windows["train"][[i]], ROLL, steps_per_bar=16, track_names=["Melody", "Bass"])[
            "pitch_range/Melody"
        ]
        for i in range(24)
    ]
    # The mean of some 3 of the 24 windows, not of all of them.
    assert first.reference["pitch_range/Melody"] != pytest.approx(np.mean(rates))


def test_pieces_the_source_skips_and_pieces_in_other_meters_are_counted():
    waltz = Score(resolution=RESOLUTION, time_signature=(3, 4), tracks=melody_and_bass(4, seed=0).tracks)

    class WithABadFile(TinyDataset):
        def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
            skip_item("broken.mid", "it is not a MIDI file")
            yield from super().iter_pieces(split)

    prepared = prepare(WithABadFile([Piece("waltz", waltz, "train")]), WindowSpec(ROLL, bars=4), workers=1)
    assert prepared.stats.pieces_skipped == 1
    assert prepared.stats.pieces_in_other_meters == 1
    assert len(prepared.windows["train"]) == 1  # cut on the four-quarter grid all the same


def test_an_empty_dataset_is_refused():
    with pytest.raises(DatasetError, match="gave no pieces"):
        prepare(TinyDataset([]), WindowSpec(ROLL), workers=1)


def test_a_spec_without_the_melody_is_refused_when_it_must_skip_silent_melodies():
    with pytest.raises(DatasetError, match="'Melody'"):
        prepare(tiny(), WindowSpec(ROLL, tracks=("Bass",)), workers=1)
    no_melody = (TrackSlot("Left", "accompaniment"), TrackSlot("Right", "accompaniment"))
    with pytest.raises(DatasetError, match="it has none"):
        prepare(TinyDataset([], no_melody), WindowSpec(ROLL), workers=1)


def test_an_unknown_track_name_is_refused_with_the_known_ones():
    with pytest.raises(DatasetError, match="Melody, Bass"):
        prepare(tiny(), WindowSpec(ROLL, tracks=("Melody", "Piano")), workers=1)


def test_a_pitch_range_that_cuts_off_most_notes_is_refused_with_one_that_fits():
    dataset = tiny(n_pieces=2)
    narrow = RollSpec(steps_per_beat=4, low_pitch=64, high_pitch=96)  # loses the bass and the melody's lowest notes
    notes = [note.pitch for piece in dataset.pieces for track in piece.score.tracks for note in track.notes]
    low, high = min(notes), max(notes)
    outside = sum(pitch < narrow.low_pitch for pitch in notes) / len(notes)
    assert outside > 0.2
    with pytest.raises(DatasetError, match=rf"{outside:.0%} of the notes.*span {low}-{high}.*low_pitch <= {low}"):
        prepare(dataset, WindowSpec(narrow), workers=1)


def test_a_dataset_giving_no_training_window_says_why():
    with pytest.raises(DatasetError, match="longest training piece is 2 bars"):
        prepare(tiny(n_bars=2, split="train"), WindowSpec(ROLL, bars=4), workers=1)
    silent = TinyDataset([Piece("silent", melody_and_bass(4, seed=0, silent_melody_bars=range(4)), "train")])
    with pytest.raises(DatasetError, match="silent melody"):
        prepare(silent, WindowSpec(ROLL, bars=4), workers=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bars": 0}, "at least one bar"),
        ({"hop_bars": 0}, "hop"),
        ({"transpose": (1, 3)}, "include 0"),
        ({"tracks": ()}, "track names"),
    ],
)
def test_a_bad_window_spec_is_refused(kwargs, message):
    with pytest.raises(DatasetError, match=message):
        WindowSpec(ROLL, **kwargs)


@pytest.mark.slow
@pytest.mark.usefixtures("shared_data")  # skips when ../shared/data is absent
def test_jsb_keeps_its_published_split_and_transposes_its_training_windows():
    roll = RollSpec(4, 24, 108)  # JSB spans 43-96: room for a semitone either way everywhere
    plain = prepare(get_dataset("jsb"), WindowSpec(roll, bars=2))
    assert plain.stats.pieces == {"train": 229, "valid": 76, "test": 77}
    ids = {split: set(plain.piece_ids[split].tolist()) for split in ("train", "valid", "test")}
    assert not ids["train"] & ids["valid"] and not ids["train"] & ids["test"] and not ids["valid"] & ids["test"]
    augmented = prepare(get_dataset("jsb"), WindowSpec(roll, bars=2, transpose=(-1, 1)))
    assert len(augmented.windows["train"]) == 3 * len(plain.windows["train"])
    assert np.array_equal(augmented.windows["test"], plain.windows["test"])


@pytest.mark.slow
@pytest.mark.usefixtures("shared_data")  # skips when ../shared/data is absent
def test_deepcomposer_snippets_give_one_two_bar_window_each():
    prepared = prepare(get_dataset("deepcomposer-jsb"), WindowSpec(RollSpec(4, 24, 108), bars=2))
    assert n_windows(prepared) + prepared.stats.windows_skipped_empty_melody == 229
    assert prepared.windows["train"].shape[1:] == (4, 32, 85)


@pytest.mark.slow
@pytest.mark.usefixtures("shared_data")  # skips when ../shared/data is absent
def test_real_tunes_split_by_piece_round_trip_and_stay_in_range_when_transposed():
    # Nottingham has no published split: its pieces are split by a hash of their ids.
    roll = RollSpec(4, 24, 108)
    plain = prepare(get_dataset("nottingham"), WindowSpec(roll, bars=4))
    ids = {split: set(plain.piece_ids[split].tolist()) for split in ("train", "valid", "test")}
    assert all(ids.values())
    assert not ids["train"] & ids["valid"] and not ids["train"] & ids["test"] and not ids["valid"] & ids["test"]
    templates = [slot.to_track() for slot in plain.tracks]
    for window in plain.windows["valid"][:50]:
        score = from_roll(window, roll, tracks=templates, resolution=RESOLUTION)
        assert np.array_equal(to_roll(score, roll, n_steps=window.shape[1]), window)
    augmented = prepare(get_dataset("nottingham"), WindowSpec(roll, bars=4, transpose=(-3, 3)))
    assert len(augmented.windows["train"]) > 2 * len(plain.windows["train"])
    pieces, shifts = augmented.piece_ids["train"], augmented.shifts["train"]
    for piece in sorted(set(pieces.tolist()))[:25]:
        mine = augmented.windows["train"][pieces == piece]
        base = mine[shifts[pieces == piece] == 0]
        for window, shift in zip(mine, shifts[pieces == piece], strict=True):
            # Each transposed window is one of the piece's own windows moved whole, with every note inside.
            assert any(
                np.array_equal(window, transposed(original, int(shift))) and (window > 0).sum() == (original > 0).sum()
                for original in base
            )
