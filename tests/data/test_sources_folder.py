"""The user's folders as datasets: melody choice, merged accompaniment, bad files, registration."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from opencomposer.data.registry import get_dataset, list_datasets, read_report
from opencomposer.data.sources.folder import (
    FOLDER_TRACKS,
    FolderDataset,
    FolderEntry,
    folders_file,
    load_folders,
    new_folder_entry,
    remove_folder,
    save_folder,
    to_folder_layout,
)
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track

LEAD = Track(name="Lead", program=80, notes=(Note(72, 0, 480), Note(74, 480, 480), Note(76, 960, 960)))
PIANO = Track(name="Piano", notes=(Note(48, 0, 1920), Note(55, 0, 1920)))
STRINGS = Track(name="Strings", program=48, notes=(Note(60, 0, 1920), Note(55, 0, 1920)))
DRUMS = Track(name="Drums", is_drum=True, notes=(Note(36, 0, 120), Note(38, 480, 120)))
SONG = Score(tracks=(PIANO, LEAD, STRINGS, DRUMS))


@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own data directory, so its registered folders start empty."""
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def songs(tmp_path: Path) -> Path:
    """A folder with a good song in a sub-folder, a corrupt file, a text file and a hidden file."""
    folder = tmp_path / "songs"
    (folder / "album").mkdir(parents=True)
    write_midi(SONG, folder / "album" / "song.mid")
    (folder / "broken.mid").write_bytes(b"this is not MIDI")
    (folder / "notes.txt").write_text("not music")
    write_midi(SONG, folder / ".hidden.mid")
    return folder


def _dataset(folder: Path, melody: str | None = None) -> FolderDataset:
    return FolderDataset(FolderEntry(name="mine", path=folder, genre="pop", melody=melody), workers=1)


def test_a_corrupt_file_is_skipped_named_and_counted(songs: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        report = read_report(_dataset(songs))

    assert report.pieces_per_split == {"all": 1}
    assert [Path(item.item).name for item in report.skipped] == ["broken.mid"]
    assert report.summary() == "1 of 2 pieces read; 1 skipped: see log"
    assert any("broken.mid" in record.getMessage() for record in caplog.records)


def test_ids_are_paths_inside_the_folder_and_stable(songs: Path) -> None:
    first = [piece.id for piece in _dataset(songs).iter_pieces()]

    assert first == ["mine/album/song.mid"]
    assert first == [piece.id for piece in _dataset(songs).iter_pieces()]


def test_the_melody_is_found_and_the_rest_merged_without_drums(songs: Path) -> None:
    piece = next(_dataset(songs).iter_pieces())
    melody, accompaniment = piece.score.tracks

    assert [(t.name, t.role) for t in piece.score.tracks] == [(s.name, s.role) for s in FOLDER_TRACKS]
    assert [note.pitch for note in melody.notes] == [72, 74, 76]
    # The G (55) doubled by piano and strings is played once; the drums are left out.
    assert sorted(note.pitch for note in accompaniment.notes) == [48, 55, 60]


def test_the_melody_can_be_named(songs: Path) -> None:
    melody, accompaniment = next(_dataset(songs, melody="strings").iter_pieces()).score.tracks

    assert sorted(note.pitch for note in melody.notes) == [55, 60]
    assert 72 in {note.pitch for note in accompaniment.notes}


def test_no_file_with_the_named_melody_is_a_clear_error(songs: Path) -> None:
    with pytest.raises(DatasetError, match="--melody"):
        list(_dataset(songs, melody="Vocals").iter_pieces())


def test_a_folder_with_only_drums_has_no_melody(tmp_path: Path) -> None:
    folder = tmp_path / "beats"
    folder.mkdir()
    write_midi(Score(tracks=(DRUMS,)), folder / "beat.mid")

    with pytest.raises(DatasetError, match="None of the 1 music files"):
        list(_dataset(folder).iter_pieces())


def test_an_empty_folder_is_refused_before_reading(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("nothing here")

    with pytest.raises(DatasetError, match="holds no MIDI or MusicXML file"):
        next(_dataset(tmp_path / "empty").iter_pieces())


def test_a_folder_that_was_removed_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="opencomposer data remove mine"):
        next(_dataset(tmp_path / "gone").iter_pieces())


def test_musicxml_files_are_read_too(tmp_path: Path) -> None:
    folder = tmp_path / "scores"
    folder.mkdir()
    (folder / "tune.musicxml").write_text(_MUSICXML_TUNE)

    piece = next(_dataset(folder).iter_pieces())

    assert piece.id == "mine/tune.musicxml"
    assert [note.pitch for note in piece.score.tracks[0].notes] == [60, 62, 64, 65]


def test_the_version_changes_when_a_file_is_added(songs: Path) -> None:
    before = _dataset(songs).info.version
    write_midi(SONG, songs / "another.mid")

    assert _dataset(songs).info.version != before
    assert _dataset(songs, melody="Lead").info.version != _dataset(songs).info.version


def test_a_registered_folder_is_listed_like_a_built_in_dataset(songs: Path) -> None:
    save_folder(new_folder_entry("my-songs", songs, "pop", melody="Lead"))

    dataset = get_dataset("my-songs")
    assert isinstance(dataset, FolderDataset)
    assert dataset.info.genres == ("pop",)
    assert dataset.entry.melody == "Lead"
    assert "my-songs" in [d.info.name for d in list_datasets()]
    assert "jsb" in [d.info.name for d in list_datasets()]

    assert remove_folder("my-songs").path == songs
    with pytest.raises(UnknownNameError):
        get_dataset("my-songs")


def test_registration_survives_a_new_process_through_the_json_file(songs: Path, private_data: Path) -> None:
    save_folder(new_folder_entry("a", songs, "folk"))
    save_folder(new_folder_entry("b", songs, "jazz"))

    assert folders_file() == private_data / "folders.json"
    assert {name: entry.genre for name, entry in load_folders().items()} == {"a": "folk", "b": "jazz"}


@pytest.mark.parametrize(
    ("name", "message"),
    [("jsb", "built-in dataset"), ("My Songs", "lower-case letters"), ("", "lower-case letters")],
)
def test_a_bad_or_taken_name_is_refused(songs: Path, name: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        new_folder_entry(name, songs, "pop")


def test_a_missing_folder_or_empty_genre_is_refused(tmp_path: Path, songs: Path) -> None:
    with pytest.raises(DatasetError, match="is not a folder"):
        new_folder_entry("x", tmp_path / "nowhere", "pop")
    with pytest.raises(DatasetError, match="genre"):
        new_folder_entry("x", songs, "  ")


def test_removing_an_unknown_folder_names_the_known_ones(songs: Path) -> None:
    save_folder(new_folder_entry("mine", songs, "pop"))

    with pytest.raises(UnknownNameError, match="your folders: mine"):
        remove_folder("yours")


def test_a_damaged_folders_file_never_hides_the_built_in_datasets(private_data: Path) -> None:
    private_data.mkdir(parents=True)
    folders_file().write_text("{not json")

    assert "jsb" in [d.info.name for d in list_datasets()]
    with pytest.raises(DatasetError, match="is damaged"):
        load_folders(strict=True)


def test_layout_of_a_score_with_one_track_has_an_empty_accompaniment() -> None:
    melody, accompaniment = to_folder_layout(Score(tracks=(LEAD,))).tracks

    assert melody.notes == LEAD.notes
    assert accompaniment.notes == ()


_MUSICXML_TUNE = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>D</step><octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>F</step><octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>
    </measure>
  </part>
</score-partwise>
"""
