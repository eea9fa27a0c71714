"""What every source shares: skipped files counted in read reports, and parsing in worker processes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from opencomposer.data.registry import ReadReport, SkippedItem, read_in_workers, recording_skips, skip_item
from opencomposer.data.sources.folder import read_as_layout
from opencomposer.errors import MidiError
from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track


def test_a_skip_is_one_warning_and_counts_in_every_open_report(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), recording_skips() as outer:
        skip_item("a.mid", "it is empty")
        with recording_skips() as inner:
            skip_item("b.mid", "b.mid is not a MIDI file")

    assert outer == [SkippedItem("a.mid", "it is empty"), SkippedItem("b.mid", "b.mid is not a MIDI file")]
    assert inner == [SkippedItem("b.mid", "b.mid is not a MIDI file")]
    assert [record.getMessage() for record in caplog.records] == [
        "Skipped a.mid: it is empty",
        "Skipped: b.mid is not a MIDI file",
    ]


def test_a_skip_outside_any_report_is_only_logged() -> None:
    skip_item("c.mid", "damaged")

    with recording_skips() as skipped:
        pass
    assert skipped == []


def test_report_summary_lines() -> None:
    clean = ReadReport("jsb", pieces_per_split={"train": 229, "valid": 76, "test": 77})
    skipping = ReadReport("lieder", pieces_per_split={"all": 1455}, skipped=[SkippedItem("x", "y")] * 5)

    assert clean.summary() == "382 of 382 pieces read; none skipped"
    assert skipping.summary() == "1,455 of 1,460 pieces read; 5 skipped: see log"


def test_workers_keep_the_order_and_hand_back_errors(tmp_path: Path) -> None:
    paths = []
    for index in range(6):
        path = tmp_path / f"{index}.mid"
        if index == 3:
            path.write_bytes(b"not midi")
        else:
            melody = Track(name="Melody", notes=(Note(60 + index, 0, 480),))
            write_midi(Score(tracks=(melody,)), path)
        paths.append(path)

    results = list(read_in_workers(read_as_layout, paths, workers=2))

    assert [path for path, _ in results] == paths
    assert isinstance(results[3][1], MidiError)
    pitches = [result.tracks[0].notes[0].pitch for _, result in results if isinstance(result, Score)]
    assert pitches == [60, 61, 62, 64, 65]


def test_one_worker_reads_in_this_process() -> None:
    seen: list[int] = []

    def read(item: int) -> int:
        seen.append(item)
        return item * 2

    assert list(read_in_workers(read, [1, 2, 3], workers=1)) == [(1, 2), (2, 4), (3, 6)]
    assert seen == [1, 2, 3]
