"""The built web UI's size: under 1 MB of JavaScript once gzipped."""

from __future__ import annotations

import gzip

from .conftest import WEB_DIST, missing

MAX_GZIPPED_BYTES = 1_000_000


def gzipped_javascript_bytes() -> int:
    """The gzipped size of every JavaScript file of the build."""
    return sum(len(gzip.compress(path.read_bytes(), 9)) for path in (WEB_DIST / "assets").glob("*.js"))


def test_the_built_javascript_is_under_one_megabyte_gzipped() -> None:
    if not (WEB_DIST / "index.html").is_file():
        missing("The web UI is not built: run `make web`.")
    size = gzipped_javascript_bytes()
    assert 0 < size < MAX_GZIPPED_BYTES, f"the JavaScript is {size} bytes gzipped"
