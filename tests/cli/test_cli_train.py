"""`opencomposer train gan` and `opencomposer train presets`: flags from the declarations, runs, mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.tunes import Tunes

from opencomposer.cli import main
from opencomposer.data import registry as data_registry
from opencomposer.training.params import GAN_PARAMS


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data_registry, "_PROVIDERS", [lambda: {"tiny": Tunes}])


QUICK = ["--steps", "2", "--batch-size", "2", "--update-ratio", "1", "--workers", "1", "--device", "cpu"]


def test_a_run_trains_installs_and_evaluates_a_model(tmp_path: Path) -> None:
    out = tmp_path / "my-run"
    result = CliRunner().invoke(
        main, ["train", "gan", "--arch", "musegan", "--dataset", "tiny", "--out", str(out), "--evaluate", *QUICK]
    )
    assert result.exit_code == 0, result.output
    assert "Installed as 'my-run'" in result.output
    assert (out / "my-run.safetensors").is_file() and (out / "events.jsonl").is_file()
    installed = json.loads((tmp_path / "home" / "models" / "my-run.json").read_text(encoding="utf-8"))
    assert installed["architecture"] == "musegan" and installed["training"]["steps"] == 2
    assert installed["training"]["command"].startswith("opencomposer ")
    assert installed["metrics"]["held_out"]["pieces"] == 2
    assert json.loads((out / "my-run.json").read_text(encoding="utf-8"))["metrics"]["held_out"]["split"] == "test"
    assert "similarity_index" in result.output


def test_the_hyperparameter_flags_come_from_the_declarations() -> None:
    result = CliRunner().invoke(main, ["train", "gan", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for param in GAN_PARAMS:
        assert f"--{param.name.replace('_', '-')}" in result.output
        assert param.help.split(";")[0][:40] in " ".join(result.output.split())
    assert "[1 to 20; default: 5]" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dataset", "tiny", "--update-ratio", "30"], "update_ratio must be between 1 and 20, not 30"),
        (["--dataset", "tiny", "--learning-rate", "fast"], "is not a valid float"),
        ([], "Give --preset, or --dataset"),
        (["--preset", "bach-chorale-unet", "--arch", "musegan"], "trains a unet generator, not musegan"),
        (["--preset", "mozart"], "Known presets: deepcomposer-lab"),
        (["--dataset", "nope"], "no dataset called 'nope'"),
        (["--dataset", "tiny", "--name", "Bad Name"], "not a valid model name"),
        (["--dataset", "tiny", "--batch-size", "4000"], "fewer than one batch of 4000"),
    ],
)
def test_mistakes_print_one_line_and_exit_2(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["train", "gan", "--out", str(tmp_path / "run"), *arguments])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_presets_are_listed() -> None:
    result = CliRunner().invoke(main, ["train", "presets"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("deepcomposer-lab", "bach-chorale-unet", "pop909-musegan"):
        assert name in result.output


def test_every_trainable_architecture_has_its_train_command() -> None:
    from opencomposer.training.architectures import list_architectures

    result = CliRunner().invoke(main, ["train", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    commands = {architecture.command_name for architecture in list_architectures()}
    assert commands == {"gan", "arcnn", "transformer", "band"}
    for command in commands:
        assert f"  {command} " in result.output
        help_text = CliRunner().invoke(main, ["train", command, "--help"], env={"COLUMNS": "200"})
        assert help_text.exit_code == 0 and "--preset" in help_text.output and "--evaluate" in help_text.output


def test_a_new_architecture_gets_a_train_command_with_its_own_flags_and_no_code_in_the_cli() -> None:
    from dataclasses import replace

    from opencomposer.cli.train import train_command
    from opencomposer.techniques.base import Param
    from opencomposer.training.architectures import get_architecture

    knob = Param("knob", "int", 3, "How far the toy turns.", minimum=1, maximum=9)
    toy = replace(get_architecture("arcnn"), name="toy", params=(*GAN_PARAMS, knob), prepares_windows=False)
    command = train_command("toy", [toy])
    result = CliRunner().invoke(command, ["--help"], env={"COLUMNS": "200"})
    assert "--knob" in result.output and "[1 to 9; default: 3]" in " ".join(result.output.split())
    assert "--workers" not in result.output and "--arch" not in result.output
    assert "generate edit --model NAME" in " ".join(result.output.split())
