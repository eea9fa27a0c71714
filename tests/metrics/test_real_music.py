"""The metrics on real music: they tell chorales from pop songs, and Bach's voice leading is as taught.

Both tests read the Bach chorales of music21's corpus (through the `bach-chorales` dataset), which
takes a minute or more, so the pieces are read once for the module and only as far as a test needs.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.data.registry import Piece, get_dataset
from opencomposer.metrics.harmony import VoiceLeading, voice_leading
from opencomposer.music.midi import write_midi
from opencomposer.music.pianoroll import RollSpec, to_roll

pytestmark = pytest.mark.slow

GENERATED_PIECES = 50
REFERENCE_PIECES = 60


class Chorales:
    """The chorales in dataset order, read on demand and kept."""

    def __init__(self) -> None:
        self._source = get_dataset("bach-chorales").iter_pieces()
        self.pieces: list[Piece] = []

    def first(self, count: int | None) -> list[Piece]:
        """The first `count` chorales (all of them for None)."""
        while count is None or len(self.pieces) < count:
            piece = next(self._source, None)
            if piece is None:
                break
            self.pieces.append(piece)
        return self.pieces[:count]

    def close(self) -> None:
        if isinstance(self._source, Generator):
            self._source.close()  # stops the dataset's worker processes now rather than at garbage collection


@pytest.fixture(scope="module")
def chorales() -> Iterator[Chorales]:
    source = Chorales()
    yield source
    source.close()


def write_folder(folder: Path, pieces: list[Piece]) -> Path:
    folder.mkdir()
    for piece in pieces:
        write_midi(piece.score, folder / f"{piece.id.rsplit('/', 1)[-1]}.mid")
    return folder


def evaluate(generated: list[str], reference: Path, out: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["evaluate", *generated, "--reference", str(reference), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    return data


def overlaps(data: dict[str, object]) -> list[float]:
    features = data["features"]
    assert isinstance(features, dict)
    return [feature["overlap_area"] for feature in features.values()]


def test_evaluate_tells_chorales_from_pop_songs(chorales: Chorales, shared_data: Path, tmp_path: Path) -> None:
    pieces = chorales.first(GENERATED_PIECES + REFERENCE_PIECES)
    generated = write_folder(tmp_path / "generated", pieces[:GENERATED_PIECES])
    reference = write_folder(tmp_path / "reference", pieces[GENERATED_PIECES:])
    pop_songs = [str(shared_data / "pop909" / f"{n:03d}" / f"{n:03d}.mid") for n in range(1, GENERATED_PIECES + 1)]

    like = evaluate([str(generated)], reference, tmp_path / "chorales")
    unlike = evaluate(pop_songs, reference, tmp_path / "pop")

    assert min(overlaps(like)) > 0.8  # measured 0.91 to 0.97
    assert float(np.mean(overlaps(like))) > 0.88  # measured 0.94
    assert float(np.mean(overlaps(unlike))) < 0.6  # measured 0.43
    assert isinstance(like["similarity_index"], float) and isinstance(unlike["similarity_index"], float)
    assert like["similarity_index"] > 0.85  # measured 0.93
    assert unlike["similarity_index"] < like["similarity_index"] - 0.25  # measured 0.55
    assert (tmp_path / "pop" / "evaluation.png").stat().st_size > 20_000


def test_bach_chorale_voice_leading_rates(chorales: Chorales) -> None:
    spec = RollSpec(steps_per_beat=4)
    pieces = chorales.first(None)
    assert len(pieces) > 300
    counts = [voice_leading(to_roll(piece.score, spec), spec) for piece in pieces]
    total = VoiceLeading(*(np.stack(field) for field in zip(*counts, strict=True))).total()
    rates = {name: float(rate) for name, rate in total.per_100_transitions().items()}
    # The rates the README quotes (350 chorales, 16th-note steps): 0.15 parallel fifths, 0.06 parallel
    # octaves, 2.5 crossings and 1.6 wide spacings per 100 note transitions, over 27,916 transitions.
    assert int(total.transitions) > 25_000
    assert 0 < rates["parallel_fifths"] < 0.5
    assert 0 < rates["parallel_octaves"] < 0.5
    assert 0.5 < rates["crossings"] < 6
    assert 0.5 < rates["spacings"] < 5
