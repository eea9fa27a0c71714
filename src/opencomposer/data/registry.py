"""The registry of datasets: what each one is, where its files live, and how to read its pieces.

Every dataset declares a fixed track layout (`DatasetInfo.tracks`): each `Piece.score` it yields has
exactly those tracks, in that order, with those names and roles (a part a piece lacks is an empty
track). Windows, models and metrics can then address tracks by position.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import platformdirs

from opencomposer.errors import DatasetError, OpenComposerError, UnknownNameError
from opencomposer.music.score import Role, Score, Track

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True, slots=True)
class TrackSlot:
    """One track of a dataset's layout: its name, role and General MIDI program."""

    name: str
    role: Role
    program: int = 0
    is_drum: bool = False

    def to_track(self) -> Track:
        """An empty track carrying this slot's name, role and instrument."""
        return Track(name=self.name, program=self.program, is_drum=self.is_drum, role=self.role)


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of a dataset: a stable id (the same on every machine and every run) and its score.

    `split` is the published split ("train", "valid", "test") where the dataset has one, else None.
    """

    id: str
    score: Score
    split: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What a dataset is.

    `version` changes whenever the loader's output changes, so caches keyed on it are never stale.
    `folder` is the dataset's folder name under a data directory (for example "pop909").
    """

    name: str
    title: str
    description: str
    genres: tuple[str, ...]
    licence: str
    upstream: str
    tracks: tuple[TrackSlot, ...]
    folder: str
    version: str = "1"
    expected_pieces: int | None = None
    has_published_split: bool = False

    @property
    def melody_index(self) -> int:
        """Position of the melody track in the layout; `DatasetError` for a dataset without one (drums alone)."""
        for index, slot in enumerate(self.tracks):
            if slot.role == "melody":
                return index
        raise DatasetError(
            f"The dataset {self.name!r} has no melody track ({', '.join(slot.name for slot in self.tracks)}); "
            "it cannot teach a model that follows a melody. Pick a dataset with a melody."
        )


class Dataset(ABC):
    """A source of pieces. Subclasses set `info` and implement `iter_pieces`."""

    info: DatasetInfo

    @abstractmethod
    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield the pieces (of one published split, or all), in a stable order.

        A file that does not parse is skipped with one warning naming it, never an exception.
        """

    def is_present(self) -> bool:
        """Whether the dataset's files can be found without downloading anything."""
        return find_data_folder(self.info.folder) is not None

    def piece_count(self) -> int | None:
        """How many pieces the dataset holds, as far as is known without reading them (None when unknown)."""
        return self.info.expected_pieces

    def empty_score(self, resolution: int = 480, tempo: float = 120.0) -> Score:
        """A score with this dataset's track layout and no notes."""
        return Score(resolution=resolution, tempo=tempo, tracks=tuple(slot.to_track() for slot in self.info.tracks))


_FACTORIES: dict[str, Callable[[], Dataset]] = {}
# Providers of datasets that come and go at run time (the user's folders), asked afresh on every lookup.
_PROVIDERS: list[Callable[[], Mapping[str, Callable[[], Dataset]]]] = []


def register(name: str) -> Callable[[Callable[[], Dataset]], Callable[[], Dataset]]:
    """Class or function decorator adding a dataset factory to the registry under `name`."""

    def add(factory: Callable[[], Dataset]) -> Callable[[], Dataset]:
        _FACTORIES[name] = factory
        return factory

    return add


def _load_sources() -> None:
    # Importing the sources package runs each source module's `register` call.
    import opencomposer.data.sources  # noqa: F401


def register_provider(
    provider: Callable[[], Mapping[str, Callable[[], Dataset]]],
) -> Callable[[], Mapping[str, Callable[[], Dataset]]]:
    """Add a provider of datasets known only at run time (such as the user's registered folders).

    The provider is called on every lookup and returns {name: factory}; a built-in name always wins.
    """
    _PROVIDERS.append(provider)
    return provider


def _all_factories() -> dict[str, Callable[[], Dataset]]:
    _load_sources()
    factories: dict[str, Callable[[], Dataset]] = {}
    for provider in _PROVIDERS:
        factories.update(provider())
    factories.update(_FACTORIES)
    return factories


def builtin_dataset_names() -> list[str]:
    """The names of the datasets that ship with OpenComposer (not the user's folders), sorted."""
    _load_sources()
    return sorted(_FACTORIES)


def list_datasets() -> list[Dataset]:
    """Every registered dataset, by name: the built-in ones and the user's folders."""
    factories = _all_factories()
    return [factories[name]() for name in sorted(factories)]


def get_dataset(name: str) -> Dataset:
    """The dataset called `name`; raises `UnknownNameError` listing the known names."""
    factories = _all_factories()
    if name not in factories:
        raise UnknownNameError(f"There is no dataset called {name!r}. Known datasets: {', '.join(sorted(factories))}.")
    return factories[name]()


def data_dir() -> Path:
    """The user's data directory: `$OPENCOMPOSER_DATA`, else the platform's user data folder."""
    configured = os.environ.get("OPENCOMPOSER_DATA")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("opencomposer")) / "data"


def shared_data_dirs() -> list[Path]:
    """Folders holding a shared, read-only copy of the datasets: `../shared/data` beside the project."""
    repo_root = Path(__file__).resolve().parents[3]
    candidates = [repo_root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    seen: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir() and candidate.resolve() not in seen:
            seen.append(candidate.resolve())
    return seen


def find_data_folder(folder: str) -> Path | None:
    """Where a dataset's folder is: the user's data directory first, then the shared copies."""
    for root in [data_dir(), *shared_data_dirs()]:
        path = root / folder
        if path.is_dir():
            return path
    return None


def find_data_file(folder: str, relative: str) -> Path | None:
    """Where one file of a dataset's folder is: the first data folder (as `find_data_folder`) that has it."""
    for root in [data_dir(), *shared_data_dirs()]:
        path = root / folder / relative
        if path.is_file():
            return path
    return None


# Reading a dataset: skipped files, read reports and parallel parsing.

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """A file (or an entry of a file) that a source could not read, and why."""

    item: str
    reason: str


# Every `recording_skips` block that is open, innermost last: a skip counts in each of them.
_ACTIVE_SKIPS: ContextVar[tuple[list[SkippedItem], ...]] = ContextVar("opencomposer_active_skips", default=())


def refuse_split(info: DatasetInfo, split: str | None) -> None:
    """For a dataset that publishes no split (its pieces are split by `opencomposer.data.windows.split_of`):
    raise `UnknownNameError` when `split` asks for one."""
    if split is not None:
        raise UnknownNameError(f"The {info.name} dataset has no published split, so it has no {split!r}.")


def skip_item(item: str, reason: str) -> None:
    """Record that a source skipped `item` (a path or piece id): one warning line, and a count in the report.

    Sources call this instead of raising when one file of a dataset does not parse, so the rest is still
    read. Call it in the process that iterates the pieces (not in a worker process), or it is not counted.
    """
    if item in reason:
        logger.warning("Skipped: %s", reason)
    else:
        logger.warning("Skipped %s: %s", item, reason)
    for active in _ACTIVE_SKIPS.get():
        active.append(SkippedItem(item=item, reason=reason))


@contextmanager
def recording_skips() -> Iterator[list[SkippedItem]]:
    """Collect the items skipped while the block runs (by `skip_item`) into the list it yields.

    Blocks nest: a skip inside an inner block is also counted by the outer ones.
    """
    skipped: list[SkippedItem] = []
    token = _ACTIVE_SKIPS.set((*_ACTIVE_SKIPS.get(), skipped))
    try:
        yield skipped
    finally:
        _ACTIVE_SKIPS.reset(token)


@dataclass(slots=True)
class ReadReport:
    """What one full pass over a dataset read, per published split, and what it skipped."""

    dataset: str
    pieces_per_split: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedItem] = field(default_factory=list)

    @property
    def n_read(self) -> int:
        """Pieces read, over all splits."""
        return sum(self.pieces_per_split.values())

    def summary(self) -> str:
        """One line such as "1,455 of 1,460 pieces read; 5 skipped: see log"."""
        total = self.n_read + len(self.skipped)
        if not self.skipped:
            return f"{self.n_read:,} of {total:,} pieces read; none skipped"
        return f"{self.n_read:,} of {total:,} pieces read; {len(self.skipped):,} skipped: see log"


UNSPLIT = "all"
"""The key of `ReadReport.pieces_per_split` for the pieces of a dataset with no published split."""


def read_report(dataset: Dataset, split: str | None = None) -> ReadReport:
    """Read every piece of `dataset` (or of one split) once and count what was read and skipped."""
    counts: Counter[str] = Counter()
    with recording_skips() as skipped:
        for piece in dataset.iter_pieces(split):
            counts[piece.split or UNSPLIT] += 1
    ordered = {name: counts[name] for name in (*SPLITS, UNSPLIT) if counts[name]}
    return ReadReport(dataset=dataset.info.name, pieces_per_split=ordered, skipped=list(skipped))


def default_workers() -> int:
    """How many worker processes a slow reader uses by default: the CPU count, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def read_in_workers(
    read: Callable[[_T], _R], items: Sequence[_T], workers: int | None = None
) -> Iterator[tuple[_T, _R | OpenComposerError]]:
    """Apply `read` to each item in worker processes, yielding (item, result) in the order of `items`.

    For slow parsers (music21 reads a MusicXML chorale in about 0.3 s). An `OpenComposerError` that
    `read` raises is yielded as the result, so the caller can `skip_item` it and go on; any other
    exception is a bug and propagates. Only a few items per worker are in flight at once, so stopping
    early costs little. `read` must be a module-level function: workers start from a fork server, not
    by forking the caller, because forking a process that holds threads (a progress display's, torch's)
    can deadlock; a script that reads a dataset therefore needs the usual `if __name__ == "__main__":`.

    Parameters
    ----------
    read
        The function to apply; it and its results must be picklable.
    items
        The inputs, in the order the results are wanted.
    workers
        Worker processes; default `default_workers()`. With 1 (or a single item) nothing is spawned.
    """
    n_workers = default_workers() if workers is None else workers
    if n_workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, _read_or_error(read, item)
        return
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        pending: deque[tuple[_T, Future[_R | OpenComposerError]]] = deque()
        try:
            for item in items:
                pending.append((item, pool.submit(_read_or_error, read, item)))
                if len(pending) >= 4 * n_workers:
                    done_item, future = pending.popleft()
                    yield done_item, future.result()
            while pending:
                done_item, future = pending.popleft()
                yield done_item, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def _read_or_error(read: Callable[[_T], _R], item: _T) -> _R | OpenComposerError:
    try:
        return read(item)
    except OpenComposerError as error:
        return error
