"""Downloading datasets: published hashes, archive manifests, tampered files, no network."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opencomposer.data import download as download_module
from opencomposer.data import registry
from opencomposer.data.download import (
    PLANS,
    DownloadPlan,
    Manifest,
    RemoteArchive,
    RemoteFile,
    download,
    fetch_url,
    file_sha256,
    missing_data_message,
    require_data_file,
)
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, get_dataset
from opencomposer.errors import DatasetError, DownloadError

SNIPPETS = "reinvent-labs/lab-2/original_midi"


@pytest.fixture
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, with no shared copy to fall back on."""
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(registry, "shared_data_dirs", lambda: [])
    return tmp_path / "data"


def serve(files: dict[str, Path]) -> Callable[[str, Path], None]:
    """A fetcher that answers each known URL with a local file, like a server would."""

    def fetch(url: str, destination: Path) -> None:
        shutil.copyfile(files[url], destination)

    return fetch


def jsb_files(folder: Path) -> dict[str, Path]:
    return {remote.url: folder / remote.path for remote in PLANS["jsb"].files}


def snippet_archive(shared_data: Path, path: Path, *, tamper: bool = False) -> Path:
    """A zip laid out like GitHub's snapshot of the lab's repository (one top folder, other files around)."""
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("aws-deepcomposer-samples-abc123/README.md", "samples")
        bundle.writestr(f"aws-deepcomposer-samples-abc123/{SNIPPETS}/", "")
        for midi in sorted((shared_data / "deepcomposer" / "gan-original-midi").glob("MIDI-*.mid")):
            data = midi.read_bytes()
            if tamper and midi.name == "MIDI-17.mid":
                data = data[:-4] + b"\x00\x00\x00\x00"
            bundle.writestr(f"aws-deepcomposer-samples-abc123/{SNIPPETS}/{midi.name}", data)
        bundle.writestr(f"aws-deepcomposer-samples-abc123/{SNIPPETS}/notes.txt", "not a snippet")
    return path


def test_published_files_are_accepted_and_installed(shared_data: Path, private_data: Path) -> None:
    target = download("jsb-quarter", fetch=serve(jsb_files(shared_data / "jsb")))

    assert target == private_data / "jsb"
    for remote in PLANS["jsb"].files:
        assert file_sha256(target / remote.path) == remote.sha256
    assert len(list(get_dataset("jsb-quarter").iter_pieces("test"))) == 77


def test_a_tampered_file_is_rejected_and_nothing_installed(
    shared_data: Path, private_data: Path, tmp_path: Path
) -> None:
    files = jsb_files(shared_data / "jsb")
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(files[PLANS["jsb"].files[1].url].read_bytes().replace(b"60", b"61", 1))
    files[PLANS["jsb"].files[1].url] = tampered

    with pytest.raises(DownloadError, match="not the published one"):
        download("jsb", fetch=serve(files))

    assert not any((private_data / "jsb").glob("*"))
    assert not any(path.name.startswith(".download") for path in private_data.iterdir())


def test_files_already_in_place_are_not_fetched_again(shared_data: Path, private_data: Path) -> None:
    download("jsb", fetch=serve(jsb_files(shared_data / "jsb")))

    def no_network(url: str, destination: Path) -> None:
        raise AssertionError(f"fetched {url} again")

    assert download("jsb", fetch=no_network) == private_data / "jsb"


def test_an_archive_matching_the_manifest_is_accepted(shared_data: Path, private_data: Path, tmp_path: Path) -> None:
    archive = snippet_archive(shared_data, tmp_path / "lab.zip")
    url = PLANS["deepcomposer"].archives[0].url

    target = download("deepcomposer-jsb", fetch=serve({url: archive}))

    snippets = sorted(path.name for path in (target / "gan-original-midi").iterdir())
    assert len(snippets) == 229
    assert "notes.txt" not in snippets
    assert len(list(get_dataset("deepcomposer-jsb").iter_pieces())) == 229


def test_a_tampered_archive_is_rejected_and_nothing_installed(
    shared_data: Path, private_data: Path, tmp_path: Path
) -> None:
    archive = snippet_archive(shared_data, tmp_path / "lab.zip", tamper=True)
    url = PLANS["deepcomposer"].archives[0].url

    with pytest.raises(DownloadError, match="not the published ones"):
        download("deepcomposer-jsb", fetch=serve({url: archive}))

    assert not (private_data / "deepcomposer").exists()


def test_a_damaged_archive_is_rejected(private_data: Path, tmp_path: Path) -> None:
    (tmp_path / "lab.zip").write_bytes(b"PK\x03\x04 truncated")
    url = PLANS["deepcomposer"].archives[0].url

    with pytest.raises(DownloadError, match="damaged"):
        download("deepcomposer-jsb", fetch=serve({url: tmp_path / "lab.zip"}))


def test_file_urls_are_fetched(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"chorale" * 1000)

    fetch_url(source.as_uri(), tmp_path / "copy.bin")

    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


def test_no_network_gives_a_sentence_saying_what_to_do(private_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 (discard) on the loopback address refuses the connection at once, as an offline machine would.
    unreachable = tuple(
        RemoteFile(url=f"http://127.0.0.1:9/{remote.path}", path=remote.path, sha256=remote.sha256)
        for remote in PLANS["jsb"].files
    )
    monkeypatch.setitem(PLANS, "jsb", DownloadPlan(folder="jsb", files=unreachable))

    with pytest.raises(DownloadError) as error:
        download("jsb")

    message = str(error.value)
    assert message.startswith("Could not download http://127.0.0.1:9/")
    assert "check the internet connection" in message
    assert str(private_data) in message


def test_the_cli_default_fetcher_is_looked_up_when_called(
    shared_data: Path, private_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download_module, "fetch_url", serve(jsb_files(shared_data / "jsb")))

    assert download("jsb-satb") == private_data / "jsb"


def test_openscore_datasets_explain_how_to_get_them_by_hand(private_data: Path) -> None:
    info = DatasetInfo(
        name="lieder", title="", description="", genres=(), licence="", upstream="", tracks=(), folder="lieder"
    )

    with pytest.raises(DownloadError, match="MuseScore"):
        download(_InfoOnly(info))
    assert "MuseScore" in missing_data_message(info)


def test_the_chorales_in_music21_have_nothing_to_download() -> None:
    with pytest.raises(DownloadError, match="nothing to download"):
        download("bach-chorales")


@pytest.mark.parametrize("name", ["deepcomposer", "pop909", "nottingham"])
def test_shipped_manifests_match_the_shared_copy(shared_data: Path, name: str) -> None:
    manifest = Manifest.load(name)

    assert Manifest.from_folder(shared_data / name, manifest.patterns) == manifest
    assert manifest.n_files > 200


def test_manifest_patterns_match_whole_path_segments(tmp_path: Path) -> None:
    (tmp_path / "001" / "versions").mkdir(parents=True)
    (tmp_path / "001" / "001.mid").write_bytes(b"a")
    (tmp_path / "001" / "versions" / "001-v1.mid").write_bytes(b"b")

    manifest = Manifest.from_folder(tmp_path, ["[0-9][0-9][0-9]/*.mid"])

    assert manifest.n_files == 1


def test_archive_members_outside_the_dataset_or_escaping_are_ignored() -> None:
    archive = RemoteArchive(url="", source_dir="POP909", target_dir="", manifest="pop909")

    assert download_module._archive_target("repo-main/POP909/001/001.mid", archive) == "001/001.mid"
    assert download_module._archive_target("repo-main/other/001.mid", archive) is None
    assert download_module._archive_target("repo-main/POP909/../../etc/passwd", archive) is None


def test_a_missing_file_names_the_download_command(private_data: Path) -> None:
    with pytest.raises(DatasetError, match="opencomposer data download jsb"):
        require_data_file(get_dataset("jsb").info, "jsb-chorales-16th.json")


class _InfoOnly(Dataset):
    """A dataset known only by its info, standing in for a source another module provides."""

    def __init__(self, info: DatasetInfo) -> None:
        self.info = info

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        return iter(())


def test_a_file_missing_from_the_data_directory_is_read_from_the_shared_copy(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    (tmp_path / "data" / "jsb").mkdir(parents=True)

    found = require_data_file(get_dataset("jsb").info, "jsb-chorales-16th.json")

    assert found == shared_data / "jsb" / "jsb-chorales-16th.json"
