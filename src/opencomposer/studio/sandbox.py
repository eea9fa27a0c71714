"""Work on what comes from outside in a child process with limits, so that a file costs one request at most.

Parsing an uploaded score (music21 on a hostile MusicXML file can take minutes and gigabytes), reading a
dataset that was uploaded, and rendering audio (libsndfile has crashed the process that encoded a long
piece) each run in ``python -m opencomposer.studio.sandbox``, started fresh for the job: its address space,
the size of any file it writes and its wall-clock time are limited, and a crash, a hang or a blown limit
fails that one request with a sentence while the studio goes on answering everyone else. The child gets
its task as JSON on its standard input and answers with JSON on its standard output.

Exit statuses of the child: 0 done, 2 the input was refused (its sentence is the last line of standard
error), 3 it ran out of the memory it was allowed; anything else (a traceback, a signal) is a failure of
the child itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opencomposer.errors import OpenComposerError

EXIT_DONE, EXIT_REFUSED, EXIT_OUT_OF_MEMORY = 0, 2, 3
MiB = 2**20


@dataclass(frozen=True, slots=True)
class Limits:
    """What a child may use.

    Parameters
    ----------
    seconds
        Wall-clock time, from its start; past it the child and everything it started are killed.
    memory_bytes
        Address space of the child (and of any program it starts), ``RLIMIT_AS``.
    file_bytes
        Largest file the child may write, ``RLIMIT_FSIZE``: a runaway render cannot fill the disk.
    """

    seconds: float
    memory_bytes: int = 2048 * MiB
    file_bytes: int = 512 * MiB


def run_in_child(
    task: str,
    arguments: dict[str, Any],
    limits: Limits,
    *,
    what: str,
    error: type[OpenComposerError],
    advice: str,
) -> Any:
    """Run `task` (a name in `TASKS`) with `arguments` in a limited child; returns its JSON answer.

    Parameters
    ----------
    what
        The work as a sentence's subject ("Reading the uploaded file"), for the error messages.
    error
        The error raised when the child refuses the input, runs out of time or memory, or crashes.
    advice
        What the user can do, appended to those messages ("send a shorter piece").
    """
    command = [sys.executable, "-m", "opencomposer.studio.sandbox"]
    spec = json.dumps(
        {"task": task, "arguments": arguments, "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes}
    )
    # A session of its own: on a timeout the whole group goes, FluidSynth with it.
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    try:
        stdout, stderr = process.communicate(spec.encode(), timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise error(
            f"{what} took longer than {limits.seconds:g} s, the most the studio allows, and was stopped; {advice}."
        ) from None
    finally:
        _kill_group(process)  # whatever it started and left behind
    said = stderr.decode(errors="replace").strip().splitlines()
    if process.returncode == EXIT_DONE:
        return json.loads(stdout)
    if process.returncode == EXIT_REFUSED and said:
        raise error(said[-1])
    if process.returncode == EXIT_OUT_OF_MEMORY or process.returncode == -signal.SIGKILL:
        raise error(
            f"{what} needed more than {limits.memory_bytes // MiB} MiB of memory, the most the studio allows, and "
            f"was stopped; {advice}."
        )
    if process.returncode < 0:
        name = signal.Signals(-process.returncode).name
        raise error(f"{what} crashed ({name}) and was stopped; the studio goes on. {advice[:1].upper()}{advice[1:]}.")
    last = said[-1] if said else "it printed nothing"
    raise error(f"{what} failed (exit status {process.returncode}: {last}); {advice}.")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _parse_score(arguments: dict[str, Any]) -> Any:
    from opencomposer.errors import ScoreFileError
    from opencomposer.music.midi import MIDI_SUFFIXES, read_midi, write_midi

    path = Path(arguments["path"])
    if path.suffix.lower() in MIDI_SUFFIXES:  # without music21, whose import takes a second
        score = read_midi(path.read_bytes(), name=arguments["label"])
    else:
        from opencomposer.music.musicxml import read_musicxml

        try:
            score = read_musicxml(path)
        except ScoreFileError:
            raise ScoreFileError(
                f"{arguments['label']} cannot be read as MusicXML; export it again from your score editor."
            ) from None
    write_midi(score, arguments["out"])
    return {"notes": score.n_notes}


def _render_audio(arguments: dict[str, Any]) -> Any:
    from opencomposer.studio.audio import render_audio

    render_audio(
        Path(arguments["midi"]),
        Path(arguments["out"]),
        arguments["format"],
        program=arguments["program"],
        soundfont=Path(arguments["soundfont"]),
        sample_rate_hz=int(arguments["sample_rate_hz"]),
        timeout_seconds=float(arguments["timeout_seconds"]),
    )
    return {}


def _read_dataset(arguments: dict[str, Any]) -> Any:
    from opencomposer.data.registry import read_report
    from opencomposer.data.sources.folder import FolderDataset, new_folder_entry

    entry = new_folder_entry(arguments["name"], Path(arguments["folder"]), arguments["genre"], arguments["melody"])
    report = read_report(FolderDataset(entry, workers=1))
    return {
        "pieces_per_split": report.pieces_per_split,
        "skipped": [[item.item, item.reason] for item in report.skipped],
    }


TASKS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "parse-score": _parse_score,
    "render-audio": _render_audio,
    "read-dataset": _read_dataset,
}
"""What a child can be asked to do: a score file to MIDI, MIDI to audio, an uploaded folder's report."""


def main() -> int:
    """The child: set the limits, do the task read from standard input, print its answer."""
    spec = json.loads(sys.stdin.read())
    resource.setrlimit(resource.RLIMIT_AS, (spec["memory_bytes"], spec["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec["file_bytes"], spec["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        answer = TASKS[spec["task"]](spec["arguments"])
    except OpenComposerError as refused:
        print(str(refused), file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
    print(json.dumps(answer))
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
