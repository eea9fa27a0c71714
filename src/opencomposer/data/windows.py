"""Training windows: a dataset's scores cut into fixed-length multi-track piano rolls, split by piece.

`prepare(dataset, spec)` is the one entry point: it cuts every piece into windows of `spec.bars` bars
(`to_roll` arrays of shape (tracks, steps, pitches), values OFF / HOLD / ONSET), splits them into
train / valid / test by piece, optionally transposes the training windows, measures the reference
music metrics of the real training windows, and caches all of it (see `opencomposer.data.cache`).

Conventions a consumer can rely on:

- A bar is four quarter notes for every piece, so that all windows have one length and stack; a piece
  in another meter is cut on that grid from its first tick (`WindowStats.pieces_in_other_meters`).
- Every window is self-contained: a note sounding into a window from before its first step starts there
  as an ONSET, so `from_roll` turns any window into a score on its own.
- A piece's last bar is padded with silence; only whole windows are kept, so a piece shorter than one
  window gives none.
- No piece has windows in two splits; only training windows are transposed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from opencomposer.data.cache import cache_dir, cache_key, pack_rolls, read_arrays, unpack_rolls, write_arrays
from opencomposer.data.registry import (
    SPLITS,
    Dataset,
    DatasetInfo,
    Piece,
    TrackSlot,
    get_dataset,
    recording_skips,
)
from opencomposer.errors import DatasetError
from opencomposer.metrics import window_metrics
from opencomposer.music.pianoroll import HOLD, ONSET, RollArray, RollSpec, to_roll
from opencomposer.music.score import Score

logger = logging.getLogger(__name__)

# Bump whenever the windows cut for an unchanged spec and dataset version change: old caches then miss.
CODE_VERSION = 1
QUARTERS_PER_BAR = 4
# Beyond this share of notes outside the roll's pitch range, the spec is refused rather than trained on.
MAX_OUTSIDE_SHARE = 0.2
# The reference metrics are a mean over windows: a few thousand give them to about a percent.
REFERENCE_WINDOWS = 2000
REFERENCE_SEED = 0
_FULL_PITCH_RANGE = 128


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """How a dataset is cut into training windows.

    Parameters
    ----------
    roll
        Time and pitch sampling of each window.
    bars
        Length of a window, in bars of four quarter notes.
    hop_bars
        Bars between the starts of two windows of a piece; None means `bars` (windows do not overlap).
    tracks
        Names of the dataset's tracks to keep, in the wanted order; None keeps the whole layout.
    transpose
        (lowest, highest) shift in semitones, both included, applied to training windows only. A shift
        is used for a window only when every note (drums aside) stays inside the roll's pitch range.
    skip_empty_melody
        Drop windows whose melody track is silent; the melody must then be among `tracks`.
    """

    roll: RollSpec
    bars: int = 4
    hop_bars: int | None = None
    tracks: tuple[str, ...] | None = None
    transpose: tuple[int, int] = (0, 0)
    skip_empty_melody: bool = True

    def __post_init__(self) -> None:
        if self.bars < 1:
            raise DatasetError(f"A window must be at least one bar long, not {self.bars}; choose bars >= 1.")
        if self.hop_bars is not None and self.hop_bars < 1:
            raise DatasetError(f"The hop between windows must be at least one bar, not {self.hop_bars}.")
        low, high = self.transpose
        if not low <= 0 <= high:
            raise DatasetError(
                f"The transposition range {low}..{high} must include 0 (the original key), for example (-3, 3)."
            )
        if self.tracks is not None and (not self.tracks or len(set(self.tracks)) != len(self.tracks)):
            raise DatasetError(f"Choose one or more distinct track names, not {list(self.tracks)}.")

    @property
    def steps_per_bar(self) -> int:
        """Steps in one bar of four quarter notes."""
        return self.roll.steps_per_beat * QUARTERS_PER_BAR

    @property
    def window_steps(self) -> int:
        """Steps in one window."""
        return self.bars * self.steps_per_bar

    @property
    def hop_steps(self) -> int:
        """Steps between the starts of two windows of a piece."""
        return (self.hop_bars or self.bars) * self.steps_per_bar


class PieceWindows(NamedTuple):
    """The windows of one piece, and what was left out making them."""

    windows: RollArray  # (windows, tracks, steps, pitches)
    shifts: npt.NDArray[np.int8]  # the transposition of each window, in semitones
    skipped_empty_melody: int  # windows (untransposed) dropped for a silent melody
    bars: int  # length of the piece, in bars of four quarter notes
    other_meter: bool  # the piece's bar is not four quarter notes long
    pitch_counts: npt.NDArray[np.int64]  # (128,) notes of the piece at each MIDI pitch


def split_of(piece: Piece) -> str:
    """The split of a piece: its published one, else a deterministic 80/10/10 draw from a hash of its id."""
    if piece.split is not None:
        if piece.split not in SPLITS:
            raise ValueError(f"Piece {piece.id!r} has split {piece.split!r}, not one of {SPLITS}.")
        return piece.split
    bucket = int.from_bytes(hashlib.sha256(piece.id.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if bucket < 80 else "valid" if bucket < 90 else "test"


def cut_windows(score: Score, spec: WindowSpec, *, melody_index: int | None, augment: bool) -> PieceWindows:
    """Cut one score, whose tracks are already the spec's tracks in order, into windows.

    Parameters
    ----------
    score
        The piece, holding exactly the tracks the windows carry.
    spec
        The window spec.
    melody_index
        Position of the melody among the score's tracks, or None not to drop silent-melody windows.
    augment
        Add the transpositions of `spec.transpose` that keep every note inside the pitch range.
    """
    low, high = spec.roll.low_pitch, spec.roll.high_pitch
    pitches = np.array([note.pitch for track in score.tracks for note in track.notes], dtype=np.int64)
    pitch_counts = np.bincount(pitches, minlength=_FULL_PITCH_RANGE)
    # Cutting at the full 0-127 range lets a transposition bring in only notes that really exist.
    full = to_roll(score, RollSpec(spec.roll.steps_per_beat, 0, _FULL_PITCH_RANGE - 1))
    n_bars = -(-full.shape[1] // spec.steps_per_bar)
    n_steps = n_bars * spec.steps_per_bar
    starts = range(0, n_steps - spec.window_steps + 1, spec.hop_steps)
    n_tracks = len(score.tracks)
    other_meter = score.ticks_per_bar != QUARTERS_PER_BAR * score.resolution
    if not starts:
        empty = np.zeros((0, n_tracks, spec.window_steps, spec.roll.n_pitches), dtype=np.uint8)
        return PieceWindows(empty, np.zeros(0, dtype=np.int8), 0, n_bars, other_meter, pitch_counts)
    full = np.pad(full, ((0, 0), (0, n_steps - full.shape[1]), (0, 0)))
    cut = np.stack([full[:, start : start + spec.window_steps] for start in starts])  # (W, tracks, steps, 128)
    first_step = cut[:, :, 0, :]
    first_step[first_step == HOLD] = ONSET

    base = cut[..., low : high + 1]
    keep = np.ones(len(cut), dtype=bool)
    if melody_index is not None:
        keep = np.count_nonzero(base[:, melody_index], axis=(1, 2)) > 0
    skipped = int((~keep).sum())
    cut, base = cut[keep], base[keep]
    windows, shifts = [base], [np.zeros(len(base), dtype=np.int8)]

    shift_range = range(spec.transpose[0], spec.transpose[1] + 1)
    if augment and len(shift_range) > 1 and len(cut):
        pitched = [i for i, track in enumerate(score.tracks) if not track.is_drum]
        drums = [i for i, track in enumerate(score.tracks) if track.is_drum]
        sounding = np.count_nonzero(cut[:, pitched], axis=(1, 2)) > 0  # (W, 128)
        has_notes = np.count_nonzero(sounding, axis=1) > 0
        lowest = np.argmax(sounding, axis=1)
        highest = _FULL_PITCH_RANGE - 1 - np.argmax(sounding[:, ::-1], axis=1)
        margin = max(-shift_range.start, shift_range.stop - 1)
        wide = np.pad(cut, ((0, 0), (0, 0), (0, 0), (margin, margin)))
        for shift in shift_range:
            fits = has_notes & (lowest + shift >= low) & (highest + shift <= high)
            if shift == 0 or not fits.any():
                continue
            shifted = wide[fits, :, :, low - shift + margin : high - shift + margin + 1]
            shifted[:, drums] = base[fits][:, drums]
            windows.append(shifted)
            shifts.append(np.full(len(shifted), shift, dtype=np.int8))
    return PieceWindows(np.concatenate(windows), np.concatenate(shifts), skipped, n_bars, other_meter, pitch_counts)


@dataclass(frozen=True, slots=True)
class WindowStats:
    """What went into a prepared dataset, and what was left out."""

    pieces: dict[str, int]  # pieces per split, those too short for a window included
    pieces_skipped: int  # files the source could not read (each named in a logged warning)
    pieces_without_windows: int  # too short for one window, or with a silent melody throughout
    pieces_in_other_meters: int  # bars not four quarter notes long: cut on the four-quarter grid anyway
    windows_skipped_empty_melody: int
    windows_transposed: int
    notes: int  # in the kept tracks
    notes_outside_range: int  # dropped: outside the roll's pitch range
    lowest_pitch: int | None
    highest_pitch: int | None
    prepare_seconds: float  # of the cold preparation that built the cache
    workers: int


@dataclass(frozen=True, slots=True)
class PreparedDataset:
    """A dataset cut into windows: the arrays of each split and what a trainer needs to read them.

    `windows[split]` is a uint8 array (windows, tracks, steps, pitches) of OFF / HOLD / ONSET values;
    `piece_ids[split]` and `shifts[split]` give the piece and the transposition (semitones) of each
    window; `reference` holds the music metrics of the real (untransposed) training windows.
    """

    name: str
    spec: WindowSpec
    tracks: tuple[TrackSlot, ...]
    windows: dict[str, RollArray]
    piece_ids: dict[str, npt.NDArray[np.str_]]
    reference: dict[str, float]
    cache_path: Path
    stats: WindowStats
    shifts: dict[str, npt.NDArray[np.int8]] = field(default_factory=dict)

    @property
    def track_names(self) -> tuple[str, ...]:
        """Names of the windows' tracks, in channel order."""
        return tuple(slot.name for slot in self.tracks)

    @property
    def melody_index(self) -> int | None:
        """Channel of the melody, or None when the windows carry no melody track."""
        return next((i for i, slot in enumerate(self.tracks) if slot.role == "melody"), None)

    @property
    def drum_tracks(self) -> tuple[bool, ...]:
        """One flag per channel, True for a drum track."""
        return tuple(slot.is_drum for slot in self.tracks)


def prepare(
    dataset: Dataset | str, spec: WindowSpec, *, refresh: bool = False, workers: int | None = None
) -> PreparedDataset:
    """Cut a dataset into training windows, or load them from the cache when that was done before.

    Parameters
    ----------
    dataset
        A dataset, or the name of a registered one.
    spec
        How to cut it.
    refresh
        Rebuild the cache even when a valid one exists.
    workers
        Processes cutting pieces in parallel on a cold run; default `os.cpu_count()`, 1 works in-process.

    Raises `DatasetError` when the dataset yields no pieces, lacks the tracks the spec asks for, has
    more than 20 % of its notes outside the spec's pitch range, or gives no training window.
    """
    source = get_dataset(dataset) if isinstance(dataset, str) else dataset
    info = source.info
    slots = _select_tracks(info, spec)
    key = cache_key(
        {
            "code": CODE_VERSION,
            "dataset": info.name,
            "version": info.version,
            "layout": [asdict(slot) for slot in info.tracks],
            "spec": asdict(spec),
        }
    )
    path = cache_dir() / f"{info.name}-{key[:16]}.npz"
    if not refresh:
        cached = _load(path, key, info.name, spec, slots)
        if cached is not None:
            return cached
    prepared = _build(source, spec, slots, path, workers)
    write_arrays(path, _to_arrays(prepared, key))
    return prepared


def _select_tracks(info: DatasetInfo, spec: WindowSpec) -> tuple[TrackSlot, ...]:
    by_name = {slot.name: slot for slot in info.tracks}
    names = spec.tracks if spec.tracks is not None else tuple(by_name)
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise DatasetError(
            f"Dataset {info.name!r} has no track called {', '.join(map(repr, unknown))}; "
            f"its tracks are {', '.join(by_name)}."
        )
    slots = tuple(by_name[name] for name in names)
    if spec.skip_empty_melody and not any(slot.role == "melody" for slot in slots):
        melodies = [slot.name for slot in info.tracks if slot.role == "melody"]
        advice = f"add its melody track {melodies[0]!r}" if melodies else "it has none"
        raise DatasetError(
            f"Skipping windows with an empty melody needs a melody track among the chosen tracks of "
            f"{info.name!r} ({advice}), or turn skip_empty_melody off."
        )
    return slots


def _build(
    source: Dataset, spec: WindowSpec, slots: tuple[TrackSlot, ...], path: Path, workers: int | None
) -> PreparedDataset:
    info = source.info
    began = time.perf_counter()
    layout = [slot.name for slot in info.tracks]
    positions = [layout.index(slot.name) for slot in slots]
    melody_index = next((i for i, slot in enumerate(slots) if slot.role == "melody"), None)
    jobs = _jobs(source, positions, melody_index if spec.skip_empty_melody else None)
    n_workers = workers if workers is not None else os.cpu_count() or 1

    pieces = dict.fromkeys(SPLITS, 0)
    parts: dict[str, list[tuple[str, PieceWindows]]] = {split: [] for split in SPLITS}
    pitch_counts = np.zeros(_FULL_PITCH_RANGE, dtype=np.int64)
    with recording_skips() as skipped:
        for (piece_id, split), result in _run(jobs, spec, n_workers):
            pieces[split] += 1
            parts[split].append((piece_id, result))
            pitch_counts += result.pitch_counts
    if not sum(pieces.values()):
        raise DatasetError(
            f"Dataset {info.name!r} gave no pieces: check that its files are in a {info.folder!r} folder "
            "of the data directory or the shared data folder."
        )

    results = [result for split in SPLITS for _, result in parts[split]]
    stats = WindowStats(
        pieces=pieces,
        pieces_skipped=len(skipped),
        pieces_without_windows=sum(len(result.windows) == 0 for result in results),
        pieces_in_other_meters=sum(result.other_meter for result in results),
        windows_skipped_empty_melody=sum(result.skipped_empty_melody for result in results),
        windows_transposed=sum(int(np.count_nonzero(result.shifts)) for result in results),
        notes=int(pitch_counts.sum()),
        notes_outside_range=int(
            pitch_counts.sum() - pitch_counts[spec.roll.low_pitch : spec.roll.high_pitch + 1].sum()
        ),
        lowest_pitch=int(np.flatnonzero(pitch_counts)[0]) if pitch_counts.any() else None,
        highest_pitch=int(np.flatnonzero(pitch_counts)[-1]) if pitch_counts.any() else None,
        prepare_seconds=0.0,
        workers=n_workers,
    )
    _check_fit(info, spec, stats, parts)
    # Each split's per-piece arrays are released once joined, so the peak is not twice the windows.
    del results

    windows: dict[str, RollArray] = {}
    piece_ids: dict[str, npt.NDArray[np.str_]] = {}
    shifts: dict[str, npt.NDArray[np.int8]] = {}
    for split in SPLITS:
        split_parts = parts.pop(split)
        empty = np.zeros((0, len(slots), spec.window_steps, spec.roll.n_pitches), dtype=np.uint8)
        windows[split] = np.concatenate([empty] + [result.windows for _, result in split_parts])
        shifts[split] = np.concatenate([np.zeros(0, np.int8)] + [result.shifts for _, result in split_parts])
        piece_ids[split] = np.array(
            [piece_id for piece_id, result in split_parts for _ in range(len(result.windows))], dtype=np.str_
        )
    reference = _reference(windows["train"], np.flatnonzero(shifts["train"] == 0), spec, slots)
    seconds = time.perf_counter() - began
    stats = replace(stats, prepare_seconds=seconds)
    return PreparedDataset(info.name, spec, slots, windows, piece_ids, reference, path, stats, shifts)


_Job = tuple[str, str, Score, int | None, bool]


def _jobs(source: Dataset, positions: list[int], melody_index: int | None) -> Iterator[_Job]:
    layout = [slot.name for slot in source.info.tracks]
    for piece in source.iter_pieces():
        names = [track.name for track in piece.score.tracks]
        if names != layout:
            raise ValueError(f"Piece {piece.id!r} has tracks {names}, not its dataset's layout {layout}.")
        split = split_of(piece)
        score = piece.score.with_tracks([piece.score.tracks[i] for i in positions])
        yield piece.id, split, score, melody_index, split == "train"


def _cut_job(job: _Job, spec: WindowSpec) -> PieceWindows:
    _, _, score, melody_index, augment = job
    return cut_windows(score, spec, melody_index=melody_index, augment=augment)


def _run(jobs: Iterator[_Job], spec: WindowSpec, workers: int) -> Iterator[tuple[tuple[str, str], PieceWindows]]:
    """Cut every job's piece, in order, giving (piece id, split) and its windows.

    With several workers, pieces are cut while the source goes on reading the next ones.
    """
    if workers <= 1:
        for job in jobs:
            yield job[:2], _cut_job(job, spec)
        return
    # forkserver, not fork: the caller may hold threads (torch, a web server) that a fork would copy half-way.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    # A bounded queue of pieces in flight keeps a fast source from holding every parsed score in memory.
    in_flight: deque[tuple[tuple[str, str], Future[PieceWindows]]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        for job in jobs:
            in_flight.append((job[:2], pool.submit(_cut_job, job, spec)))
            if len(in_flight) >= 4 * workers:
                head, future = in_flight.popleft()
                yield head, future.result()
        while in_flight:
            head, future = in_flight.popleft()
            yield head, future.result()


def _check_fit(
    info: DatasetInfo, spec: WindowSpec, stats: WindowStats, parts: dict[str, list[tuple[str, PieceWindows]]]
) -> None:
    roll = spec.roll
    if stats.notes and stats.notes_outside_range > MAX_OUTSIDE_SHARE * stats.notes:
        raise DatasetError(
            f"{stats.notes_outside_range / stats.notes:.0%} of the notes of {info.name!r} fall outside the pitch "
            f"range {roll.low_pitch}-{roll.high_pitch}; its notes span {stats.lowest_pitch}-{stats.highest_pitch}, "
            f"so choose low_pitch <= {stats.lowest_pitch} and high_pitch >= {stats.highest_pitch}."
        )
    train = [result for _, result in parts["train"]]
    if any(len(result.windows) for result in train):
        return
    longest_bars = max((result.bars for result in train), default=0)
    if not train:
        reason = "none of its pieces is in the train split"
    elif longest_bars < spec.bars:
        reason = f"its longest training piece is {longest_bars} bars long; choose windows of at most that many bars"
    else:
        skipped = sum(result.skipped_empty_melody for result in train)
        reason = f"all {skipped} windows of its training pieces have a silent melody; turn skip_empty_melody off"
    raise DatasetError(f"Dataset {info.name!r} gave no training windows: {reason}.")


def _to_arrays(prepared: PreparedDataset, key: str) -> dict[str, npt.NDArray[np.generic]]:
    meta = {"reference": prepared.reference, "stats": asdict(prepared.stats)}
    arrays: dict[str, npt.NDArray[np.generic]] = {"key": np.array(key), "meta": np.array(json.dumps(meta))}
    for split in SPLITS:
        arrays.update(pack_rolls(prepared.windows[split], split))
        arrays[f"{split}_piece_ids"] = prepared.piece_ids[split]
        arrays[f"{split}_shifts"] = prepared.shifts[split]
    return arrays


def _load(path: Path, key: str, name: str, spec: WindowSpec, slots: tuple[TrackSlot, ...]) -> PreparedDataset | None:
    """The prepared dataset cached at `path`, or None when there is none or it is damaged."""
    arrays = read_arrays(path)
    if arrays is None:
        return None
    try:
        if str(arrays["key"]) != key:
            raise ValueError("it was written for another dataset or spec")
        meta = json.loads(str(arrays["meta"]))
        windows = {split: unpack_rolls(arrays, split) for split in SPLITS}
        piece_ids = {split: arrays[f"{split}_piece_ids"].astype(np.str_) for split in SPLITS}
        shifts = {split: arrays[f"{split}_shifts"].astype(np.int8) for split in SPLITS}
        window_shape = (len(slots), spec.window_steps, spec.roll.n_pitches)
        for split in SPLITS:
            if windows[split].shape[1:] != window_shape or not (
                len(windows[split]) == len(piece_ids[split]) == len(shifts[split])
            ):
                raise ValueError(f"its {split} arrays do not fit together")
        stats = WindowStats(**meta["stats"])
        reference = {name: float(value) for name, value in meta["reference"].items()}
    except (KeyError, ValueError, TypeError) as error:
        logger.warning("The window cache %s is damaged (%s); rebuilding it.", path, error)
        return None
    return PreparedDataset(name, spec, slots, windows, piece_ids, reference, path, stats, shifts)


def _reference(
    windows: RollArray, real: npt.NDArray[np.intp], spec: WindowSpec, slots: tuple[TrackSlot, ...]
) -> dict[str, float]:
    """The music metrics of a seeded sample of the windows at the indices `real` (the untransposed ones)."""
    if len(real) > REFERENCE_WINDOWS:
        real = np.sort(np.random.default_rng(REFERENCE_SEED).choice(real, size=REFERENCE_WINDOWS, replace=False))
    return window_metrics(
        windows[real],
        spec.roll,
        steps_per_bar=spec.steps_per_bar,
        track_names=[slot.name for slot in slots],
        drum_tracks=[slot.is_drum for slot in slots],
        melody_index=next((i for i, slot in enumerate(slots) if slot.role == "melody"), None),
    )
