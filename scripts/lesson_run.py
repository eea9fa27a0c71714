"""Ship a GAN's training run for the Learn page: its generator early, midway and at the end, and its evaluations.

The GAN lesson plays the user's melody through the generator as it was at three points of a real run, and draws
that run's metric charts. A run of `opencomposer train gan` keeps only its last two checkpoints, so the run is
watched while it trains and every checkpoint copied aside (see the GAN lesson's part of the README); this script
then takes the generator's weights out of three of them and the ``eval`` events of the run's ``events.jsonl``:

    python scripts/lesson_run.py --run RUN --checkpoints KEPT --model nottingham-unet --steps 300 1500 3000

It writes ``<model>.step-NNNNNNNN.safetensors`` (the generator alone) and ``<model>.run.json`` into the shipped
models' folder, and says whether the run's last generator is the shipped model's own (the same command, seed
and data give the same weights on the same machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from safetensors.torch import load_file, save_file

from opencomposer.files import write_atomically
from opencomposer.registry import get_model, pretrained_dir

GENERATOR = "module/generator/"
LABELS = ("early", "middle", "late")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="The run's folder (holding events.jsonl).")
    parser.add_argument("--checkpoints", type=Path, required=True, help="Where every checkpoint was copied.")
    parser.add_argument("--model", required=True, help="The shipped model the run re-made.")
    parser.add_argument("--steps", type=int, nargs=3, required=True, help="The early, middle and late steps.")
    args = parser.parse_args()

    entry = get_model(args.model)
    events = [json.loads(line) for line in (args.run / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    start = next(event for event in events if event["kind"] == "start")
    evaluations = [
        {"step": event["step"], "metrics": event["data"]["metrics"], "reference": event["data"].get("reference", {})}
        for event in events
        if event["kind"] == "eval"
    ]
    shipped = load_file(entry.weights_path)
    checkpoints = []
    for label, step in zip(LABELS, args.steps, strict=True):
        tensors = load_file(args.checkpoints / f"step-{step:08d}.safetensors")
        generator = {
            key[len(GENERATOR) :]: value.contiguous() for key, value in tensors.items() if key.startswith(GENERATOR)
        }
        name = f"{args.model}.step-{step:08d}.safetensors"
        save_file(generator, pretrained_dir() / name)
        same = set(generator) == set(shipped) and all(bool((generator[k] == shipped[k]).all()) for k in shipped)
        digest = hashlib.sha256((pretrained_dir() / name).read_bytes()).hexdigest()
        checkpoints.append({"label": label, "step": step, "weights": name, "sha256": digest, "same_as_shipped": same})
    run = {
        "model": args.model,
        "command": start["data"].get("command") or entry.card.training.get("command"),
        "what": (
            "A run of the shipped model's own training command (same preset, seed and data), its generator kept at "
            "three steps and its held-out evaluations, for the Learn page's GAN lesson."
        ),
        "total_steps": start.get("total_steps"),
        "checkpoints": checkpoints,
        "evaluations": evaluations,
    }
    write_atomically(pretrained_dir() / f"{args.model}.run.json", (json.dumps(run, indent=1) + "\n").encode("utf-8"))
    print(json.dumps({c["label"]: (c["step"], c["same_as_shipped"]) for c in checkpoints}))


if __name__ == "__main__":
    main()
