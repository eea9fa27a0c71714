"""Each technique declares its commands (verbs), and each mode's own fields, for the CLI and the web form."""

from __future__ import annotations

from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.cli.generate import generate
from opencomposer.techniques import list_techniques, technique_class
from opencomposer.techniques.edit import Edit


def test_every_verb_of_every_technique_is_a_generate_command() -> None:
    verbs = {verb.name for name in list_techniques() for verb in technique_class(name).verbs}
    assert verbs == {"accompany", "band", "edit", "extend", "harmonize", "inpaint"}
    assert set(generate.commands) == verbs


def test_each_edit_mode_s_command_has_only_that_mode_s_flags() -> None:
    def flags(verb: str) -> str:
        return CliRunner().invoke(main, ["generate", verb, "--help"], env={"COLUMNS": "200"}).output

    inpaint, harmonize, edit = flags("inpaint"), flags("harmonize"), flags("edit")
    assert "--start-bar" in inpaint and "--voices" in inpaint and "--max-add-notes" not in inpaint
    assert "--max-add-notes" in edit and "--start-bar" not in edit
    assert "--iterations" in harmonize and "--start-bar" not in harmonize and "--max-add-notes" not in harmonize
    assert "--mode " not in inpaint + harmonize + edit


def test_the_schema_names_the_modes_of_each_mode_s_own_field() -> None:
    schemas = {param.name: param.to_json_schema() for param in Edit.params}
    assert schemas["voices"]["x-modes"] == ["inpaint"]
    assert schemas["max_add_notes"]["x-modes"] == ["edit"]
    assert "x-modes" not in schemas["iterations"] and "x-modes" not in schemas["mode"]


def test_a_genre_picks_the_techniques_model_of_that_genre(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "band.mid"
    result = CliRunner().invoke(main, ["generate", "band", "--genre", "rock", "--melody", "twinkle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "rock-band" in result.output and out.is_file()
    unknown = CliRunner().invoke(
        main, ["generate", "accompany", "--genre", "jazz", "--melody", "twinkle", "--out", "x"]
    )
    assert unknown.exit_code == 2 and "Genres with an accompany model: chorale, folk, pop" in unknown.output
