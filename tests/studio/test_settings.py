"""The settings a studio starts with, and the token rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencomposer.errors import StudioConfigError
from opencomposer.studio.settings import Settings, is_loopback

TOKEN = "a-long-enough-token-123"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_addresses_need_no_token(host: str, tmp_path: Path) -> None:
    assert is_loopback(host)
    assert Settings(home=tmp_path, host=host).token is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "studio.example.org"])
def test_any_other_address_requires_a_token(host: str, tmp_path: Path) -> None:
    assert not is_loopback(host)
    with pytest.raises(StudioConfigError, match="needs a token"):
        Settings(home=tmp_path, host=host)
    assert Settings(home=tmp_path, host=host, token=TOKEN).token == TOKEN


@pytest.mark.parametrize(("token", "problem"), [("short", "at least 16"), ("has spaces in it, sadly", "only letters")])
def test_a_weak_or_unusable_token_is_refused(token: str, problem: str, tmp_path: Path) -> None:
    with pytest.raises(StudioConfigError, match=problem):
        Settings(home=tmp_path, token=token)


def test_the_environment_fills_what_the_command_line_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("OPENCOMPOSER_TOKEN", TOKEN)
    monkeypatch.setenv("OPENCOMPOSER_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    monkeypatch.delenv("OPENCOMPOSER_DATA", raising=False)
    settings = Settings.from_environment(host="0.0.0.0")
    assert settings.home == (tmp_path / "from-env").resolve()
    assert settings.token == TOKEN
    assert settings.url == "sqlite:////tmp/elsewhere.db"
    assert settings.datasets_dir == settings.home / "data"
    assert Settings.from_environment(home=tmp_path / "given").home == (tmp_path / "given").resolve()


def test_models_and_datasets_are_looked_for_in_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opencomposer.data.registry import data_dir
    from opencomposer.registry import models_dir

    monkeypatch.setenv("OPENCOMPOSER_HOME", "/nowhere")
    monkeypatch.setenv("OPENCOMPOSER_DATA", "/nowhere")
    settings = Settings(home=tmp_path)
    settings.apply_environment()
    assert models_dir() == tmp_path / "models"
    assert data_dir() == tmp_path / "data"
    assert settings.url == f"sqlite:///{tmp_path / 'studio.db'}"
