"""`opencomposer data list | info | prepare | add | remove | download`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from opencomposer.cli import main
from opencomposer.cli.data import parse_transpose
from opencomposer.data import download as download_module
from opencomposer.data import registry
from opencomposer.data.download import PLANS, DownloadPlan, RemoteFile
from opencomposer.errors import DatasetError
from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track

TUNE = Score(
    tracks=(
        Track(name="Melody", notes=tuple(Note(60 + (i % 5), i * 480, 480) for i in range(32))),
        Track(name="Bass", notes=tuple(Note(36, i * 1920, 1920) for i in range(8))),
    )
)


@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own data directory (registered folders, window caches, downloads)."""
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def no_shared_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "shared_data_dirs", lambda: [])


@pytest.fixture
def songs(tmp_path: Path) -> Path:
    folder = tmp_path / "songs"
    folder.mkdir()
    write_midi(TUNE, folder / "tune.mid")
    write_midi(TUNE.with_tracks(TUNE.tracks[::-1]), folder / "tune-reversed.mid")
    (folder / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06 and then garbage")
    return folder


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["data", *args], env={"COLUMNS": "200"})


def table_rows(output: str) -> dict[str, list[str]]:
    rows = [line.split("│")[1:-1] for line in output.splitlines() if line.count("│") > 2]
    return {cells[0].strip(): [cell.strip() for cell in cells] for cells in rows}


def test_list_shows_every_built_in_dataset_with_pieces_licence_and_presence(shared_data: Path) -> None:
    result = run("list")

    assert result.exit_code == 0, result.output
    rows = table_rows(result.output)
    assert sorted(rows) == registry.builtin_dataset_names()
    assert {"bach-chorales", "deepcomposer-jsb", "jsb", "jsb-8th", "jsb-quarter", "jsb-satb"} <= set(rows)
    assert rows["jsb"] == ["jsb", "classical, baroque, chorale", "382", "Public domain (Bach)", "yes"]
    assert rows["deepcomposer-jsb"][2:] == ["229", "MIT", "yes"]


def test_list_says_how_to_get_a_missing_dataset(no_shared_copy: None) -> None:
    result = run("list")

    assert result.exit_code == 0, result.output
    rows = table_rows(result.output)
    assert rows["jsb"][-1] == "no"
    assert rows["bach-chorales"][-1] == "yes"
    assert "opencomposer data download NAME" in result.output


def test_info_shows_layout_source_and_pieces_per_split(shared_data: Path) -> None:
    result = run("info", "jsb-quarter")

    assert result.exit_code == 0, result.output
    assert "1. Soprano (melody); 2. Alto (accompaniment); 3. Tenor (accompaniment); 4. Bass" in result.output
    assert f"found    {shared_data / 'jsb'}" in result.output
    assert "pieces   229 train, 76 valid, 77 test" in result.output
    assert "read     382 of 382 pieces read; none skipped" in result.output


def test_info_of_a_missing_dataset_says_what_to_do(no_shared_copy: None) -> None:
    result = run("info", "jsb")

    assert result.exit_code == 0, result.output
    assert "cannot be found on this machine: run `opencomposer data download jsb`" in result.output
    assert "read " not in result.output


def test_info_of_an_unknown_dataset_lists_the_known_ones() -> None:
    result = run("info", "bach")

    assert result.exit_code == 2
    assert "There is no dataset called 'bach'" in result.output
    assert "bach-chorales" in result.output


def test_add_reads_the_folder_reports_skips_and_lists_it(songs: Path, private_data: Path) -> None:
    result = run("add", "my-songs", str(songs), "--genre", "folk")

    assert result.exit_code == 0, result.output
    assert f"Added my-songs ({songs}): 2 of 3 pieces read; 1 skipped: see log." in result.stdout
    assert "warning: Skipped: " in result.stderr and "corrupt.mid" in result.stderr
    assert (private_data / "folders.json").is_file()
    assert table_rows(run("list").output)["my-songs"][1:3] == ["folk", "3"]

    info = run("info", "my-songs")
    assert "read     2 of 3 pieces read; 1 skipped: see log" in info.stdout


def test_add_refuses_an_empty_folder_and_saves_nothing(tmp_path: Path, private_data: Path) -> None:
    (tmp_path / "empty").mkdir()

    result = run("add", "nothing", str(tmp_path / "empty"), "--genre", "pop")

    assert result.exit_code == 2
    assert "holds no MIDI or MusicXML file" in result.output
    assert "Traceback" not in result.output
    assert not (private_data / "folders.json").exists()


def test_add_refuses_a_melody_name_no_file_has(songs: Path, private_data: Path) -> None:
    result = run("add", "my-songs", str(songs), "--genre", "pop", "--melody", "Vocals")

    assert result.exit_code == 2
    assert "--melody" in result.output
    assert not (private_data / "folders.json").exists()


def test_add_refuses_a_built_in_name(songs: Path) -> None:
    result = run("add", "jsb", str(songs), "--genre", "pop")

    assert result.exit_code == 2
    assert "built-in dataset" in result.output


def test_remove_forgets_the_folder_but_keeps_its_files(songs: Path) -> None:
    run("add", "my-songs", str(songs), "--genre", "pop")

    result = run("remove", "my-songs")

    assert result.exit_code == 0, result.output
    assert "my-songs" not in table_rows(run("list").output)
    assert (songs / "tune.mid").is_file()


def test_prepare_prints_windows_per_split_time_and_cache(songs: Path, private_data: Path) -> None:
    run("add", "my-songs", str(songs), "--genre", "pop")

    result = run(
        "prepare", "my-songs", "--bars", "1", "--low-pitch", "24", "--high-pitch", "96", "--transpose=-1..1",
        "--workers", "1",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    rows = table_rows(result.output)
    assert sorted(rows) == ["test", "train", "valid"]
    total_windows = sum(int(rows[split][2].replace(",", "")) for split in rows)
    assert total_windows > 0
    assert rows["train"][3].endswith(", 2, 16, 73)")
    assert "Took " in result.output
    cache = result.output.split("Cache: ")[1].strip()
    assert Path(cache).is_file() and Path(cache).is_relative_to(private_data)


def test_prepare_refuses_a_transposition_that_is_not_a_range() -> None:
    result = run("prepare", "jsb", "--transpose", "up")

    assert result.exit_code == 2
    assert "LOW..HIGH" in result.output


@pytest.mark.parametrize(
    ("text", "expected"), [("0", (0, 0)), ("5", (-5, 5)), ("-5..6", (-5, 6)), ("-3 .. +2", (-3, 2))]
)
def test_transposition_ranges(text: str, expected: tuple[int, int]) -> None:
    assert parse_transpose(text) == expected


def test_a_transposition_range_must_include_the_original_key() -> None:
    with pytest.raises(DatasetError, match="must include 0"):
        parse_transpose("2..5")


def test_download_of_a_dataset_in_the_shared_copy_fetches_nothing(shared_data: Path) -> None:
    result = run("download", "jsb")

    assert result.exit_code == 0, result.output
    assert f"already on this machine, in {shared_data / 'jsb'}" in result.output


def test_download_fetches_and_checks_the_files(
    shared_data: Path, private_data: Path, no_shared_copy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def local_copy(url: str, destination: Path) -> None:
        shutil.copyfile(shared_data / "jsb" / url.rsplit("/", 1)[1], destination)

    monkeypatch.setattr(download_module, "fetch_url", local_copy)

    result = run("download", "jsb-8th")

    assert result.exit_code == 0, result.output
    assert f"jsb-8th is in {private_data / 'jsb'}, every file checked" in result.output
    assert run("info", "jsb-8th").output.count("382 of 382 pieces read") == 1


def test_download_without_network_is_one_clear_line(no_shared_copy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 (discard) on the loopback address refuses the connection at once, as an offline machine would.
    unreachable = tuple(
        RemoteFile(url=f"http://127.0.0.1:9/{remote.path}", path=remote.path, sha256=remote.sha256)
        for remote in PLANS["jsb"].files
    )
    monkeypatch.setitem(PLANS, "jsb", DownloadPlan(folder="jsb", files=unreachable))

    result = run("download", "jsb")

    assert result.exit_code == 2
    assert result.output.startswith("Error: Could not download http://127.0.0.1:9/")
    assert len(result.output.strip().splitlines()) == 1
