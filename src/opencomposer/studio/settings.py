"""Every setting of the studio in one typed object.

`Settings.from_environment` fills what the command line did not give from the environment
(``OPENCOMPOSER_HOME``, ``OPENCOMPOSER_TOKEN`` or ``OPENCOMPOSER_TOKEN_FILE``, ``OPENCOMPOSER_DATABASE_URL``)
and from defaults. The
home directory holds everything the studio writes; `apply_environment` points the model registry and
the dataset registry at it, so that the studio, its training workers and the command line agree on
where models and datasets live.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from opencomposer.errors import StudioConfigError
from opencomposer.techniques.base import INFERENCE_THREADS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_TOKEN_CHARACTERS = re.compile(r"^[A-Za-z0-9._~-]+$")


def default_home() -> Path:
    """``$OPENCOMPOSER_HOME``, else the platform's user data folder (``~/.local/share/opencomposer`` on Linux)."""
    configured = os.environ.get("OPENCOMPOSER_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("opencomposer"))


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) only ever accepts connections from this machine."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Settings:
    """How one studio runs.

    Parameters
    ----------
    home
        The folder holding the database and every file the studio writes.
    host, port
        Where the server listens; any host but a loopback address requires `token`.
    trusted_hosts
        Host names, besides loopback ones, that requests may be addressed to when there is no token
        (the name of a local proxy in front of the studio).
    token
        When set, every request must carry it (``Authorization: Bearer TOKEN``, a ``?token=`` query
        parameter, or the cookie the studio sets when it sees the query parameter).
    database_url
        Any SQLAlchemy URL; default: SQLite in ``home/studio.db``.
    data_dir
        The dataset registry's folder (downloads, window caches, the user's folders); default ``home/data``.
    max_jobs
        Training jobs running at once; the others wait in the queue.
    run_jobs
        Whether this process runs the training jobs. With several studio processes on one database
        (behind a proxy), exactly one must; the others only queue, stop and resume jobs.
    worker_threads
        Torch threads of each training worker process.
    inference_threads
        Torch threads each generation runs on (one: see `opencomposer.techniques.base.INFERENCE_THREADS`).
    max_generations
        Generations running at once in the server (default: one per CPU core, at most 4); others wait their turn.
    max_request_bytes
        Largest request body (a dataset's files are uploaded in one request).
    max_melody_bytes
        Largest melody file.
    max_melody_bars, max_melody_notes
        Longest melody accepted (uploaded or recorded).
    soundfont
        The General MIDI soundfont FluidSynth plays with.
    fluidsynth
        The FluidSynth program (a name looked up on PATH, or a path).
    sample_rate_hz
        Sample rate of rendered audio.
    web_dir
        The built web UI, served at ``/``; None when it is not built.
    training_device
        Where training runs: "auto" (a GPU when there is one), "cpu", "cuda" or "cuda:N".
    poll_seconds
        How often the job manager reads its workers' events, and the event stream the database.
    max_generation_seconds
        Time budget of one generation; past it the generation stops itself with a sentence (None: no budget).
    max_composition_seconds
        Longest piece a generation may make and audio may be rendered of, in seconds of music.
    max_parse_seconds, max_dataset_read_seconds
        Time budget of reading one uploaded score, and of reading an uploaded dataset, in a child process.
    max_melody_xml_bytes
        Most MusicXML text an uploaded melody may unpack to.
    sandbox_memory_bytes
        Memory of the child process that reads an uploaded score or dataset.
    """

    home: Path = field(default_factory=default_home)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    trusted_hosts: tuple[str, ...] = ()
    token: str | None = None
    database_url: str | None = None
    data_dir: Path | None = None
    max_jobs: int = 1
    run_jobs: bool = True
    worker_threads: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    inference_threads: int = INFERENCE_THREADS
    max_generations: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    max_request_bytes: int = 64 * 1024 * 1024
    max_melody_bytes: int = 1024 * 1024
    max_melody_bars: int = 256
    max_melody_notes: int = 10_000
    soundfont: Path = DEFAULT_SOUNDFONT
    fluidsynth: str = "fluidsynth"
    sample_rate_hz: int = 44_100
    web_dir: Path | None = field(default_factory=lambda: default_web_dir())
    training_device: str = "auto"
    poll_seconds: float = 0.25
    max_generation_seconds: float | None = 60.0
    max_composition_seconds: float = 600.0
    max_parse_seconds: float = 30.0
    max_dataset_read_seconds: float = 600.0
    max_melody_xml_bytes: int = 16 * 2**20
    sandbox_memory_bytes: int = 2**30

    @classmethod
    def from_environment(
        cls,
        *,
        home: Path | None = None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        token_file: Path | None = None,
        database_url: str | None = None,
        max_jobs: int = 1,
        run_jobs: bool = True,
    ) -> Settings:
        """Settings from what the command line gave, then the environment, then the defaults.

        The token comes from `token`, else the first line of `token_file`, else ``$OPENCOMPOSER_TOKEN``, else
        the first line of the file ``$OPENCOMPOSER_TOKEN_FILE`` names: a file or the environment keeps it out of
        the process list (``ps``), where a command-line argument shows.
        """
        environment_file = os.environ.get("OPENCOMPOSER_TOKEN_FILE")
        if token is None and token_file is not None:
            token = read_token_file(token_file)
        token = token or os.environ.get("OPENCOMPOSER_TOKEN") or None
        if token is None and environment_file:
            token = read_token_file(Path(environment_file))
        return cls(
            home=(home or default_home()).expanduser().resolve(),
            host=host,
            port=port,
            token=token,
            database_url=database_url or os.environ.get("OPENCOMPOSER_DATABASE_URL") or None,
            data_dir=Path(os.environ["OPENCOMPOSER_DATA"]).expanduser()
            if os.environ.get("OPENCOMPOSER_DATA")
            else None,
            max_jobs=max_jobs,
            run_jobs=run_jobs,
        )

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token) < MIN_TOKEN_LENGTH:
            raise StudioConfigError(
                f"The token is {len(self.token)} characters long; use at least {MIN_TOKEN_LENGTH} random "
                "characters, for example from `python -c 'import secrets; print(secrets.token_urlsafe())'`."
            )
        if self.token is not None and not _TOKEN_CHARACTERS.match(self.token):
            raise StudioConfigError(
                "The token may hold only letters, digits, '-', '_', '.' and '~', so that it fits in an address."
            )
        if self.token is None and not is_loopback(self.host):
            raise StudioConfigError(
                f"Listening on {self.host} lets other machines in, so the studio needs a token: give --token or set "
                "OPENCOMPOSER_TOKEN (or listen on 127.0.0.1)."
            )
        if self.max_jobs < 1 or self.max_generations < 1:
            raise StudioConfigError("max_jobs and max_generations must be at least 1.")

    @property
    def url(self) -> str:
        """The database URL in use."""
        return self.database_url or f"sqlite:///{self.home / 'studio.db'}"

    @property
    def datasets_dir(self) -> Path:
        """The dataset registry's folder: `data_dir`, else ``home/data``."""
        return self.data_dir or self.home / "data"

    def environment(self) -> dict[str, str]:
        """The variables that make the registries (and training workers) use this studio's home."""
        return {"OPENCOMPOSER_HOME": str(self.home), "OPENCOMPOSER_DATA": str(self.datasets_dir)}

    def apply_environment(self) -> None:
        """Point this process's model and dataset registries at the home (they read these variables)."""
        os.environ.update(self.environment())


def read_token_file(path: Path) -> str:
    """The token in the first line of `path` (surrounding white space dropped); raises `StudioConfigError`."""
    try:
        with path.expanduser().open(encoding="utf-8") as file:
            first = file.readline(4096).strip()
    except (OSError, UnicodeDecodeError) as error:
        raise StudioConfigError(
            f"The token file {path} cannot be read ({error.__class__.__name__}); check the path."
        ) from None
    if not first:
        raise StudioConfigError(f"The token file {path} is empty; write the token on its first line.")
    return first


def default_web_dir() -> Path | None:
    """The built web UI, None if there is none.

    The package's ``studio/web`` folder, where a wheel carries it (setup.py copies ``web/dist`` there), else the
    source tree's ``web/dist``, which an editable install serves.
    """
    package = Path(__file__).resolve().parent / "web"
    source_tree = Path(__file__).resolve().parents[3] / "web" / "dist"
    for candidate in (package, source_tree):
        if (candidate / "index.html").is_file():
            return candidate
    return None
