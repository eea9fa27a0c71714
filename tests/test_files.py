"""`opencomposer.files`: a file is replaced whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opencomposer.files import write_atomically, write_json_atomically


def test_a_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "tune.mid"
    write_atomically(path, b"old")
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["tune.mid"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    write_json_atomically(path, {"name": "mine"})
    with pytest.raises(TypeError):
        write_json_atomically(path, {"name": object()})
    with pytest.raises(TypeError):
        write_atomically(path, "not bytes")  # type: ignore[arg-type]
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "mine"}
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]
