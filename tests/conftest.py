"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The project reads real music data from `../shared/data` (beside the repository), never from the repo.
SHARED_DATA = (Path(__file__).parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The offline music data folder (`../shared/data` from the repository root); skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared music data folder {SHARED_DATA} is not present on this machine")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep caches out of the user's data directory, shared by every test worker of this run.

    Parsed MusicXML is cached there, so the slow tests that read the same chorales parse them once.
    A test that needs a data directory of its own sets `OPENCOMPOSER_DATA` itself.
    """
    if "OPENCOMPOSER_DATA" in os.environ:
        return
    # Under pytest-xdist each worker has its own base temp folder; their parent is common to the run.
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    os.environ["OPENCOMPOSER_DATA"] = str(shared / "opencomposer-data")
