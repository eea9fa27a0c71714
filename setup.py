"""The one packaging step pyproject.toml cannot declare: the wheel carries the built web UI.

Vite builds the web UI into ``web/dist`` (``make web``), outside the Python package. `BuildPyWithWebUI` copies
it into the built package as ``opencomposer/studio/web``, the folder the studio serves first
(`opencomposer.studio.settings.default_web_dir`), so a wheel (and a wheel built from the source archive, which
carries ``web/dist`` through MANIFEST.in) serves the page wherever it is installed. An editable install needs no
copy: it serves ``web/dist`` from the source tree, so it installs before the UI is built.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import FileError

WEB_DIST = Path(__file__).resolve().parent / "web" / "dist"
PACKAGE_WEB_DIR = Path("opencomposer", "studio", "web")


class BuildPyWithWebUI(build_py):
    """`build_py`, then the built web UI (``web/dist``) copied into the package; refuses to build without it."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not (WEB_DIST / "index.html").is_file():
            raise FileError(
                f"The web UI is not built ({WEB_DIST / 'index.html'} is missing), so the package would serve no "
                "page: run `make web` (or `cd web && npm ci && npm run build`) first."
            )
        target = Path(self.build_lib) / PACKAGE_WEB_DIR
        # A build folder left from an earlier build must not keep assets the UI no longer has.
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(WEB_DIST, target)


setup(cmdclass={"build_py": BuildPyWithWebUI})
