"""Folk tunes from music21's corpus, written to MIDI by music21, read back note for note.

music21 writes the events of one tick note-offs first, so its zero-length grace notes come out as a
note-off and then a note-on (see `opencomposer.music.midi_repair`): about one reel or jig in five of
Ryan's Mammoth Collection has one. The Essen tunes have no grace notes; they check the common case.
"""

# music21's `Stream.write` is not annotated.
# mypy: allow-untyped-calls

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from music21 import converter, corpus, stream
from music21.exceptions21 import StreamException
from music21.repeat import ExpanderException

from opencomposer.music.midi import read_midi

pytestmark = pytest.mark.slow

MUSIC21_TICKS_PER_QUARTER = 10_080  # music21's `defaults.ticksPerQuarter`, the resolution it writes
RYANS_MAMMOTH_TUNES = 80  # the first ones by file name: about 0.2 s each to parse, write and expand
ESSEN_BOOK = "altdeu10"  # 313 German folk songs in one ABC file, about 10 s to parse
ESSEN_TUNES = 200

# (pitch, start, duration) in ticks.
NoteKey = tuple[int, int, int]


def corpus_paths(folder: str) -> list[Path]:
    return sorted(Path(path) for path in corpus.getPaths() if Path(path).parent.name == folder)


def parse_tune(path: Path) -> stream.Score:
    """One tune, parsed from its ABC file: music21 neither reads nor writes its cache of parsed files."""
    score = converter.parse(path, forceSource=True)
    assert isinstance(score, stream.Score), path
    return score


def expected_notes(expanded: stream.Score) -> Counter[NoteKey]:
    """The notes music21 writes for a score whose repeats are expanded: tied notes joined, one per pitch.

    A grace note is written zero ticks long; `read_midi` keeps such notes one tick long.
    """
    notes: Counter[NoteKey] = Counter()
    for element in expanded.stripTies(matchByPitch=True).flatten().notes:
        start = round(element.offset * MUSIC21_TICKS_PER_QUARTER)
        duration = max(round(element.duration.quarterLength * MUSIC21_TICKS_PER_QUARTER), 1)
        notes.update((pitch.midi, start, duration) for pitch in element.pitches)
    return notes


def differences(scores: list[tuple[str, stream.Score]], folder: Path) -> tuple[int, list[str]]:
    """Write each score to MIDI in `folder` and read it back: (how many were checked, what differed)."""
    checked, problems = 0, []
    for name, score in scores:
        path = folder / f"{name}.mid"
        try:
            expanded = score.expandRepeats()
            expanded.write("midi", fp=path)
        except (ExpanderException, StreamException):  # music21 cannot write every score it reads
            continue
        checked += 1
        expected = expected_notes(expanded)
        read = read_midi(path)
        got = Counter((note.pitch, note.start, note.duration) for track in read.tracks for note in track.notes)
        if got != expected:
            missing, extra = expected - got, got - expected
            problems.append(
                f"{name}: {sum(expected.values())} notes written, {sum(got.values())} read; "
                f"missing {sorted(missing.elements())[:3]}, read instead {sorted(extra.elements())[:3]}"
            )
    return checked, problems


def test_every_note_of_ryans_mammoth_tunes_survives(tmp_path: Path) -> None:
    paths = corpus_paths("ryansMammoth")[:RYANS_MAMMOTH_TUNES]
    scores = [(path.stem, parse_tune(path)) for path in paths]
    checked, problems = differences(scores, tmp_path)
    assert checked >= 0.9 * RYANS_MAMMOTH_TUNES
    assert not problems, f"{len(problems)} of {checked} tunes read differently:\n" + "\n".join(problems)


def test_every_note_of_essen_folk_songs_survives(tmp_path: Path) -> None:
    (path,) = (path for path in corpus_paths("essenFolksong") if path.stem == ESSEN_BOOK)
    opus = converter.parse(path, forceSource=True)
    assert isinstance(opus, stream.Opus)
    scores = [(f"{path.stem}-{index}", score) for index, score in enumerate(opus.scores[:ESSEN_TUNES])]
    checked, problems = differences(scores, tmp_path)
    assert checked >= 0.7 * ESSEN_TUNES
    assert not problems, f"{len(problems)} of {checked} songs read differently:\n" + "\n".join(problems)
