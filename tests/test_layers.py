"""The layer rules of DESIGN.md, checked on the source: lower layers never import higher ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "opencomposer"

# What each layer may import from the project (besides itself, `opencomposer.errors` and `opencomposer.files`).
ALLOWED = {
    "music": set(),
    "metrics": {"music", "data"},
    "data": {"music", "metrics"},
}
# The only modules below `models` that may touch torch: the PyTorch adapter over cached windows.
TORCH_ALLOWED = {"data/loader.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_lower_layers(layer: str) -> None:
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for module in imported_modules(path):
            if module.split(".")[0] == "torch":
                assert relative in TORCH_ALLOWED, f"{relative} imports torch; only {TORCH_ALLOWED} may"
            if module.startswith("opencomposer."):
                target = module.split(".")[1]
                assert target in {layer, "errors", "files", *ALLOWED[layer]}, f"{relative} imports {module}"


def test_nothing_imports_the_cli() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        assert not any(m.startswith("opencomposer.cli") for m in imported_modules(path)), path
