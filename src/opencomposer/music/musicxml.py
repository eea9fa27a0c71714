"""MusicXML (`.musicxml`, `.xml`, compressed `.mxl`) to `Score`, through music21.

Each part becomes a track; a part written on several staves (a piano's two hands) stays one track.
Tied notes become one note, chords become one note per pitch, rests and grace notes are skipped, and
so are unpitched percussion notes. Repeats are not unfolded: the notes are read as written. Every
metronome mark and time signature change is kept, the first of each holding from the start (120
quarter notes per minute and 4/4 without them); times are in ticks at 480 per quarter note. A piece
that opens with a pickup bar gets silence before the pickup, as much as the bar lacks, so that every
bar starts at a multiple of `Score.ticks_per_bar`.

music21 is imported when a file is read, not with this module: it takes a second to import, and the command
line (which writes MIDI through `opencomposer.music.io`) must come up quickly.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence
from itertools import pairwise
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from opencomposer.errors import ScoreFileError
from opencomposer.music.score import (
    DEFAULT_RESOLUTION,
    DEFAULT_TEMPO_QPM,
    Note,
    Score,
    TempoChange,
    TimeSignatureChange,
    Track,
)

if TYPE_CHECKING:
    import music21

MUSICXML_SUFFIXES = (".mxl", ".musicxml", ".xml")
MAX_XML_BYTES = 64 * 2**20
"""The most MusicXML text `read_musicxml` decompresses from an `.mxl` (the largest OpenScore quartet holds 11 MB)."""
MAX_ARCHIVE_ENTRIES = 256
_CHUNK_BYTES = 2**20
# A <note> element (not <notehead>, <notations>, <notes>...): rests are notes in MusicXML too.
_NOTE_ELEMENT = re.compile(rb"<note[\s>/]")
RESOLUTION = DEFAULT_RESOLUTION
DEFAULT_VELOCITY = 80
# music21 splits a part with several staves into PartStaff objects with ids "<part id>-Staff<n>".
_STAFF_ID = re.compile(r"^(?P<part>.+)-Staff\d+$")
_Value = TypeVar("_Value", float, tuple[int, int])


def read_musicxml(path: str | os.PathLike[str]) -> Score:
    """Read a MusicXML file (`.musicxml`, `.xml` or compressed `.mxl`) into a `Score`.

    Parameters
    ----------
    path
        The file to read.

    Returns
    -------
    Score
        At 480 ticks per quarter note, one track per part that has notes, named after the part, with the
        General MIDI program of the part's instrument when the file gives one (else 0) and role "other".

    Raises
    ------
    ScoreFileError
        When the file is missing, cannot be parsed as MusicXML, or holds no parts.
    """
    import music21

    source = Path(path)
    if not source.is_file():
        raise ScoreFileError(f"{source} does not exist or is not a file; check the path.")
    if zipfile.is_zipfile(source):
        check_musicxml_size(source)
    parts = _parse_parts(source)
    if not parts:
        raise ScoreFileError(
            f"{source} holds no parts, so there are no notes to read; check the file in a score editor."
        )
    first_measure = parts[0].getElementsByClass(music21.stream.Measure).first()
    pickup_padding_ticks = round(first_measure.paddingLeft * RESOLUTION) if first_measure is not None else 0
    tracks = [_track_from_parts(group, pickup_padding_ticks) for group in _group_staves(parts)]
    tempos = _tempo_marks(parts, pickup_padding_ticks)
    time_signatures = _time_signatures(parts[0], pickup_padding_ticks)
    return Score(
        resolution=RESOLUTION,
        tempo=tempos[0][1] if tempos else DEFAULT_TEMPO_QPM,
        time_signature=time_signatures[0][1] if time_signatures else (4, 4),
        tracks=tuple(track for track in tracks if track.notes),
        tempo_changes=tuple(TempoChange(tick, qpm) for tick, qpm in _changes(tempos)),
        time_signature_changes=tuple(TimeSignatureChange(tick, *meter) for tick, meter in _changes(time_signatures)),
    )


def check_musicxml_size(
    path: str | os.PathLike[str],
    *,
    max_xml_bytes: int = MAX_XML_BYTES,
    max_note_elements: int | None = None,
    name: str | None = None,
) -> None:
    """Refuse a MusicXML file whose text is larger than `max_xml_bytes` or holds too many ``<note>`` elements.

    For a compressed `.mxl`, every entry music21 might read is decompressed here, a chunk at a time and never
    past the limit, so a small archive that unpacks to gigabytes (a zip bomb, whose declared sizes may lie) is
    refused after reading `max_xml_bytes` at most. The note elements (rests included) are counted on the way:
    music21 takes minutes over a file of 100,000 notes, and a melody has far fewer.

    `name` is what the messages call the file (default: its file name).

    Raises
    ------
    ScoreFileError
        When the archive is damaged, has too many entries, or the text or its notes are past a limit.
    """
    source = Path(path)
    label = name or source.name
    total_bytes = 0
    notes = 0
    try:
        if not zipfile.is_zipfile(source):
            with source.open("rb") as file:
                total_bytes, notes = _measure(file, label, max_xml_bytes)
        else:
            with zipfile.ZipFile(source) as archive:
                entries = archive.infolist()
                if len(entries) > MAX_ARCHIVE_ENTRIES:
                    raise ScoreFileError(
                        f"{label} is an archive of {len(entries)} files; a MusicXML archive (.mxl) holds a "
                        "score and a few files beside it, so it was not read."
                    )
                for entry in entries:
                    if "META-INF" in entry.filename or Path(entry.filename).suffix.lower() not in MUSICXML_SUFFIXES:
                        continue
                    if total_bytes + entry.file_size > max_xml_bytes:
                        raise _too_large(label, max_xml_bytes)
                    with archive.open(entry) as file:
                        size, found = _measure(file, label, max_xml_bytes - total_bytes)
                    total_bytes, notes = total_bytes + size, notes + found
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
        raise ScoreFileError(
            f"{label} is a damaged MusicXML archive ({type(error).__name__}: {error}); export it again from "
            "your score editor."
        ) from None
    if max_note_elements is not None and notes > max_note_elements:
        raise ScoreFileError(
            f"{label} holds {notes:,} notes and rests, more than the {max_note_elements:,} the studio reads; "
            "send a shorter piece, or only its melody."
        )


def _measure(file: IO[bytes], name: str, max_bytes: int) -> tuple[int, int]:
    """The bytes read from `file` and the ``<note>`` elements in them; raises past `max_bytes`."""
    total_bytes = notes = 0
    carried = b""
    while chunk := file.read(min(_CHUNK_BYTES, max_bytes - total_bytes + 1)):
        total_bytes += len(chunk)
        if total_bytes > max_bytes:
            raise _too_large(name, max_bytes)
        text = carried + chunk
        notes += len(_NOTE_ELEMENT.findall(text))
        # An element cut at the chunk's end is counted with the next chunk: keep the tail after the last '<'.
        cut = text.rfind(b"<")
        carried = text[cut:] if cut >= 0 and len(text) - cut < 8 else b""
        if carried:
            notes -= len(_NOTE_ELEMENT.findall(carried))
    return total_bytes, notes + len(_NOTE_ELEMENT.findall(carried))


def _too_large(name: str, max_bytes: int) -> ScoreFileError:
    return ScoreFileError(
        f"{name} holds more than {max_bytes / 2**20:g} MiB of MusicXML, more than OpenComposer reads; send a shorter "
        "piece, or only its melody."
    )


def _parse_parts(source: Path) -> list[music21.stream.Part]:
    """The parts of the file's (first) score, as written (ties are merged by `_track_from_parts`)."""
    import music21

    try:
        # forceSource: never read or leave behind music21's pickled copies of parsed files.
        parsed = music21.converter.parse(source, format="musicxml", forceSource=True)
        if isinstance(parsed, music21.stream.Opus):
            parsed = parsed.scores.first() or music21.stream.Score()
    except Exception as error:
        # music21 raises many exception types for a bad file (XML, zip, its own import errors); all of
        # them mean this file is not readable MusicXML.
        raise ScoreFileError(
            f"{source} could not be read as MusicXML ({type(error).__name__}: {error}); "
            "check that it is an uncompressed (.musicxml, .xml) or compressed (.mxl) MusicXML file."
        ) from None
    return list(parsed.parts) if isinstance(parsed, music21.stream.Score) else [parsed]


def _group_staves(parts: list[music21.stream.Part]) -> list[list[music21.stream.Part]]:
    """Gather the staves of one part, in score order, so that a piano's two hands make one track."""
    import music21

    groups: dict[str, list[music21.stream.Part]] = {}
    for index, part in enumerate(parts):
        match = _STAFF_ID.match(str(part.id)) if isinstance(part, music21.stream.PartStaff) else None
        key = match["part"] if match else f"part {index}"
        groups.setdefault(key, []).append(part)
    return list(groups.values())


def _track_from_parts(staves: list[music21.stream.Part], offset_ticks: int) -> Track:
    first = staves[0]
    instrument = first.getInstrument(returnDefault=False)
    program = instrument.midiProgram if instrument is not None else None
    notes: list[Note] = []
    for staff in staves:
        notes.extend(_staff_notes(staff, offset_ticks))
    name = first.partName or str(first.id)
    return Track(name=name, program=program if program is not None and 0 <= program <= 127 else 0, notes=tuple(notes))


def _staff_notes(staff: music21.stream.Part, offset_ticks: int) -> list[Note]:
    """The staff's notes in ticks, each tied chain merged into one note.

    music21's `stripTies` does the same but re-sorts the stream for every tie it merges: it took three
    quarters of the 40 s that one string quartet movement needed. Here one pass in offset order keeps,
    per pitch, the note whose tie is still open and lengthens it when the tie continues or stops, as
    long as the chain is unbroken (a stop after a gap starts a new note).
    """
    import music21

    notes: list[Note] = []
    open_ties: dict[int, int] = {}  # pitch -> index in `notes` of the note whose tie is still open
    for element in staff.flatten().notes:
        if element.duration.isGrace:
            continue
        start = offset_ticks + round(element.offset * RESOLUTION)
        end = start + max(round(element.quarterLength * RESOLUTION), 1)
        velocity = min(max(int(element.volume.velocity or DEFAULT_VELOCITY), 1), 127)
        # A Note has one pitch, a Chord several (each with its own tie), unpitched percussion none.
        members = list(element.notes) if isinstance(element, music21.chord.Chord) else [element]
        for member in members:
            if not hasattr(member, "pitch"):
                continue
            pitch = int(member.pitch.midi)
            kind = member.tie.type if member.tie is not None else None
            held = open_ties.get(pitch)
            if kind in ("continue", "stop") and held is not None and notes[held].end >= start:
                tied = notes[held]
                notes[held] = tied._replace(duration=max(tied.end, end) - tied.start)
                if kind == "stop":
                    del open_ties[pitch]
                continue
            notes.append(Note(pitch, start, end - start, velocity))
            # An untied note leaves an open tie alone: it may be a unison struck in another voice.
            if kind in ("start", "continue"):
                open_ties[pitch] = len(notes) - 1
    return notes


def _tempo_marks(parts: list[music21.stream.Part], offset_ticks: int) -> list[tuple[int, float]]:
    """(tick, quarter notes per minute) of every metronome mark of any part, in time order."""
    import music21

    marks = [
        (offset_ticks + round(mark.offset * RESOLUTION), float(quarter_bpm))
        for part in parts
        for mark in part.flatten().getElementsByClass(music21.tempo.MetronomeMark)
        if (quarter_bpm := mark.getQuarterBPM()) is not None and quarter_bpm > 0
    ]
    return sorted(marks, key=itemgetter(0))


def _time_signatures(part: music21.stream.Part, offset_ticks: int) -> list[tuple[int, tuple[int, int]]]:
    """(tick, (numerator, denominator)) of the valid time signatures of `part`, in time order."""
    import music21

    # Every part repeats the time signatures; the first part's are the piece's.
    signatures = []
    for signature in part.flatten().getElementsByClass(music21.meter.TimeSignature):
        numerator, denominator = int(signature.numerator), int(signature.denominator)
        if numerator > 0 and denominator > 0 and not denominator & (denominator - 1):
            signatures.append((offset_ticks + round(signature.offset * RESOLUTION), (numerator, denominator)))
    return sorted(signatures, key=itemgetter(0))


def _changes(events: Sequence[tuple[int, _Value]]) -> list[tuple[int, _Value]]:
    """The events after the first that change the value in force, the first of several at one tick.

    The first event holds from tick 0, wherever it stands (a mark written on the first note after a
    pickup, say).
    """
    changes: list[tuple[int, _Value]] = []
    for (previous_tick, _), (tick, value) in pairwise(events):
        in_force = changes[-1][1] if changes else events[0][1]
        if tick != previous_tick and value != in_force:
            changes.append((tick, value))
    return changes
