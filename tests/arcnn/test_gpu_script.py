"""scripts/arcnn_gpu.py, the script that trained the shipped bach-arcnn: a short CPU run on made-up chorales."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from opencomposer.models.arcnn import Arcnn, ArcnnConfig, estimate_piece_nll, piece_nll
from opencomposer.registry import load_weights

SCRIPT = Path(__file__).parents[2] / "scripts" / "arcnn_gpu.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("arcnn_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def made_up_chorales(path: Path) -> None:
    """A few pieces per split of held notes in four voices, in the layout `export` writes."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, count in (("train", 3), ("valid", 2), ("test", 2)):
        for index in range(count):
            steps = int(rng.integers(130, 200))
            voices = np.repeat(rng.integers(10, 36, size=(4, steps // 4 + 1)), 4, axis=1)[:, :steps]
            voices[:, -3:] = 46  # a rest at the end
            arrays[f"{split}_{index}"] = voices.astype(np.uint8)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def test_windows_start_on_every_beat_and_stay_in_range_when_transposed() -> None:
    script = load_script()
    piece = torch.full((4, 136), 40)
    piece[:, -1] = 46
    windows = script.training_windows([piece])
    # 3 beat-aligned starts; transpositions up to +5 keep pitch 40 within 0..45, so -5..+5: 11 of 12.
    assert windows.shape == (3 * 11, 4, 128)
    assert int(windows[windows != 46].max()) == 45 and bool((windows[:, :, -1] == 46).any())


def test_a_short_run_writes_weights_the_project_loads_and_their_measured_nll(tmp_path: Path) -> None:
    script = load_script()
    classes = tmp_path / "classes.npz"
    made_up_chorales(classes)
    argv = ["train", str(classes), str(tmp_path / "out"), "--name", "tiny", "--channels", "8", "--blocks", "1"]
    script.main([*argv, "--batch-size", "4", "--minutes", "0.15", "--evaluations", "1", "--device", "cpu"])
    report = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert report["steps_run"] >= script.PROBE_STEPS and report["best_step"] == report["history"][-1]["step"]
    assert report["mask_kinds"] == ["orderless", "voices", "span", "frames"]
    config = ArcnnConfig(**report["config"])
    model = Arcnn(config)

    class Entry:
        name = "tiny"
        weights_path = tmp_path / "out" / "tiny.safetensors"

    model.load_state_dict(load_weights(Entry()))  # type: ignore[arg-type]
    model.eval()
    test = script.load_split(classes, "test")
    generator = torch.Generator().manual_seed(0)
    expected = sum(piece_nll(model, piece, generator) for piece in test) / sum(piece.shape[1] for piece in test)
    assert report["test_nll"] == pytest.approx(expected, rel=1e-5)
    generator = torch.Generator().manual_seed(0)
    frames = sum(piece.shape[1] for piece in test)
    coconet = sum(estimate_piece_nll(model, p, generator, estimator="coconet", orderings=5) for p in test) / frames
    assert report["test_nll_coconet"] == pytest.approx(coconet, rel=1e-5)


def test_a_run_needs_a_positive_time() -> None:
    with pytest.raises(SystemExit):
        load_script().main(["train", "x.npz", "out", "--minutes", "0"])
