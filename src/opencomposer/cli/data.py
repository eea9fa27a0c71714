"""`opencomposer data`: list, inspect, download and prepare training datasets, and add your own folders."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from opencomposer.data.registry import UNSPLIT, Dataset, find_data_folder, get_dataset, list_datasets, read_report
from opencomposer.errors import DatasetError

_TRANSPOSE = re.compile(r"^\s*(?P<low>[+-]?\d+)\s*\.\.\s*(?P<high>[+-]?\d+)\s*$")


@click.group()
def data() -> None:
    """List, inspect, download and prepare training datasets, and add your own folders of music."""


@data.command("list")
def list_command() -> None:
    """Show every dataset: genre, pieces, licence, and whether its files are on this machine."""
    datasets = list_datasets()
    table = Table(title="Datasets")
    # Names are what the user types next, so they are never cut; the other columns give way.
    table.add_column("name", no_wrap=True, min_width=max((len(d.info.name) for d in datasets), default=4))
    table.add_column("genre", overflow="ellipsis", no_wrap=True)
    table.add_column("pieces", justify="right", no_wrap=True, min_width=6)
    table.add_column("licence", overflow="ellipsis", no_wrap=True)
    table.add_column("present", no_wrap=True, min_width=7)
    missing = False
    for dataset in datasets:
        info = dataset.info
        pieces = dataset.piece_count()
        present = dataset.is_present()
        missing = missing or not present
        table.add_row(
            info.name,
            ", ".join(info.genres),
            f"{pieces:,}" if pieces else "-",
            info.licence,
            "yes" if present else "no",
        )
    console = _console()
    console.print(table)
    if missing:
        console.print("Get a dataset that is not present with `opencomposer data download NAME`.")


@data.command("info")
@click.argument("name")
def info_command(name: str) -> None:
    """Describe dataset NAME: layout, licence, where its files are, and its pieces per split (reads it)."""
    dataset = get_dataset(name)
    info = dataset.info
    console = _console()
    console.print(Text.assemble((info.name, "bold"), f": {info.title}"))
    console.print(info.description)
    rows = [
        ("genres", ", ".join(info.genres)),
        ("licence", info.licence),
        ("upstream", info.upstream),
        ("layout", "; ".join(f"{i}. {slot.name} ({slot.role})" for i, slot in enumerate(info.tracks, start=1))),
        ("split", "published train / valid / test" if info.has_published_split else "none published"),
        ("found", _where(dataset)),
    ]
    for label, value in rows:
        console.print(f"  {label:<9}{value}")
    if not dataset.is_present():
        return
    with _warnings_to_stderr(), console.status(f"Reading {info.name} ..."):
        report = read_report(dataset)
    per_split = ", ".join(
        f"{count:,} {'in all' if split == UNSPLIT else split}" for split, count in report.pieces_per_split.items()
    )
    console.print(f"  {'pieces':<9}{per_split or 'none'}")
    console.print(f"  {'read':<9}{report.summary()}")


@data.command()
@click.argument("name")
@click.option(
    "--bars", type=click.IntRange(min=1), default=4, show_default=True, help="Length of a window, in 4-beat bars."
)
@click.option(
    "--hop-bars",
    type=click.IntRange(min=1),
    default=None,
    help="Bars between the starts of two windows of a piece (default: --bars, windows do not overlap).",
)
@click.option(
    "--steps-per-beat",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Time steps per quarter note (4 = 16th notes).",
)
@click.option(
    "--low-pitch", type=click.IntRange(0, 127), default=0, show_default=True, help="Lowest MIDI pitch of the roll."
)
@click.option(
    "--high-pitch", type=click.IntRange(0, 127), default=127, show_default=True, help="Highest MIDI pitch of the roll."
)
@click.option(
    "--transpose",
    default="0",
    show_default=True,
    help='Transpose training windows by every shift in LOW..HIGH semitones ("-5..6"), or -N..N for a single N.',
)
@click.option("--tracks", default=None, help='Tracks to keep, in order, comma-separated ("Soprano,Bass"); default all.')
@click.option(
    "--keep-empty-melody", is_flag=True, help="Keep windows whose melody is silent (they are dropped by default)."
)
@click.option("--refresh", is_flag=True, help="Rebuild the windows even when they are cached.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes cutting windows (default: one per CPU)."
)
def prepare(
    name: str,
    bars: int,
    hop_bars: int | None,
    steps_per_beat: int,
    low_pitch: int,
    high_pitch: int,
    transpose: str,
    tracks: str | None,
    keep_empty_melody: bool,
    refresh: bool,
    workers: int | None,
) -> None:
    """Cut dataset NAME into piano-roll training windows and cache them; prints the windows per split."""
    from opencomposer.data.windows import WindowSpec
    from opencomposer.data.windows import prepare as prepare_windows
    from opencomposer.music.pianoroll import RollSpec

    if low_pitch > high_pitch:
        raise DatasetError(f"--low-pitch {low_pitch} is above --high-pitch {high_pitch}; swap them.")
    spec = WindowSpec(
        roll=RollSpec(steps_per_beat=steps_per_beat, low_pitch=low_pitch, high_pitch=high_pitch),
        bars=bars,
        hop_bars=hop_bars,
        tracks=parse_tracks(tracks),
        transpose=parse_transpose(transpose),
        skip_empty_melody=not keep_empty_melody,
    )
    dataset = get_dataset(name)
    console = _console()
    began = time.perf_counter()
    with _warnings_to_stderr(), console.status(f"Preparing {name} ..."):
        prepared = prepare_windows(dataset, spec, refresh=refresh, workers=workers)
    elapsed_seconds = time.perf_counter() - began
    table = Table(title=f"{name}: {bars}-bar windows of {', '.join(prepared.track_names)}")
    for column in ("split", "pieces", "windows", "shape (windows, tracks, steps, pitches)"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for split, windows in prepared.windows.items():
        pieces = prepared.stats.pieces.get(split, 0)
        table.add_row(split, f"{pieces:,}", f"{len(windows):,}", str(tuple(windows.shape)))
    console.print(table)
    console.print(f"Took {elapsed_seconds:.1f} s. Cache: {prepared.cache_path}")


@data.command()
@click.argument("name")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--genre", required=True, help="A genre tag for the folder's music, such as pop or folk.")
@click.option("--melody", default=None, help="Name of the melody track in your files (default: found per file).")
def add(name: str, folder: Path, genre: str, melody: str | None) -> None:
    """Register FOLDER of your MIDI / MusicXML files as dataset NAME (reads every file once to check it)."""
    from opencomposer.data.sources.folder import FolderDataset, load_folders, new_folder_entry, save_folder

    entry = new_folder_entry(name, folder, genre, melody)
    replaced = name in load_folders(strict=True)
    console = _console()
    with _warnings_to_stderr(), console.status(f"Reading {entry.path} ..."):
        report = read_report(FolderDataset(entry))
    save_folder(entry)
    verb = "Updated" if replaced else "Added"
    console.print(f"{verb} {name} ({entry.path}): {report.summary()}.")
    console.print(f"Prepare it for training with `opencomposer data prepare {name}`.")


@data.command()
@click.argument("name")
def remove(name: str) -> None:
    """Forget the folder registered as NAME (its files are left alone)."""
    from opencomposer.data.sources.folder import remove_folder

    entry = remove_folder(name)
    click.echo(f"Removed {name}; the files in {entry.path} are untouched.")


@data.command()
@click.argument("name")
def download(name: str) -> None:
    """Download dataset NAME from its upstream repository into the data directory, checking every file."""
    from opencomposer.data.download import download as download_dataset
    from opencomposer.data.registry import data_dir

    dataset = get_dataset(name)
    found = find_data_folder(dataset.info.folder) if dataset.info.folder else None
    if found is not None and not found.is_relative_to(data_dir()):
        click.echo(f"{name} is already on this machine, in {found}; nothing to download.")
        return
    console = _console()
    with _warnings_to_stderr(), console.status(f"Downloading {name} from {dataset.info.upstream} ..."):
        target = download_dataset(dataset)
    console.print(
        f"{name} is in {target}, every file checked against its published sha256.", highlight=False, soft_wrap=True
    )


def parse_transpose(text: str) -> tuple[int, int]:
    """Read a transposition range: "LOW..HIGH" ("-5..6"), or "N" for -N..N.

    Raises
    ------
    DatasetError
        When the text is neither form, or the range does not include 0.
    """
    match = _TRANSPOSE.match(text)
    if match:
        low, high = int(match["low"]), int(match["high"])
    elif text.strip().lstrip("+-").isdigit():
        low, high = -abs(int(text)), abs(int(text))
    else:
        raise DatasetError(f'--transpose {text!r} is not a range: write LOW..HIGH such as "-5..6", or one number N.')
    if not low <= 0 <= high:
        raise DatasetError(f"--transpose {low}..{high} must include 0 (the original key), for example -3..3.")
    return low, high


def parse_tracks(text: str | None) -> tuple[str, ...] | None:
    """Read a comma-separated list of track names (None when not given)."""
    if text is None:
        return None
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise DatasetError('--tracks is empty; name one or more tracks, such as "Soprano,Bass".')
    return names


def _where(dataset: Dataset) -> str:
    from opencomposer.data.download import missing_data_message

    if not dataset.is_present():
        return missing_data_message(dataset.info)
    folder = find_data_folder(dataset.info.folder) if dataset.info.folder else None
    return str(folder) if folder is not None else dataset.info.upstream


def _console() -> Console:
    # Plain text: no markup read into names and paths ("[live].mid"), no colouring of numbers, and long
    # lines left for the terminal to wrap.
    return Console(markup=False, highlight=False, soft_wrap=True)


class _EchoHandler(logging.Handler):
    """Prints each warning on stderr as one line (through click, so tests capture it too)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"warning: {record.getMessage()}", err=True)


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    # A handler for the block only: one installed for good would write to whatever stream was current then.
    logger = logging.getLogger("opencomposer")
    handler = _EchoHandler(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
