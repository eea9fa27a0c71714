"""Fixtures shared by every test package."""

from __future__ import annotations

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
