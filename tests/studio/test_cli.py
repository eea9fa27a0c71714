"""`opencomposer studio` on the command line: what it refuses before starting."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from opencomposer.cli import main


def test_listening_beyond_loopback_without_a_token_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCOMPOSER_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["studio", "--host", "0.0.0.0", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "needs a token" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "studio.db").exists()


def test_the_help_names_the_token_rule() -> None:
    result = CliRunner().invoke(main, ["studio", "--help"])
    assert result.exit_code == 0
    assert "--token" in result.output and "--home" in result.output and "/docs" in result.output
