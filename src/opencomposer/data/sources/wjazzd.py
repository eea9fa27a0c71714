"""The Weimar Jazz Database: 456 transcribed jazz solos over their chords and bass line.

Each solo has a melody file (`mcsv_melody/<Performer>_<Title>_FINAL.csv`, one row per note) and a beat
file (`mcsv_beat/..._FINAL_beattrack.csv`, one row per beat with the chord symbol and the bass pitch).
Reading a solo:

- Times come from the metrical columns, not the recording's seconds (which are expressive): a beat is
  a quarter note of 480 ticks (every signature in the database is n/4), a bar holds `period` beats,
  and a note starts at its bar, beat and tatum ((tatum - 1) / division of a beat). Bars are counted
  from the first bar of the beat file, so pick-up bars (numbered 0 or below) start the score. A note's
  length is its seconds over its beat's seconds, rounded to the tatum grid (at least one tatum) and cut
  where the next note starts, since the solos are monophonic. The tempo is 60 / the median beat length.
- Melody: the solo, at velocity 80 (the loudness columns are estimates on scales the files do not
  state, and missing from some), on the performer's principal instrument (`PERFORMER_PROGRAMS`; tenor
  sax for anyone not listed). A few solos are played on a performer's second instrument.
- Chords: the beat file's `chord` per beat (Jazzomat syntax, `parse_jazzomat`), one block chord from
  the beat where the symbol changes to the beat where it changes again; `NC` sounds nothing. 11 solos
  have no chords at all, so their Chords track is empty.
- Bass: the beat file's `bass` pitch on each beat as a quarter note, moved by octaves into 28-60.
  19 solos have no bass column, so their Bass track is empty.

Every column is read by name (the files do not all have the same ones). Piece ids are the file names
without `_FINAL.csv`: `wjazzd/JohnColtrane_GiantSteps-1`. There is no published split.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from opencomposer.data.download import require_data_folder
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot, refuse_split, register, skip_item
from opencomposer.data.sources.chord_track import CHORD_VELOCITY, ChordSpan, chord_notes
from opencomposer.errors import DatasetError, OpenComposerError
from opencomposer.music.chords import parse_jazzomat
from opencomposer.music.score import Note, Score, TimeSignatureChange

TRACKS = (
    TrackSlot("Melody", "melody", program=66),
    TrackSlot("Chords", "accompaniment", program=0),
    TrackSlot("Bass", "accompaniment", program=32),
)
RESOLUTION = 480
MELODY_VELOCITY = 80
BASS_LOW_PITCH, BASS_HIGH_PITCH = 28, 60
_DEFAULT_PROGRAM = 66  # Tenor Sax, the instrument of most solos

# Each performer's principal instrument (as General MIDI program), by the names the files use.
_PERFORMERS_BY_PROGRAM = {
    65: "CharlieParker PaulDesmond LeeKonitz BennyCarter SonnyStitt PhilWoods EricDolphy ArtPepper "
    "OrnetteColeman CannonballAdderley KennyGarrett JohnnyHodges SteveColeman",  # Alto Sax
    64: "SteveLacy SidneyBechet",  # Soprano Sax
    67: "GerryMulligan PepperAdams",  # Baritone Sax
    56: "MilesDavis CliffordBrown WoodyShaw LouisArmstrong ChetBaker WyntonMarsalis KennyDorham RoyEldridge "
    "FreddieHubbard FatsNavarro DonEllis DizzyGillespie BixBeiderbecke LeeMorgan KennyWheeler BuckClayton "
    "NatAdderley RexStewart HenryAllen HarryEdison CharlieShavers",  # Trumpet (and cornet)
    57: "JJJohnson DickieWells KidOry SteveTurre CurtisFuller KaiWinding JCHigginbotham",  # Trombone
    71: "BennyGoodman JohnnyDodds",  # Clarinet
    11: "MiltJackson LionelHampton",  # Vibraphone
    0: "HerbieHancock RedGarland",  # Acoustic Grand Piano
    26: "PatMetheny PatMartino JohnAbercrombie",  # Electric Guitar (jazz)
}
PERFORMER_PROGRAMS: dict[str, int] = {
    name: program for program, names in _PERFORMERS_BY_PROGRAM.items() for name in names.split()
}
"""General MIDI program of each performer's principal instrument (name as in the file names); others: 66."""


@register("wjazzd")
class WeimarJazz(Dataset):
    """The Weimar Jazz Database's solos (Jazzomat Research Project), with chords and bass per beat."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="wjazzd",
            title="Weimar Jazz Database",
            description=(
                "456 jazz solos transcribed from recordings (1925-2009, 78 performers): the solo on a quantised "
                "grid over the tune's chord symbols and the bass line, one chord and bass note per beat. By the "
                "Jazzomat Research Project, University of Music Franz Liszt Weimar: credit them. Open Database "
                "License 1.0 with the Database Contents License 1.0 (as the Jazzomat's MeloSpy states; a database "
                "derived from it and made public must be offered under the ODbL too); the recordings are not part "
                "of it."
            ),
            genres=("jazz",),
            licence="ODbL-1.0 / DbCL-1.0",
            upstream="https://jazzomat.hfm-weimar.de/dbformat/dboverview.html",
            tracks=TRACKS,
            folder="wjazzd",
            version="1",
            expected_pieces=456,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every solo in file-name order (there is no published split: `split` must be None).

        Raises
        ------
        UnknownNameError
            When a split is asked for.
        DatasetError
            When the dataset's files are not on this machine.
        """
        refuse_split(self.info, split)
        root = require_data_folder(self.info)
        for melody_path in sorted((root / "mcsv_melody").glob("*_FINAL.csv")):
            stem = melody_path.name.removesuffix("_FINAL.csv")
            try:
                score = read_solo(melody_path, root / "mcsv_beat" / f"{stem}_FINAL_beattrack.csv")
            except OpenComposerError as error:
                skip_item(str(melody_path), str(error))
                continue
            yield Piece(id=f"{self.info.name}/{stem}", score=score)


def read_solo(melody_path: Path, beat_path: Path) -> Score:
    """Read one solo's melody and beat files into the Melody / Chords / Bass layout (see the module docstring).

    Raises
    ------
    DatasetError
        When a file is missing or damaged, or the solo has no notes.
    """
    notes = _read_rows(melody_path)
    beats = _read_rows(beat_path)
    if not notes or not beats:
        raise DatasetError(f"{melody_path} or its beat file has no rows; download the dataset again.")
    try:
        bar_starts = _bar_start_ticks(notes + beats)
        melody = _melody_notes(notes, bar_starts)
        beat_ticks = [bar_starts[int(row["bar"])] + (int(row["beat"]) - 1) * RESOLUTION for row in beats]
        chords = _chord_spans([row["chord"] for row in beats], beat_ticks)
        bass = _bass_notes([row.get("bass", "") for row in beats], beat_ticks)
        tempo = 60.0 / statistics.median(float(row["beat_duration"]) for row in notes)
        meter_changes = _meter_changes(notes + beats, bar_starts)
    except (KeyError, ValueError, statistics.StatisticsError) as error:
        raise DatasetError(
            f"{melody_path} or its beat file is damaged ({error!r}); download the dataset again."
        ) from None
    performer = melody_path.name.partition("_")[0]
    melody_slot = replace(TRACKS[0], program=PERFORMER_PROGRAMS.get(performer, _DEFAULT_PROGRAM))
    tracks = (
        melody_slot.to_track().with_notes(melody),
        TRACKS[1].to_track().with_notes(chord_notes(chords)),
        TRACKS[2].to_track().with_notes(bass),
    )
    return Score(
        resolution=RESOLUTION,
        tempo=tempo,
        time_signature=(meter_changes[0].numerator, 4),
        time_signature_changes=tuple(meter_changes[1:]),
        tracks=tracks,
    )


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"Could not read {path} ({error}); download the dataset again.") from None


def _bar_start_ticks(rows: list[dict[str, str]]) -> dict[int, int]:
    """The tick each bar starts on, from the first bar of the solo; a bar lasts its `period` beats."""
    periods: dict[int, int] = {}
    for row in rows:
        periods.setdefault(int(row["bar"]), int(row["period"]))
    first, last = min(periods), max(periods)
    starts: dict[int, int] = {}
    tick, period = 0, periods[first]
    for bar in range(first, last + 1):
        period = periods.get(bar, period)
        starts[bar] = tick
        tick += period * RESOLUTION
    return starts


def _meter_changes(rows: list[dict[str, str]], bar_starts: dict[int, int]) -> list[TimeSignatureChange]:
    """The meter of the first bar, then each bar where `period` changes (the few solos in two meters)."""
    periods: dict[int, int] = {}
    for row in rows:
        periods.setdefault(int(row["bar"]), int(row["period"]))
    changes: list[TimeSignatureChange] = []
    for bar in sorted(periods):
        if not changes or periods[bar] != changes[-1].numerator:
            changes.append(TimeSignatureChange(bar_starts[bar], periods[bar], 4))
    return changes


def _melody_notes(rows: list[dict[str, str]], bar_starts: dict[int, int]) -> list[Note]:
    """The solo's notes on the tatum grid, each cut where the next one starts."""
    placed = []
    for row in rows:
        division = int(row["division"])
        tatum_ticks = RESOLUTION / division
        start = (
            bar_starts[int(row["bar"])]
            + (int(row["beat"]) - 1) * RESOLUTION
            + round((int(row["tatum"]) - 1) * tatum_ticks)
        )
        tatums = max(1, round(float(row["duration"]) / float(row["beat_duration"]) * division))
        placed.append((start, round(tatums * tatum_ticks), int(float(row["pitch"]))))
    placed.sort()
    notes = []
    for index, (start, duration, pitch) in enumerate(placed):
        if index + 1 < len(placed) and placed[index + 1][0] > start:
            duration = min(duration, placed[index + 1][0] - start)
        notes.append(Note(pitch, start, max(1, duration), MELODY_VELOCITY))
    return notes


def _chord_spans(symbols: list[str], beat_ticks: list[int]) -> list[ChordSpan]:
    """One span per run of beats with the same symbol, lasting until the next symbol (the last: one beat on)."""
    spans = []
    run_start = 0
    for index in range(1, len(symbols) + 1):
        if index < len(symbols) and symbols[index] == symbols[run_start]:
            continue
        end = beat_ticks[index] if index < len(symbols) else beat_ticks[-1] + RESOLUTION
        spans.append(ChordSpan(beat_ticks[run_start], end, parse_jazzomat(symbols[run_start])))
        run_start = index
    return spans


def _bass_notes(pitches: list[str], beat_ticks: list[int]) -> list[Note]:
    """A quarter note on each beat with a bass pitch, moved by octaves into 28-60."""
    notes = []
    for text, tick in zip(pitches, beat_ticks, strict=True):
        try:
            pitch = round(float(text))
        except ValueError:
            continue  # no bass on this beat (or no bass column at all)
        while pitch < BASS_LOW_PITCH:
            pitch += 12
        while pitch > BASS_HIGH_PITCH:
            pitch -= 12
        notes.append(Note(pitch, tick, RESOLUTION, CHORD_VELOCITY))
    return notes
