"""Reading and writing MIDI files: one tiny file per edge case, written with mido into tmp_path."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TypeAlias

import mido
import pytest

from opencomposer.errors import MidiError
from opencomposer.music.midi import midi_to_bytes, read_midi, write_midi
from opencomposer.music.score import Note, Score, TempoChange, TimeSignatureChange, Track

Event: TypeAlias = "mido.Message | mido.MetaMessage"


def note_on(pitch: int, time: int = 0, velocity: int = 90, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=pitch, velocity=velocity, channel=channel, time=time)


def note_off(pitch: int, time: int = 0, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=pitch, channel=channel, time=time)


def write_mido(path: Path, tracks: list[list[Event]], *, midi_type: int = 1, resolution: int = 480) -> Path:
    midi_file = mido.MidiFile(type=midi_type, ticks_per_beat=resolution)
    for events in tracks:
        midi_file.tracks.append(mido.MidiTrack(events))
    midi_file.save(path)
    return path


def one_note_track(pitch: int = 60, duration: int = 480) -> list[Event]:
    return [note_on(pitch), note_off(pitch, time=duration)]


# Reading


def test_type_1_keeps_track_names_programs_and_notes(tmp_path: Path) -> None:
    path = write_mido(
        tmp_path / "two.mid",
        [
            [mido.MetaMessage("set_tempo", tempo=600_000)],
            [
                mido.MetaMessage("track_name", name="Flute"),
                mido.Message("program_change", program=73),
                note_on(72),
                note_off(72, time=240),
                note_on(74),
                note_off(74, time=240),
            ],
            [
                mido.MetaMessage("track_name", name="Cello"),
                mido.Message("program_change", program=42, channel=1),
                note_on(48, channel=1),
                note_off(48, time=960, channel=1),
            ],
        ],
        resolution=96,
    )
    score = read_midi(path)
    assert score.resolution == 96
    assert score.tempo == pytest.approx(100.0)
    assert [(t.name, t.program, t.is_drum, t.role) for t in score.tracks] == [
        ("Flute", 73, False, "other"),
        ("Cello", 42, False, "other"),
    ]
    assert score.tracks[0].notes == (Note(72, 0, 240, 90), Note(74, 240, 240, 90))
    assert score.tracks[1].notes == (Note(48, 0, 960, 90),)


def test_type_0_is_split_into_one_track_per_channel_and_channel_10_is_drums(tmp_path: Path) -> None:
    path = write_mido(
        tmp_path / "type0.mid",
        [
            [
                mido.Message("program_change", program=40, channel=0),
                mido.Message("program_change", program=33, channel=1),
                note_on(76, channel=0),
                note_on(40, channel=1),
                note_on(36, channel=9),
                note_off(76, time=480, channel=0),
                note_off(40, channel=1),
                note_off(36, channel=9),
            ]
        ],
        midi_type=0,
    )
    tracks = sorted(read_midi(path).tracks, key=lambda track: track.notes[0].pitch)
    assert [(t.program, t.is_drum, [n.pitch for n in t.notes]) for t in tracks] == [
        (0, True, [36]),
        (33, False, [40]),
        (40, False, [76]),
    ]


def test_every_tempo_change_is_kept(tmp_path: Path) -> None:
    path = write_mido(
        tmp_path / "tempos.mid",
        [
            [
                mido.MetaMessage("set_tempo", tempo=500_000),  # 120 qpm
                mido.MetaMessage("set_tempo", tempo=400_000, time=480),  # 150 qpm
                mido.MetaMessage("set_tempo", tempo=600_000, time=480),  # 100 qpm
            ],
            one_note_track(duration=1920),
        ],
    )
    score = read_midi(path)
    assert score.tempo == pytest.approx(120.0)
    assert score.tempo_changes == (TempoChange(480, 150.0), TempoChange(960, 100.0))
    # 480 ticks at 120, 480 at 150 and 960 at 100 quarter notes per minute.
    assert score.get_duration_seconds() == pytest.approx(0.5 + 0.4 + 1.2)
    assert score.get_duration_seconds() == pytest.approx(mido.MidiFile(path).length)


def test_of_several_tempos_at_one_tick_the_last_plays(tmp_path: Path) -> None:
    events = [mido.MetaMessage("set_tempo", tempo=tempo) for tempo in (500_000, 600_000)]
    path = write_mido(tmp_path / "two_at_once.mid", [events, one_note_track()])
    assert read_midi(path).get_tempo_map() == (TempoChange(0, 100.0),)
    assert read_midi(path).get_duration_seconds() == pytest.approx(mido.MidiFile(path).length)


def test_a_repeated_tempo_is_not_a_change(tmp_path: Path) -> None:
    tempo = mido.MetaMessage("set_tempo", tempo=600_000)
    path = write_mido(tmp_path / "same.mid", [[tempo, tempo.copy(time=960)], one_note_track()])
    assert read_midi(path).get_tempo_map() == (TempoChange(0, 100.0),)


def test_no_tempo_and_no_time_signature_give_120_and_4_4(tmp_path: Path) -> None:
    score = read_midi(write_mido(tmp_path / "bare.mid", [one_note_track()]))
    assert score.tempo == 120.0
    assert score.time_signature == (4, 4)
    assert (score.tempo_changes, score.time_signature_changes) == ((), ())


def test_a_first_tempo_after_tick_0_follows_120_quarter_notes_per_minute(tmp_path: Path) -> None:
    path = write_mido(
        tmp_path / "late.mid",
        [[mido.MetaMessage("set_tempo", tempo=1_000_000, time=480)], one_note_track(duration=960)],
    )
    score = read_midi(path)
    assert score.get_tempo_map() == (TempoChange(0, 120.0), TempoChange(480, 60.0))
    assert score.get_duration_seconds() == pytest.approx(1.5)


def test_every_time_signature_change_is_kept(tmp_path: Path) -> None:
    path = write_mido(
        tmp_path / "meters.mid",
        [
            [
                mido.MetaMessage("time_signature", numerator=6, denominator=8),
                mido.MetaMessage("time_signature", numerator=2, denominator=4, time=1440),
                mido.MetaMessage("time_signature", numerator=2, denominator=4, time=960),
            ],
            one_note_track(),
        ],
    )
    score = read_midi(path)
    assert score.time_signature == (6, 8)
    assert score.time_signature_changes == (TimeSignatureChange(1440, 2, 4),)


def test_of_several_time_signatures_at_one_tick_the_first_is_kept(tmp_path: Path) -> None:
    # POP909 writes a 1/4 placeholder after the real time signature.
    events = [mido.MetaMessage("time_signature", numerator=n, denominator=4) for n in (4, 1)]
    score = read_midi(write_mido(tmp_path / "placeholder.mid", [events, one_note_track()]))
    assert score.get_time_signature_map() == (TimeSignatureChange(0, 4, 4),)


def test_overlapping_notes_on_one_pitch_are_kept_first_in_first_out(tmp_path: Path) -> None:
    events = [note_on(60), note_on(60, time=240, velocity=70), note_off(60, time=240), note_off(60, time=240)]
    score = read_midi(write_mido(tmp_path / "overlap.mid", [events]))
    assert score.tracks[0].notes == (Note(60, 0, 480, 90), Note(60, 240, 480, 70))


def test_zero_length_notes_are_kept_one_tick_long(tmp_path: Path) -> None:
    events = [
        note_on(38, channel=9),
        note_off(38, channel=9),
        note_on(42, time=240, channel=9),
        note_off(42, channel=9),
    ]
    score = read_midi(write_mido(tmp_path / "hits.mid", [events]))
    assert score.tracks[0].is_drum
    assert score.tracks[0].notes == (Note(38, 0, 1, 90), Note(42, 240, 1, 90))


def test_a_zero_length_note_written_note_off_first_is_kept_one_tick_long(tmp_path: Path) -> None:
    # music21 writes a grace note so: at its tick, its note-off before its note-on.
    events = [note_off(74), note_on(74), note_on(76), note_off(76, time=240), note_on(74), note_off(74, time=240)]
    score = read_midi(write_mido(tmp_path / "grace.mid", [events]))
    assert score.tracks[0].notes == (Note(74, 0, 1, 90), Note(76, 0, 240, 90), Note(74, 240, 240, 90))


def test_zero_length_notes_written_note_off_first_one_after_another_and_at_the_end(tmp_path: Path) -> None:
    events = [
        *[note_off(74), note_on(74), note_on(76), note_off(76, time=240)],
        *[note_off(74), note_on(74), note_on(77), note_off(77, time=240)],
        *[note_off(74), note_on(74)],
    ]
    score = read_midi(write_mido(tmp_path / "graces.mid", [events]))
    assert score.tracks[0].notes == (
        Note(74, 0, 1, 90),
        Note(76, 0, 240, 90),
        Note(74, 240, 1, 90),
        Note(77, 240, 240, 90),
        Note(74, 480, 1, 90),
    )


def test_a_spare_note_off_before_a_note_leaves_the_note_as_written(tmp_path: Path) -> None:
    # Some sequencers switch a pitch off before each note; the zero-length note on 74 is there so that
    # the file is looked at closely.
    events = [
        *[note_off(60), note_on(60), note_off(60, time=480)],
        *[note_off(60), note_off(60), note_on(60), note_off(74), note_on(74), note_off(60, time=480)],
    ]
    score = read_midi(write_mido(tmp_path / "spare.mid", [events]))
    assert score.tracks[0].notes == (Note(60, 0, 480, 90), Note(60, 480, 480, 90), Note(74, 480, 1, 90))


def test_a_note_off_added_after_a_zero_length_note_keeps_running_status_working(tmp_path: Path) -> None:
    # After the note-off of 74, one note-on status 0x90 runs through the rest of the track.
    events = bytes.fromhex("00 80 4A 00" + "00 90 4A 50" + "00 4C 50" + "83 60 4C 00" + "00 4A 50" + "83 60 4A 00")
    events += bytes.fromhex("00 FF 2F 00")
    header = b"MThd" + bytes.fromhex("00000006 0000 0001 01E0")
    path = tmp_path / "running-grace.mid"
    path.write_bytes(header + b"MTrk" + len(events).to_bytes(4, "big") + events)
    assert read_midi(path).tracks[0].notes == (Note(74, 0, 1, 80), Note(76, 0, 480, 80), Note(74, 480, 480, 80))


def test_note_on_with_velocity_0_ends_the_note(tmp_path: Path) -> None:
    events = [
        note_on(64),
        note_on(64, time=360, velocity=0),
        note_on(67, velocity=50),
        note_on(67, time=120, velocity=0),
    ]
    score = read_midi(write_mido(tmp_path / "vel0.mid", [events]))
    assert score.tracks[0].notes == (Note(64, 0, 360, 90), Note(67, 360, 120, 50))


def test_running_status_is_understood(tmp_path: Path) -> None:
    # Status 0x90 is given once; the next three events reuse it (the last two as velocity-0 note-offs).
    events = bytes.fromhex("00 90 3C 40" + "00 40 50" + "83 60 3C 00" + "00 40 00" + "00 FF 2F 00")
    header = b"MThd" + bytes.fromhex("00000006 0000 0001 01E0")
    path = tmp_path / "running.mid"
    path.write_bytes(header + b"MTrk" + len(events).to_bytes(4, "big") + events)
    assert read_midi(path).tracks[0].notes == (Note(60, 0, 480, 64), Note(64, 0, 480, 80))


def test_a_note_that_is_never_switched_off_is_dropped(tmp_path: Path) -> None:
    events = [note_on(60), note_on(64, time=480), note_off(64, time=480)]
    assert read_midi(write_mido(tmp_path / "hanging.mid", [events])).tracks[0].notes == (Note(64, 480, 480, 90),)


def test_a_file_without_notes_is_an_empty_score_at_its_resolution(tmp_path: Path) -> None:
    path = write_mido(tmp_path / "silent.mid", [[mido.MetaMessage("track_name", name="Nothing")]], resolution=220)
    score = read_midi(path)
    assert score.resolution == 220
    assert score.tracks == ()


def test_tracks_without_notes_are_dropped(tmp_path: Path) -> None:
    path = write_mido(
        tmp_path / "gaps.mid",
        [
            [mido.MetaMessage("track_name", name="Empty")],
            [mido.MetaMessage("track_name", name="Full"), *one_note_track()],
        ],
    )
    assert [track.name for track in read_midi(path).tracks] == ["Full"]


@pytest.mark.parametrize("suffix", [".mid", ".midi", ".MID"])
def test_both_suffixes_and_str_paths_are_read(tmp_path: Path, suffix: str) -> None:
    path = write_mido(tmp_path / f"tune{suffix}", [one_note_track()])
    assert read_midi(str(path)).n_notes == 1


def test_bytes_are_read_like_a_file(tmp_path: Path) -> None:
    path = write_mido(tmp_path / "tune.mid", [one_note_track(62)])
    assert read_midi(path.read_bytes()) == read_midi(path)


# Reading errors: always MidiError, with a sentence naming the file and the problem


def test_a_missing_file_is_a_midi_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.mid"
    with pytest.raises(MidiError, match=r"nowhere\.mid does not exist"):
        read_midi(path)


def test_a_folder_is_a_midi_error(tmp_path: Path) -> None:
    with pytest.raises(MidiError, match="is a folder"):
        read_midi(tmp_path)


def test_an_empty_file_is_a_midi_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.mid"
    path.write_bytes(b"")
    with pytest.raises(MidiError, match=r"empty\.mid is empty \(0 bytes\)"):
        read_midi(path)


def test_a_text_file_is_not_a_midi_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.mid"
    path.write_text("C D E F G\n")
    with pytest.raises(MidiError, match=r"notes\.mid is not a MIDI file: it does not start with MThd"):
        read_midi(path)


@pytest.fixture
def two_track_bytes(tmp_path: Path) -> bytes:
    """A 14-byte header, then a 19-byte tempo track (ending at byte 33), then a 29-byte note track (byte 62)."""
    path = write_mido(
        tmp_path / "whole.mid",
        [
            [mido.MetaMessage("set_tempo", tempo=600_000)],
            [mido.MetaMessage("track_name", name="Lead"), *one_note_track()],
        ],
    )
    data = path.read_bytes()
    assert len(data) == 62
    return data


@pytest.mark.parametrize(
    ("kept_bytes", "problem"),
    [
        (8, "it ends inside its 14-byte header after 8 bytes"),
        (20, "it ends inside the header of track 1"),
        (25, "it ends 8 byte(s) short of the end of track 1"),
        (33, "it holds 1 of the 2 tracks its header announces"),
        (50, "it ends 12 byte(s) short of the end of track 2"),
        (61, "it ends 1 byte(s) short of the end of track 2"),
    ],
)
def test_a_truncated_file_says_where_it_was_cut(two_track_bytes: bytes, kept_bytes: int, problem: str) -> None:
    with pytest.raises(MidiError, match=re.escape(f"cut.mid is a truncated MIDI file: {problem}; export it again")):
        read_midi(two_track_bytes[:kept_bytes], name="cut.mid")


def test_bytes_after_the_last_track_are_ignored(two_track_bytes: bytes) -> None:
    assert read_midi(two_track_bytes + b"\x00\x00\x00").n_notes == 1


def test_a_damaged_track_is_a_midi_error(two_track_bytes: bytes) -> None:
    data = bytearray(two_track_bytes)
    data[50] = 0xF4  # an undefined status byte where the note-on is
    assert two_track_bytes[50] == 0x90
    with pytest.raises(MidiError, match=r"^bad\.mid is a damaged MIDI file \(.+\); export it again"):
        read_midi(bytes(data), name="bad.mid")


def test_smpte_timing_is_a_midi_error(tmp_path: Path) -> None:
    data = bytearray(write_mido(tmp_path / "tune.mid", [one_note_track()]).read_bytes())
    data[12:14] = bytes([0xE7, 0x28])  # -25 frames per second, 40 ticks per frame
    with pytest.raises(MidiError, match="damaged MIDI file"):
        read_midi(bytes(data), name="smpte.mid")


def test_bytes_are_named_in_errors() -> None:
    with pytest.raises(MidiError, match=r"^upload\.mid is not a MIDI file"):
        read_midi(b"RIFF....WAVEfmt ", name="upload.mid")
    with pytest.raises(MidiError, match=r"^the MIDI data is not a MIDI file"):
        read_midi(b"RIFF....WAVEfmt ")


# Writing


def three_track_score() -> Score:
    return Score(
        resolution=480,
        tempo=100.0,
        time_signature=(3, 4),
        tracks=(
            Track("Melody", 0, False, (Note(72, 0, 480, 90), Note(74, 480, 480, 80)), role="melody"),
            Track("Kit", 0, True, (Note(36, 0, 240, 100), Note(38, 480, 240, 100))),
            Track("Bass", 33, False, (Note(36, 0, 960, 70),), role="accompaniment"),
        ),
    )


def test_writing_makes_a_type_1_file_with_a_tempo_track(tmp_path: Path) -> None:
    path = tmp_path / "out.mid"
    write_midi(three_track_score(), path)
    midi_file = mido.MidiFile(path)
    assert midi_file.type == 1
    assert midi_file.ticks_per_beat == 480
    conductor = midi_file.tracks[0]
    assert [m.tempo for m in conductor if m.type == "set_tempo"] == [600_000]
    assert [(m.numerator, m.denominator) for m in conductor if m.type == "time_signature"] == [(3, 4)]
    assert not any(m.type == "note_on" for m in conductor)
    assert [track.name for track in midi_file.tracks[1:]] == ["Melody", "Kit", "Bass"]


def test_writing_puts_drums_on_channel_10_and_skips_it_for_the_others() -> None:
    melodic = [Track(f"T{i}", i, False, (Note(60, 0, 10, 80),)) for i in range(11)]
    drums = Track("Drums", 0, True, (Note(36, 0, 10, 80),))
    score = Score(tracks=(melodic[0], drums, *melodic[1:]))
    midi_file = mido.MidiFile(file=io.BytesIO(midi_to_bytes(score)))
    channels = [{m.channel for m in track if not m.is_meta} for track in midi_file.tracks[1:]]
    assert channels == [{0}, {9}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {10}, {11}]
    programs = [next(m.program for m in track if m.type == "program_change") for track in midi_file.tracks[1:]]
    assert programs == [0, 0, *range(1, 11)]


def test_written_velocities_are_clamped_to_1_127() -> None:
    score = Score(tracks=(Track("T", 0, False, (Note(60, 0, 10, 0), Note(62, 0, 10, 300))),))
    assert [n.velocity for n in read_midi(midi_to_bytes(score)).tracks[0].notes] == [1, 127]


def test_a_repeated_pitch_is_not_cut_short() -> None:
    # The second C starts on the tick the first one ends: the note-off must come first in the file.
    notes = (Note(60, 0, 480, 80), Note(60, 480, 480, 80))
    assert read_midi(midi_to_bytes(Score(tracks=(Track("T", notes=notes),)))).tracks[0].notes == notes


@pytest.mark.parametrize("pitch", [-1, 128])
def test_writing_a_pitch_outside_0_127_is_a_midi_error(pitch: int) -> None:
    score = Score(tracks=(Track("Lead", 0, False, (Note(pitch, 480, 10, 80),)),))
    with pytest.raises(MidiError, match=rf"Track 'Lead' has a note of pitch {pitch} at tick 480"):
        midi_to_bytes(score)


def test_writing_into_a_missing_folder_is_a_midi_error(tmp_path: Path) -> None:
    with pytest.raises(MidiError, match=r"Could not write .*out\.mid"):
        write_midi(three_track_score(), tmp_path / "missing" / "out.mid")


def test_a_written_score_reads_back_identically(tmp_path: Path) -> None:
    path = tmp_path / "again.mid"
    score = three_track_score()
    write_midi(score, path)
    again = read_midi(path)
    assert (again.resolution, again.tempo, again.time_signature) == (480, 100.0, (3, 4))
    # Roles are not stored in MIDI: the reader gives "other" and the caller decides.
    assert [(t.name, t.program, t.is_drum, t.notes) for t in again.tracks] == [
        (t.name, t.program, t.is_drum, t.notes) for t in score.tracks
    ]


def test_non_ascii_track_names_survive_a_round_trip() -> None:
    score = Score(tracks=(Track("Singstimme – Ω 歌", 52, False, (Note(67, 0, 480, 80),)),))
    assert read_midi(midi_to_bytes(score)).tracks[0].name == "Singstimme – Ω 歌"


def test_event_times_past_32_bits_are_a_midi_error(tmp_path: Path) -> None:
    # Nine maximal delta times add up to more ticks than a 32-bit time can count.
    far = [mido.MetaMessage("text", text="wait", time=0x0FFFFFFF) for _ in range(9)]
    path = write_mido(tmp_path / "far.mid", [[*far, *one_note_track()]])
    with pytest.raises(MidiError, match=r"far\.mid is a damaged MIDI file: its event times run past 2\^31 ticks"):
        read_midi(path)


def test_writing_a_note_before_tick_0_is_a_midi_error() -> None:
    score = Score(tracks=(Track("Lead", 0, False, (Note(60, -10, 20, 80),)),))
    with pytest.raises(MidiError, match=r"Track 'Lead' has a note that starts at tick -10"):
        midi_to_bytes(score)


def test_a_resolution_midi_cannot_store_is_a_midi_error() -> None:
    with pytest.raises(MidiError, match="cannot store a resolution of 40000 ticks per quarter note"):
        midi_to_bytes(Score(resolution=40_000))


def test_a_tempo_midi_cannot_store_is_a_midi_error() -> None:
    with pytest.raises(MidiError, match=r"cannot store a tempo of 2 quarter notes per minute; .* at least 3\.58"):
        midi_to_bytes(Score(tempo=2.0))
