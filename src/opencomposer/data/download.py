"""Finding a dataset's files, and downloading them from upstream with checked hashes.

A dataset's files are looked for in the user's data directory (`OPENCOMPOSER_DATA`), then in the
shared copy beside the project (`../shared/data`). When neither has them, `download` fetches them from
the upstream repository into the data directory and checks every byte before anything is moved into
place:

- a single published file (the JSB JSON files) must have the sha256 of that exact upstream file;
- an archive (a repository snapshot) cannot be known offline by its own hash, so the files the loader
  reads are extracted and checked against a manifest shipped in `opencomposer/data/manifests/`: the
  number of files and one sha256 over the sorted list of (path, sha256) pairs.

A dataset whose upstream holds no file a loader can read (OpenScore publishes MuseScore files, not
MusicXML) has a plan that says how to get its files by hand instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from opencomposer.data.registry import Dataset, DatasetInfo, data_dir, find_data_file, find_data_folder, get_dataset
from opencomposer.errors import DatasetError, DownloadError

logger = logging.getLogger(__name__)

Fetcher = Callable[[str, Path], None]
"""Downloads the URL (first argument) to the file (second argument); raises `DownloadError` on failure."""

_CHUNK_BYTES = 1 << 20
_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One published file: where it is, where it goes inside the dataset folder, and its sha256."""

    url: str
    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class RemoteArchive:
    """A zip snapshot of a repository, and which of its files the loader reads.

    Parameters
    ----------
    url
        The zip file. Its single top folder (GitHub names it after the repository and commit) is ignored.
    source_dir
        The folder inside the archive, below its top folder, that holds the dataset ("" for all of it).
    target_dir
        Where that folder's files go inside the dataset folder ("" for the dataset folder itself).
    manifest
        Name of the manifest (`data/manifests/<manifest>.json`) listing the files to keep and their hash.
    """

    url: str
    source_dir: str
    target_dir: str
    manifest: str


@dataclass(frozen=True, slots=True)
class DownloadPlan:
    """How to get one dataset folder: published files, archives, or (with `by_hand`) only instructions."""

    folder: str
    files: tuple[RemoteFile, ...] = ()
    archives: tuple[RemoteArchive, ...] = ()
    by_hand: str = ""


@dataclass(frozen=True, slots=True)
class Manifest:
    """The files of a dataset folder that a loader reads: how many, and one sha256 over all of them.

    `sha256` is the hex SHA-256 of the lines "<path>\\t<sha256 of the file>\\n", for every file whose
    path (relative to the dataset folder, with "/") matches one of `patterns`, in sorted path order.
    """

    patterns: tuple[str, ...]
    n_files: int
    sha256: str

    @classmethod
    def from_folder(cls, folder: Path, patterns: Iterable[str]) -> Manifest:
        """The manifest of the files under `folder` that match `patterns`."""
        patterns = tuple(patterns)
        paths = sorted(
            relative
            for path in folder.rglob("*")
            if path.is_file() and _matches_any(relative := path.relative_to(folder).as_posix(), patterns)
        )
        digest = hashlib.sha256()
        for relative in paths:
            digest.update(f"{relative}\t{file_sha256(folder / relative)}\n".encode())
        return cls(patterns=patterns, n_files=len(paths), sha256=digest.hexdigest())

    @classmethod
    def load(cls, name: str) -> Manifest:
        """The manifest shipped with the package as `data/manifests/<name>.json`."""
        text = resources.files("opencomposer.data").joinpath("manifests", f"{name}.json").read_text("utf-8")
        fields = json.loads(text)
        return cls(patterns=tuple(fields["patterns"]), n_files=int(fields["files"]), sha256=str(fields["sha256"]))

    def to_json(self) -> str:
        """The manifest as the JSON text stored in `data/manifests/`."""
        return json.dumps({"patterns": list(self.patterns), "files": self.n_files, "sha256": self.sha256}, indent=2)


_JSB_URL = "https://raw.githubusercontent.com/czhuang/JSB-Chorales-dataset"
_OPENSCORE_BY_HAND = (
    "OpenScore publishes its {what} as MuseScore files, which OpenComposer cannot read, so there is nothing to "
    "download automatically: convert the scores to MusicXML (.mxl) with MuseScore (the README of {upstream} "
    "shows how)"
)

PLANS: dict[str, DownloadPlan] = {
    "jsb": DownloadPlan(
        folder="jsb",
        files=(
            RemoteFile(
                url=f"{_JSB_URL}/9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d/jsb-chorales-quarter.json",
                path="jsb-chorales-quarter.json",
                sha256="2db9329f1881a1d3f49703ec556bf1d6f84b4f6c1d702c156536e93cf31e1c91",
            ),
            RemoteFile(
                url=f"{_JSB_URL}/9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d/jsb-chorales-8th.json",
                path="jsb-chorales-8th.json",
                sha256="88fb80b22829a815e8105da538d94ae803773158507e2145938351f35142390a",
            ),
            RemoteFile(
                url=f"{_JSB_URL}/9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d/jsb-chorales-16th.json",
                path="jsb-chorales-16th.json",
                sha256="8730aca7b64e7d29493733d1cf19fad4a5b351d8f1845e57dac27728104fd39f",
            ),
            RemoteFile(
                url=f"{_JSB_URL}/4610106e4c2a1c1457e1d54983b92c66cf7f17c9/Jsb16thSeparated.npz",
                path="Jsb16thSeparated.npz",
                sha256="2adcdf0d57880c3763f104555072285fe7f9e3d6049fcc4b9830557b8d4a7820",
            ),
        ),
    ),
    "deepcomposer": DownloadPlan(
        folder="deepcomposer",
        archives=(
            RemoteArchive(
                url="https://github.com/aws-samples/aws-deepcomposer-samples/archive/HEAD.zip",
                source_dir="reinvent-labs/lab-2/original_midi",
                target_dir="gan-original-midi",
                manifest="deepcomposer",
            ),
        ),
    ),
    "pop909": DownloadPlan(
        folder="pop909",
        archives=(
            RemoteArchive(
                url="https://github.com/music-x-lab/POP909-Dataset/archive/HEAD.zip",
                source_dir="POP909",
                target_dir="",
                manifest="pop909",
            ),
        ),
    ),
    "nottingham": DownloadPlan(
        folder="nottingham",
        archives=(
            RemoteArchive(
                url="https://github.com/jukedeck/nottingham-dataset/archive/HEAD.zip",
                source_dir="MIDI",
                target_dir="MIDI",
                manifest="nottingham",
            ),
        ),
    ),
    "groove": DownloadPlan(
        folder="groove",
        archives=(
            RemoteArchive(
                url="https://github.com/zharry29/drums-with-llm/archive/HEAD.zip",
                source_dir="groove",
                target_dir="",
                manifest="groove",
            ),
        ),
    ),
    "wjazzd": DownloadPlan(
        folder="wjazzd",
        archives=(
            RemoteArchive(
                url="https://github.com/slSeanWU/jazz_transformer/archive/HEAD.zip",
                source_dir="",
                target_dir="",
                manifest="wjazzd",
            ),
        ),
    ),
    "openewld": DownloadPlan(
        folder="openewld",
        archives=(
            RemoteArchive(
                url="https://github.com/00sapo/OpenEWLD/archive/HEAD.zip",
                source_dir="",
                target_dir="",
                manifest="openewld",
            ),
        ),
    ),
    "mutopia-orchestral": DownloadPlan(
        folder="mutopia-orchestral",
        by_hand=(
            "The Mutopia Project publishes its orchestral works as LilyPond sources, and this dataset's MIDI files "
            "and pieces.csv were compiled from them with LilyPond 2.24, so there is nothing to download "
            "automatically: get the folder from whoever prepared it (github.com/MutopiaProject/MutopiaProject, "
            "folder ftp/, holds the sources)"
        ),
    ),
    "lieder": DownloadPlan(
        folder="lieder",
        by_hand=_OPENSCORE_BY_HAND.format(what="Lieder", upstream="github.com/OpenScore/Lieder"),
    ),
    "string-quartets": DownloadPlan(
        folder="string-quartets",
        by_hand=_OPENSCORE_BY_HAND.format(what="String Quartets", upstream="github.com/OpenScore/StringQuartets"),
    ),
}


def missing_data_message(info: DatasetInfo, what: str = "") -> str:
    """The sentence telling a user whose machine lacks a dataset's files exactly what to do.

    `what` names the missing files ("jsb-chorales-16th.json", "The MusicXML scores"); default all of them.
    """
    missing = f"{what} of" if what else "The files of"
    plan = PLANS.get(info.folder)
    if plan is not None and plan.by_hand:
        return f"{missing} the {info.name} dataset cannot be found on this machine. {_by_hand_sentence(info, plan)}"
    return (
        f"{missing} the {info.name} dataset cannot be found on this machine: run "
        f"`opencomposer data download {info.name}` (it needs internet; they come from {info.upstream}), "
        f"or put them in {data_dir() / info.folder}, "
        f"or set OPENCOMPOSER_DATA to a folder that holds {info.folder}/."
    )


def _by_hand_sentence(info: DatasetInfo, plan: DownloadPlan) -> str:
    return (
        f"{plan.by_hand}, and put them in {data_dir() / info.folder}, "
        f"or set OPENCOMPOSER_DATA to a folder that holds {info.folder}/."
    )


def require_data_folder(info: DatasetInfo) -> Path:
    """The folder holding a dataset's files; raises `DatasetError` saying what to do when there is none."""
    folder = find_data_folder(info.folder)
    if folder is None:
        raise DatasetError(missing_data_message(info))
    return folder


def require_data_file(info: DatasetInfo, relative: str, *, verify: bool = False) -> Path:
    """The path of one file of a dataset, looked for in every data folder.

    Parameters
    ----------
    info
        The dataset.
    relative
        The file's path inside the dataset folder.
    verify
        Also check the file's sha256 against the published one (for files that are unpickled).

    Raises
    ------
    DatasetError
        When no data folder has the file, or (with `verify`) the file differs from the published one.
    """
    path = find_data_file(info.folder, relative)
    if path is None:
        require_data_folder(info)
        raise DatasetError(missing_data_message(info, what=relative))
    if verify:
        expected = _published_sha256(info.folder, relative)
        actual = file_sha256(path)
        if actual != expected:
            raise DatasetError(
                f"{path} is not the published file (sha256 {actual[:12]}..., expected {expected[:12]}...), "
                f"so it is not read: delete it and run `opencomposer data download {info.name}`."
            )
    return path


def _published_sha256(folder: str, relative: str) -> str:
    plan = PLANS.get(folder)
    for remote in plan.files if plan else ():
        if remote.path == relative:
            return remote.sha256
    raise ValueError(f"No published sha256 is known for {folder}/{relative}.")


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_url(url: str, destination: Path) -> None:
    """Download `url` (http, https or file) to the file `destination`.

    Raises
    ------
    DownloadError
        When the URL cannot be reached or read, with a sentence saying what to do without a network.
    """
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response, destination.open("wb") as file:
            shutil.copyfileobj(response, file, _CHUNK_BYTES)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(
            f"Could not download {url} ({reason}); check the internet connection and try again, "
            f"or fetch it on another machine and put the dataset's files in {data_dir()}."
        ) from None


def download(dataset: Dataset | str, *, fetch: Fetcher | None = None) -> Path:
    """Download a dataset's files into the data directory, check them, and return the dataset folder.

    Everything is fetched into a temporary folder inside the data directory and checked there; only
    files that pass are moved into `data_dir()/<folder>`, replacing older copies of the same files.
    Files already present and correct are not fetched again.

    Parameters
    ----------
    dataset
        The dataset, or its name.
    fetch
        Downloads one URL to a file; default `fetch_url`.

    Raises
    ------
    DownloadError
        When the dataset cannot be downloaded automatically (the sentence says how to get it by hand),
        a URL cannot be reached, an archive is damaged, or a file does not match its published hash.
    """
    info = _info(dataset)
    plan = PLANS.get(info.folder)
    target = data_dir() / info.folder
    fetch = fetch or fetch_url
    if plan is None:
        raise DownloadError(f"The {info.name} dataset has nothing to download: its files come from {info.upstream}.")
    if plan.by_hand:
        raise DownloadError(_by_hand_sentence(info, plan))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".download-{info.folder}-") as staging_name:
        staging = Path(staging_name)
        extracted = staging / "files"
        for remote in plan.files:
            if (target / remote.path).is_file() and file_sha256(target / remote.path) == remote.sha256:
                continue
            _fetch_file(remote, extracted, fetch)
        for archive in plan.archives:
            manifest = Manifest.load(archive.manifest)
            if target.is_dir() and Manifest.from_folder(target, manifest.patterns) == manifest:
                continue
            _fetch_archive(archive, manifest, staging, extracted, fetch)
        _move_into_place(extracted, target)
    return target


def _fetch_file(remote: RemoteFile, extracted: Path, fetch: Fetcher) -> None:
    destination = extracted / remote.path
    destination.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading %s", remote.url)
    fetch(remote.url, destination)
    actual = file_sha256(destination)
    if actual != remote.sha256:
        raise DownloadError(
            f"The file downloaded from {remote.url} is not the published one (sha256 {actual[:12]}..., "
            f"expected {remote.sha256[:12]}...): it was changed upstream or damaged on the way; nothing was "
            "installed. Try again later, or report it if it keeps happening."
        )


def _fetch_archive(archive: RemoteArchive, manifest: Manifest, staging: Path, extracted: Path, fetch: Fetcher) -> None:
    zip_path = staging / f"{archive.manifest}.zip"
    logger.info("Downloading %s", archive.url)
    fetch(archive.url, zip_path)
    checked = staging / f"{archive.manifest}-checked"
    try:
        with zipfile.ZipFile(zip_path) as bundle:
            for member in bundle.infolist():
                relative = _archive_target(member.filename, archive)
                if member.is_dir() or relative is None or not _matches_any(relative, manifest.patterns):
                    continue
                destination = checked / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, destination.open("wb") as file:
                    shutil.copyfileobj(source, file, _CHUNK_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise DownloadError(
            f"The archive downloaded from {archive.url} is damaged ({error}); nothing was installed. Try again."
        ) from None
    found = Manifest.from_folder(checked, manifest.patterns) if checked.is_dir() else None
    if found != manifest:
        count = found.n_files if found else 0
        raise DownloadError(
            f"The files in the archive from {archive.url} are not the published ones ({count} files where "
            f"{manifest.n_files} were expected, or different contents): it was changed upstream or damaged on "
            "the way; nothing was installed. Try again later, or report it if it keeps happening."
        )
    _move_into_place(checked, extracted)


def _archive_target(member: str, archive: RemoteArchive) -> str | None:
    """Where an archive member goes inside the dataset folder, or None when it is not part of the dataset."""
    parts = PurePosixPath(member).parts[1:]  # the archive's single top folder
    if any(part in ("..", "") or part.startswith("/") for part in parts):
        return None
    source = PurePosixPath(archive.source_dir).parts if archive.source_dir else ()
    if tuple(parts[: len(source)]) != source or len(parts) <= len(source):
        return None
    return PurePosixPath(archive.target_dir, *parts[len(source) :]).as_posix()


def _matches_any(relative: str, patterns: Iterable[str]) -> bool:
    # Segment by segment, so "*/x.mid" never matches "a/b/x.mid" the way a plain fnmatch would.
    path = PurePosixPath(relative)
    return any(len(path.parts) == len(PurePosixPath(pattern).parts) and path.match(pattern) for pattern in patterns)


def _move_into_place(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            path.replace(destination)


def _info(dataset: Dataset | str) -> DatasetInfo:
    return (get_dataset(dataset) if isinstance(dataset, str) else dataset).info
