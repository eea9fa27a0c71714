"""What the studio does with music: read uploads, run techniques, summarise, measure and draw scores.

Techniques come from the technique registry (`opencomposer.techniques`) and models from the model
registry, so a technique or a model that lands later is offered with no change here. A technique's
class is called with the model's registry entry, as `Accompany(entry)` is.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from opencomposer.errors import (
    LimitExceededError,
    ParameterError,
    ScoreFileError,
    TransformError,
    UnknownNameError,
)
from opencomposer.files import write_atomically
from opencomposer.music.instruments import program_to_name
from opencomposer.music.io import SCORE_SUFFIXES
from opencomposer.music.midi import MIDI_SUFFIXES, read_midi
from opencomposer.music.musicxml import check_musicxml_size
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Score
from opencomposer.music.transform import melody_track
from opencomposer.registry import ModelEntry, list_models
from opencomposer.studio.settings import Settings
from opencomposer.studio.words import with_article
from opencomposer.techniques import technique_class
from opencomposer.techniques.base import Generation, ParamValue, Technique, validate_params

METRICS_SPEC = RollSpec(steps_per_beat=4, low_pitch=0, high_pitch=127)
METRICS_BARS_PER_WINDOW = 4
CACHED_TECHNIQUES = 4

T = TypeVar("T")


def find_model(name: str) -> ModelEntry:
    """The usable model called `name` (never a path); raises `UnknownNameError` listing the known ones."""
    entries = list_models()
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(entry.name for entry in entries) or "none yet (train one)"
    raise UnknownNameError(f"There is no model called {name!r}; the models are: {known}.")


def read_upload(data: bytes, suffix: str, scratch: Path, *, settings: Settings) -> Score:
    """A score from the bytes of an uploaded MIDI or MusicXML file; `suffix` (".mid", ".mxl"...) picks the reader.

    The file is parsed in a child process with the time and memory limits of `settings`
    (`opencomposer.studio.sandbox`), after a MusicXML file's text and notes were measured against
    `settings.max_melody_xml_bytes` and twice `settings.max_melody_notes` (rests are notes in MusicXML), so a
    hostile file fails its own upload and the studio goes on answering.

    Raises `ScoreFileError` for a suffix that is not a score's or a file that cannot be read within the
    limits, `MidiError` for a damaged MIDI file.
    """
    from opencomposer.studio.sandbox import Limits, run_in_child

    suffix = suffix.lower()
    if suffix not in SCORE_SUFFIXES:
        raise ScoreFileError(
            f"The uploaded file's name ends in {suffix or 'nothing'!r}; send a MIDI or MusicXML file "
            f"({', '.join(SCORE_SUFFIXES)})."
        )
    scratch.mkdir(parents=True, exist_ok=True)
    # Named after this process, so that a studio starting up can tell leftovers of a dead one (`Home.clean`).
    stem = scratch / f"{os.getpid()}-{secrets.token_hex(8)}"
    source, parsed = stem.with_suffix(suffix), stem.with_suffix(".parsed.mid")
    try:
        source.write_bytes(data)
        if suffix not in MIDI_SUFFIXES:
            check_musicxml_size(
                source,
                max_xml_bytes=settings.max_melody_xml_bytes,
                max_note_elements=2 * settings.max_melody_notes,
                name="The uploaded file",
            )
        run_in_child(
            "parse-score",
            {"path": str(source), "out": str(parsed), "label": "The uploaded file"},
            Limits(seconds=settings.max_parse_seconds, memory_bytes=settings.sandbox_memory_bytes),
            what="Reading the uploaded file",
            error=ScoreFileError,
            advice="send a shorter or simpler piece, or export it again from your score editor",
        )
        return read_midi(parsed.read_bytes(), name="the uploaded file")
    finally:
        source.unlink(missing_ok=True)
        parsed.unlink(missing_ok=True)


def check_melody(score: Score, max_bars: int, max_notes: int) -> None:
    """Raise `TransformError` unless `score` has a pitched note, at most `max_bars` bars and `max_notes` notes."""
    melody_track(score)
    if score.n_bars > max_bars:
        raise TransformError(f"The melody lasts {score.n_bars} bars; the studio takes at most {max_bars}, cut it.")
    if score.n_notes > max_notes:
        raise TransformError(f"The melody has {score.n_notes} notes; the studio takes at most {max_notes}, cut it.")


def check_length(seconds: float, max_seconds: float, what: str, advice: str) -> None:
    """Raise `LimitExceededError` when a piece of `seconds` is longer than the studio's `max_seconds`."""
    if seconds > max_seconds:
        raise LimitExceededError(
            f"{what} lasts {_minutes(seconds)}; the studio makes and plays pieces of at most "
            f"{_minutes(max_seconds)}, so {advice}."
        )


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def summarize(score: Score) -> dict[str, Any]:
    """What a list shows of a score: tempo, metre, length and its tracks."""
    return {
        "tempo_qpm": score.tempo,
        "time_signature": list(score.time_signature),
        "resolution": score.resolution,
        "bars": score.n_bars,
        "notes": score.n_notes,
        "duration_seconds": round(score.get_duration_seconds(), 3),
        "tracks": [
            {
                "name": track.name,
                "program": track.program,
                "instrument": "Drums" if track.is_drum else program_to_name(track.program),
                "is_drum": track.is_drum,
                "role": track.role,
                "notes": len(track.notes),
            }
            for track in score.tracks
        ],
    }


class ScoreCache:
    """The scores of the last `size` stored melodies read, so that generating again does not parse MIDI again.

    Stored melodies never change (an operation makes a new one); `drop` forgets a deleted one.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._scores: OrderedDict[str, Score] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], Score]) -> Score:
        """The score cached under `key`, else `load()` (cached from then on)."""
        with self._lock:
            if key in self._scores:
                self._scores.move_to_end(key)
                return self._scores[key]
        score = load()
        with self._lock:
            self._scores[key] = score
            while len(self._scores) > self.size:
                self._scores.popitem(last=False)
        return score

    def drop(self, key: str) -> None:
        """Forget the score cached under `key`."""
        with self._lock:
            self._scores.pop(key, None)


class Composer:
    """Runs techniques with models: the last few models stay loaded, and generations queue first come, first served.

    Generations run on a pool of `max_running` threads fed from one FIFO queue, so under load every
    request waits about as long as the others (a free-for-all over threads would let some starve).

    Parameters
    ----------
    max_running
        Generations running at once; more wait in the queue.
    threads
        Torch threads each generation runs on (`Technique.threads` of every model it loads).
    """

    def __init__(self, max_running: int = 2, threads: int = 1) -> None:
        self.threads = threads
        self._loaded: OrderedDict[tuple[str, str, int, int], Technique] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix="opencomposer-generate")

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` (a generation and what goes with it) in its turn, without blocking the event loop."""
        return await asyncio.wrap_future(self._pool.submit(work))

    def close(self) -> None:
        """Finish the queued generations and stop the pool."""
        self._pool.shutdown()

    def technique(self, technique: str, model: str) -> Technique:
        """`technique` loaded with `model` (from the cache when its files have not changed).

        Raises `UnknownNameError` for an unknown technique or model, `ParameterError` for a model of
        another technique.
        """
        cls = technique_class(technique)
        entry = find_model(model)
        if entry.card.technique != technique:
            raise ParameterError(
                f"The model {model!r} is {with_article(entry.card.technique)} model; pick {with_article(technique)} "
                f"model for {technique}."
            )
        key = (technique, model, entry.card_path.stat().st_mtime_ns, entry.weights_path.stat().st_mtime_ns)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            loaded = cls(entry)
            loaded.threads = self.threads
            self._loaded[key] = loaded
            while len(self._loaded) > CACHED_TECHNIQUES:
                self._loaded.popitem(last=False)
            return loaded

    def generate(
        self, technique: str, model: str, score: Score, params: Mapping[str, object], seed: int
    ) -> tuple[Generation, dict[str, ParamValue]]:
        """Run a technique; returns what it made and its parameters with the defaults filled in."""
        loaded = self.technique(technique, model)
        values = validate_params(type(loaded).params, params)
        return loaded.generate(score, values, seed), values


def composition_metrics(score: Score) -> dict[str, float | None]:
    """The music metrics of a score (`opencomposer.metrics.window_metrics` over its 4-bar windows).

    Undefined values (a silent track's pitch range) are None. A score whose bars are not a whole number
    of 16th-note steps is measured in 4/4.
    """
    from opencomposer.metrics import track_names, window_metrics

    try:
        steps_per_bar = METRICS_SPEC.steps_per_bar(score.time_signature)
    except ValueError:
        steps_per_bar = METRICS_SPEC.steps_per_bar((4, 4))
    roll = to_roll(score, METRICS_SPEC)  # (tracks, steps, pitches)
    window_steps = METRICS_BARS_PER_WINDOW * steps_per_bar
    n_windows = max(1, math.ceil(roll.shape[1] / window_steps))
    padded = np.zeros((roll.shape[0], n_windows * window_steps, roll.shape[2]), dtype=roll.dtype)
    padded[:, : roll.shape[1]] = roll
    windows = padded.reshape(roll.shape[0], n_windows, window_steps, roll.shape[2]).swapaxes(0, 1)
    try:
        melody: int | None = melody_track(score)
    except TransformError:
        melody = None
    values = window_metrics(
        windows,
        METRICS_SPEC,
        steps_per_bar=steps_per_bar,
        track_names=track_names(score),
        drum_tracks=[track.is_drum for track in score.tracks],
        melody_index=melody,
    )
    return {key: value if math.isfinite(value) else None for key, value in values.items()}


def draw_piano_roll(score: Score, path: Path, title: str = "") -> None:
    """Draw a score as a piano roll (time in beats across, pitch up, a colour per track) into a PNG file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    colours = [f"C{index % 10}" for index in range(len(score.tracks))]
    for track, colour in zip(score.tracks, colours, strict=True):
        for note in track.notes:
            start_beats, duration_beats = note.start / score.resolution, note.duration / score.resolution
            axes.broken_barh([(start_beats, duration_beats)], (note.pitch - 0.4, 0.8), facecolors=colour)
        axes.plot([], [], color=colour, linewidth=6, label=track.name or "untitled")
    beats_per_bar = 4 * score.time_signature[0] / score.time_signature[1]
    end_beats = max(score.end / score.resolution, beats_per_bar)
    for bar in range(1, math.ceil(end_beats / beats_per_bar)):
        axes.axvline(bar * beats_per_bar, color="0.8", linewidth=0.6, zorder=0)
    axes.set_xlim(0, end_beats)
    axes.set_xlabel("beats")
    axes.set_ylabel("MIDI pitch")
    if score.tracks:
        axes.legend(loc="upper right", fontsize=7)
    if title:
        axes.set_title(title, fontsize=9)
    figure.tight_layout()
    picture = io.BytesIO()
    figure.savefig(picture, format="png")
    write_atomically(path, picture.getvalue())
