"""Train AR-CNNs on a GPU machine that has PyTorch but not the project's music libraries, and measure them.

This is how the shipped `bach-arcnn` was trained (its card gives the exact command). Two steps:

1. Here, with the project installed, write the `jsb-satb` chorales as class grids (one int per voice and
   16th-note step: a pitch of the model's 46, or silence), per split, exactly as `framewise_nll` reads them::

       .venv/bin/python scripts/arcnn_gpu.py export gpu/jsb-satb-classes.npz

2. On the GPU machine, with only torch, numpy and safetensors, and ``src`` on the path::

       PYTHONPATH=src python3 scripts/arcnn_gpu.py train gpu/jsb-satb-classes.npz OUT \\
           --channels 192 --blocks 12 --minutes 8

   It trains the project's own `Arcnn` with the project's own objective (`MaskedCells`: orderless-NADE
   masks, each piece's hidden cells weighted alike, warm-up and cosine learning rate) on random 8-bar
   windows of the training chorales, starting on any beat, in every transposition from -5 to +6
   semitones that keeps the voices in range. It measures the framewise NLL of the valid split
   (`estimate_piece_nll`, exact, one ordering, seed 0) a few times on the way, keeps the weights that scored best there,
   and finally measures those on the test split, exactly and as Coconet's released evaluation does (5
   orderings; its published 0.57 is measured that way). It writes ``OUT/NAME.safetensors`` and ``OUT/NAME.json``
   (the history, the sizes, the wall time, the hardware).

The number of steps is set from the speed measured over the first ones, so that the learning-rate
schedule ends with the time given.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from opencomposer.models.arcnn import (
    DEFAULT_ORDERINGS,
    Arcnn,
    ArcnnConfig,
    classes_to_rolls,
    estimate_piece_nll,
)
from opencomposer.training.hardware import hardware_description
from opencomposer.training.objectives.masked import MASK_KINDS, MaskedCells

PITCHES = 46
VOICES = 4
WINDOW_STEPS = 128  # 8 bars of 16th notes
HOP_STEPS = 4  # windows start on any beat
TRANSPOSE = range(-5, 7)
PROBE_STEPS = 60


def export(out: Path) -> None:
    """Write every split of `jsb-satb` as (voices, steps) class grids into one .npz (train_0, train_1, ...)."""
    from opencomposer.data.registry import get_dataset
    from opencomposer.training.arcnn import COCONET_ROLL, piece_classes
    from opencomposer.training.evaluation import held_out_pieces

    arrays: dict[str, np.ndarray[Any, Any]] = {}
    source = get_dataset("jsb-satb")
    for split in ("train", "valid", "test"):
        pieces = held_out_pieces(source, split)
        for index, piece in enumerate(pieces):
            arrays[f"{split}_{index}"] = piece_classes(piece.score, COCONET_ROLL, VOICES).numpy().astype(np.uint8)
        print(f"{split}: {len(pieces)} pieces")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]


def load_split(path: Path, split: str) -> list[torch.Tensor]:
    """The pieces of one split, as (voices, steps) int64 class grids, in their exported order."""
    with np.load(path) as data:
        names = sorted(
            (name for name in data.files if name.startswith(f"{split}_")), key=lambda n: int(n.split("_")[1])
        )
        return [torch.from_numpy(data[name].astype(np.int64)) for name in names]


def training_windows(pieces: Sequence[torch.Tensor]) -> torch.Tensor:
    """(N, voices, WINDOW_STEPS) uint8: every beat-aligned window of every piece in every transposition in range."""
    rest = PITCHES
    windows = []
    for piece in pieces:
        steps = piece.shape[1]
        for start in range(0, steps - WINDOW_STEPS + 1, HOP_STEPS):
            window = piece[:, start : start + WINDOW_STEPS]
            sounding = window != rest
            if not bool(sounding[0].any()):
                continue
            low, high = int(window[sounding].min()), int(window[sounding].max())
            for shift in TRANSPOSE:
                if low + shift >= 0 and high + shift < PITCHES:
                    windows.append(torch.where(sounding, window + shift, window))
    return torch.stack(windows).to(torch.uint8)


def split_nll(model: Arcnn, pieces: Sequence[torch.Tensor], *, seed: int = 0, estimator: str = "exact") -> float:
    """Framewise NLL in nats per frame of `pieces`, drawn as `framewise_nll` draws them: exact, one ordering
    each, or as Coconet's released evaluation estimates it (5 orderings)."""
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    orderings = DEFAULT_ORDERINGS[estimator]
    total = sum(
        estimate_piece_nll(model, piece, generator, estimator=estimator, orderings=orderings, batch=2048)
        for piece in pieces
    )
    model.train(was_training)
    return total / sum(piece.shape[1] for piece in pieces)


def train(args: argparse.Namespace) -> None:
    """Train one AR-CNN for a fixed time and write the weights that scored best on the valid split."""
    from safetensors.torch import save_file

    began = time.perf_counter()
    deadline = began + 60.0 * args.minutes
    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_pieces = load_split(args.classes, "train")
    valid, test = load_split(args.classes, "valid"), load_split(args.classes, "test")
    windows = training_windows(train_pieces).to(device)
    config = ArcnnConfig(
        voices=VOICES,
        pitches=PITCHES,
        channels=args.channels,
        blocks=args.blocks,
        dilation_cycle=args.dilation_cycle,
        direct_steps=args.direct_steps,
    )
    model = Arcnn(config)
    kinds = tuple(args.kinds.split(","))
    objective = MaskedCells(model, learning_rate=args.learning_rate, total_steps=None, mask_kinds=kinds)
    objective.to(device)
    print(f"{args.name}: {len(windows)} windows, {sum(p.numel() for p in model.parameters())} parameters", flush=True)

    def step_at(step: int) -> dict[str, float]:
        index = torch.randint(0, len(windows), (args.batch_size,), device=device)
        rolls = classes_to_rolls(windows[index].long(), PITCHES)
        return objective.train_step([rolls], step)

    # Measure the speed over a few steps at the peak rate's warm-up, then fix the schedule to the time left.
    objective.total_steps = 10**9  # warming up, the rate is tiny
    for step in range(PROBE_STEPS // 3):  # the first steps also set up the device's libraries
        step_at(step)
    probe_began = time.perf_counter()
    for step in range(PROBE_STEPS // 3, PROBE_STEPS):
        step_at(step)
    seconds_per_step = (time.perf_counter() - probe_began) / (PROBE_STEPS - PROBE_STEPS // 3)
    split_nll(model, valid[:1])
    evals = max(1, args.evaluations)
    eval_began = time.perf_counter()
    split_nll(model, valid[:8])
    eval_seconds = (time.perf_counter() - eval_began) * len(valid) / 8
    left = deadline - time.perf_counter() - evals * eval_seconds - 2.0 * eval_seconds * len(test) / len(valid)
    left = max(left, 0.7 * (deadline - time.perf_counter()))  # an evaluation measured while others started
    total = max(PROBE_STEPS + 10, PROBE_STEPS + int(0.97 * left / seconds_per_step))
    objective.total_steps = total
    print(f"{args.name}: {seconds_per_step * 1000:.1f} ms a step, {total} steps planned", flush=True)
    checkpoints = {round(total * (k + 1) / evals) for k in range(evals)}
    history: list[dict[str, float]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    losses: list[float] = []

    def measure(step: int) -> tuple[float, int, dict[str, torch.Tensor]] | None:
        """Measure the valid split at `step`; returns the new best, else None."""
        nll = split_nll(model, valid)
        history.append(
            {
                "step": step,
                "seconds": round(time.perf_counter() - began, 1),
                "train_loss": float(np.mean(losses[-500:])) if losses else float("nan"),
                "learning_rate": objective.rate_at(step - 1),
                "valid_nll": nll,
            }
        )
        print(f"{args.name}: {history[-1]}", flush=True)
        if best is None or nll < best[0]:
            return nll, step, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return None

    step = PROBE_STEPS
    while step < total and time.perf_counter() < deadline:
        losses.append(step_at(step)["loss"])
        step += 1
        if step in checkpoints or time.perf_counter() >= deadline:
            best = measure(step) or best
    if not history or history[-1]["step"] != step:  # out of time before the first measurement
        best = measure(step) or best
    assert best is not None
    model.load_state_dict(best[2])
    test_nll = split_nll(model, test)
    test_nll_coconet = split_nll(model, test, estimator="coconet")
    args.out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in best[2].items()}, str(args.out / f"{args.name}.safetensors"))
    report = {
        "name": args.name,
        "config": asdict(config),
        "mask_kinds": list(kinds),
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "windows": len(windows),
        "steps_planned": total,
        "steps_run": step,
        "best_step": best[1],
        "valid_nll": best[0],
        "test_nll": test_nll,
        "test_nll_coconet": test_nll_coconet,
        "history": history,
        "wall_seconds": round(time.perf_counter() - began, 1),
        "hardware": hardware_description(device.type),
    }
    (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=1))
    print(
        f"{args.name}: valid {best[0]:.3f} at step {best[1]}, test {test_nll:.3f} "
        f"({test_nll_coconet:.3f} as Coconet measures)",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="write jsb-satb's splits as class grids (needs the project)")
    exporting.add_argument("out", type=Path)
    training = commands.add_parser("train", help="train one AR-CNN for a fixed time (needs torch alone)")
    training.add_argument("classes", type=Path, help="the .npz that `export` wrote")
    training.add_argument("out", type=Path, help="folder for NAME.safetensors and NAME.json")
    training.add_argument("--name", default="bach-arcnn")
    training.add_argument("--channels", type=int, default=128)
    training.add_argument("--blocks", type=int, default=8)
    training.add_argument("--dilation-cycle", type=int, default=4)
    training.add_argument("--direct-steps", type=int, default=5)
    training.add_argument("--kinds", default=",".join(MASK_KINDS), help="mask kinds, comma-separated")
    training.add_argument("--batch-size", type=int, default=128)
    training.add_argument("--learning-rate", type=float, default=1e-3)
    training.add_argument("--minutes", type=float, default=8.0, help="wall time for the whole run, evaluations too")
    training.add_argument("--evaluations", type=int, default=5, help="valid-split measurements on the way")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--threads", type=int, default=2)
    training.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    if args.command == "export":
        export(args.out)
    else:
        if not args.minutes > 0:  # NaN too
            parser.error("--minutes must be positive")
        train(args)


if __name__ == "__main__":
    main()
