"""The layer rules of DESIGN.md, checked on the source: lower layers never import higher ones.

The table is the one in docs/ARCHITECTURE.md ("Layers as they are"): keep the two together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "opencomposer"

# Every layer, lowest first, with the layers below it that it may import (besides itself). `errors` and
# `files` sit under all of them and import nothing of the project.
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "files": set(),
    "music": set(),
    "metrics": {"music"},
    "data": {"music", "metrics"},
    "registry": {"music", "metrics", "data"},
    "models": {"music", "metrics", "data", "registry"},
    "techniques": {"music", "metrics", "data", "registry", "models"},
    "training": {"music", "metrics", "data", "registry", "models", "techniques"},
    "studio": {"music", "metrics", "data", "registry", "models", "techniques", "training"},
    "cli": {"music", "metrics", "data", "registry", "models", "techniques", "training", "studio"},
}
EVERYWHERE = {"errors", "files"}
# The only modules below `models` that may touch torch: the PyTorch adapter over cached windows, and the
# registry's reading and writing of weights (imported inside its functions).
TORCH_ALLOWED = {"data/loader.py", "registry.py"}
BELOW_MODELS = {"music", "metrics", "data", "registry"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "opencomposer":  # `from opencomposer import data`
                names.update(f"opencomposer.{a.name}" for a in node.names if not a.name.startswith("__"))
    return names


def layer_of(path: Path) -> str:
    """The layer of a module of the package: its folder, or its own name for a top-level module."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def layer_files(layer: str) -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if layer_of(path) == layer)


def test_every_module_is_in_a_layer() -> None:
    modules = {layer_of(path) for path in PACKAGE.rglob("*.py")}
    assert modules - {"__init__"} <= set(LAYERS), modules - set(LAYERS)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_imports_only_lower_layers(layer: str) -> None:
    assert layer_files(layer), f"no module of the layer {layer!r}"
    for path in layer_files(layer):
        relative = path.relative_to(PACKAGE).as_posix()
        for module in imported_modules(path):
            if module.startswith("opencomposer."):
                target = module.split(".")[1]
                allowed = {layer, *LAYERS[layer]} | (set() if layer in EVERYWHERE else EVERYWHERE)
                assert target in allowed, f"{relative} imports {module}"


@pytest.mark.parametrize("layer", sorted(BELOW_MODELS | EVERYWHERE))
def test_layers_below_the_models_leave_torch_alone(layer: str) -> None:
    for path in layer_files(layer):
        relative = path.relative_to(PACKAGE).as_posix()
        for module in imported_modules(path):
            if module.split(".")[0] == "torch" or module.startswith("safetensors.torch"):
                assert relative in TORCH_ALLOWED, f"{relative} imports {module}; only {TORCH_ALLOWED} may"


def test_music_never_imports_torch() -> None:
    for path in layer_files("music"):
        assert not any(m.split(".")[0] == "torch" for m in imported_modules(path)), path


def test_nothing_imports_the_cli() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if layer_of(path) == "cli":
            continue
        assert not any(m.startswith("opencomposer.cli") for m in imported_modules(path)), path
