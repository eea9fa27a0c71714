"""Foundation benchmark: MIDI reading and piano-roll conversion on real files.

Run with `make bench` (or `python benchmarks/bench_music.py`). Reports medians over files or repeats.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _report import print_table
from opencomposer.music.midi import read_midi
from opencomposer.music.pianoroll import RollSpec, from_roll, to_roll
from opencomposer.music.score import Note, Score, Track

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def time_ms(action: Callable[[], object]) -> float:
    """Wall time of one call, in milliseconds."""
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000.0


def median_per_file_ms(paths: list[Path], action: Callable[[Path], object], repeats: int = 3) -> float:
    """Median over files of each file's best-of-`repeats` time (the best filters out scheduler noise)."""
    return statistics.median(min(time_ms(partial(action, path)) for _ in range(repeats)) for path in paths)


def four_track_score(bars: int) -> Score:
    """A dense, deterministic four-track score: a 16th-note line, 8ths, quarters and half notes."""
    resolution, ticks_per_bar = 480, 4 * 480
    tracks = []
    for index, (step_ticks, low) in enumerate([(120, 72), (240, 60), (480, 52), (960, 40)]):
        notes = [
            Note(low + (start // step_ticks * 5) % 12, start, step_ticks, 80)
            for start in range(0, bars * ticks_per_bar, step_ticks)
        ]
        tracks.append(Track(name=f"Track {index + 1}", notes=tuple(notes)))
    return Score(resolution=resolution, tracks=tuple(tracks))


def main() -> None:
    spec = RollSpec(steps_per_beat=4, low_pitch=0, high_pitch=127)
    rows: list[tuple[str, str, str]] = []

    lab_files = sorted((SHARED_DATA / "deepcomposer" / "gan-original-midi").glob("*.mid"))
    if lab_files:
        median = median_per_file_ms(lab_files, lambda path: to_roll(read_midi(path), spec))
        rows.append((f"read MIDI + to_roll, DeepComposer lab files ({len(lab_files)})", f"{median:.3f}", "ms / file"))

    score = four_track_score(bars=64)
    round_trip = [time_ms(lambda: from_roll(to_roll(score, spec), spec, tracks=score.tracks)) for _ in range(20)]
    label = f"to_roll -> from_roll, 64 bars x 4 tracks ({score.n_notes} notes)"
    rows.append((label, f"{statistics.median(round_trip):.2f}", "ms"))

    for label, pattern in [("POP909", "pop909/*/*.mid"), ("Nottingham", "nottingham/MIDI/*.mid")]:
        files = sorted(SHARED_DATA.glob(pattern))
        if files:
            median = median_per_file_ms(files, read_midi, repeats=2)
            rows.append((f"read MIDI, {label} ({len(files)} files; aim < 2 ms)", f"{median:.3f}", "ms / file"))

    print_table("music: MIDI and piano rolls (medians)", rows)


if __name__ == "__main__":
    main()
