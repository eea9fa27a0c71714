"""Audio: MIDI rendered by FluidSynth with a General MIDI soundfont, then encoded by soundfile.

FluidSynth (Debian's ``fluidsynth``) writes WAV with the soundfont of ``fluid-soundfont-gm``; OGG
(Vorbis) and MP3 are encoded from that WAV with soundfile (libsndfile 1.1 or newer writes MP3), in blocks.
Both run in a child process with limits (`opencomposer.studio.sandbox`), so neither can take the studio down.
When a piece is missing, `AudioUnavailableError` says what to install, and the API answers 503 while
everything else keeps working.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from opencomposer.errors import AudioUnavailableError
from opencomposer.studio.home import RENDER_SCRATCH_PREFIX, AudioFormat

RENDER_TIMEOUT_SECONDS = 120
RENDER_MEMORY_BYTES = 2 * 2**30
RENDER_FILE_BYTES = 1 * 2**30
"""A render's child may hold 2 GiB and write files of 1 GiB at most (a 10-minute WAV is about 106 MB)."""
ENCODE_BLOCK_FRAMES = 65_536
GAIN = 0.6  # FluidSynth's default (0.2) is quiet; above about 1 a full chord clips.
AUDIO_MEDIA_TYPES: dict[AudioFormat, str] = {"wav": "audio/wav", "ogg": "audio/ogg", "mp3": "audio/mpeg"}
_INSTALL = "install Debian's fluidsynth and fluid-soundfont-gm (`sudo apt-get install fluidsynth fluid-soundfont-gm`)"


class Synthesizer:
    """FluidSynth with a soundfont.

    Parameters
    ----------
    program
        The ``fluidsynth`` executable: a name looked up on PATH, or a path.
    soundfont
        A General MIDI ``.sf2`` soundfont.
    sample_rate_hz
        Sample rate of the rendered audio.
    """

    def __init__(self, program: str, soundfont: Path, sample_rate_hz: int = 44_100) -> None:
        self.program = program
        self.soundfont = soundfont
        self.sample_rate_hz = sample_rate_hz

    def missing(self) -> str | None:
        """A sentence saying what is missing to render audio, or None when everything is there."""
        if shutil.which(self.program) is None:
            return f"The synthesizer FluidSynth ({self.program}) is not installed, so there is no audio; {_INSTALL}."
        if not self.soundfont.is_file():
            return f"The soundfont {self.soundfont} is missing, so there is no audio; {_INSTALL}."
        return None

    def render(self, midi_path: Path, out_path: Path, audio_format: AudioFormat) -> None:
        """Render a MIDI file to `out_path` (written atomically) in `audio_format`, in a limited child process.

        FluidSynth and the encoder run in `opencomposer.studio.sandbox`'s child: a crash of either (libsndfile
        1.2.2 overflowed its stack encoding more than about 48 s of Vorbis in one call) or a render past
        `RENDER_TIMEOUT_SECONDS` fails this render, never the studio.

        Raises
        ------
        AudioUnavailableError
            When FluidSynth or the soundfont is missing, FluidSynth fails or runs too long, the encoder of the
            format is not available, or the child crashes.
        """
        from opencomposer.studio.sandbox import Limits, run_in_child

        missing = self.missing()
        if missing is not None:
            raise AudioUnavailableError(missing)
        arguments = {
            "midi": str(midi_path),
            "out": str(out_path),
            "format": audio_format,
            "program": shutil.which(self.program) or self.program,
            "soundfont": str(self.soundfont),
            "sample_rate_hz": self.sample_rate_hz,
            "timeout_seconds": RENDER_TIMEOUT_SECONDS,
        }
        run_in_child(
            "render-audio",
            arguments,
            Limits(seconds=RENDER_TIMEOUT_SECONDS + 15, memory_bytes=RENDER_MEMORY_BYTES, file_bytes=RENDER_FILE_BYTES),
            what="Rendering this composition's audio",
            error=AudioUnavailableError,
            advice="download the MIDI file instead",
        )


def render_audio(
    midi_path: Path,
    out_path: Path,
    audio_format: AudioFormat,
    *,
    program: str,
    soundfont: Path,
    sample_rate_hz: int,
    timeout_seconds: float,
) -> None:
    """FluidSynth renders `midi_path` to WAV, which is encoded to `audio_format` in blocks into `out_path`.

    Runs in the sandbox's child (`Synthesizer.render`). The scratch folder is named after this process,
    so that a studio starting up can tell a leftover of a dead render from one in progress.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=f"{RENDER_SCRATCH_PREFIX}{os.getpid()}-") as folder:
        wav = Path(folder) / "render.wav"
        command = [program, "-ni", "-q", "-g", str(GAIN), "-r", str(sample_rate_hz), "-F", str(wav)]
        try:
            completed = subprocess.run(
                [*command, str(soundfont), str(midi_path)],
                capture_output=True,
                text=True,
                timeout=timeout_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AudioUnavailableError(
                f"FluidSynth took more than {timeout_seconds:g} s to render this composition and was "
                "stopped; download the MIDI file instead, or try again when the machine is less busy."
            ) from None
        if completed.returncode != 0 or not wav.is_file():
            # The MIDI files are the studio's own, so a failure here is the installation's, not the user's.
            said = completed.stderr.strip().splitlines()[-1:] or ["it printed nothing"]
            raise AudioUnavailableError(
                f"FluidSynth could not render this composition (exit status {completed.returncode}: {said[0]}); "
                f"the MIDI file still downloads. Check the installation: {_INSTALL}."
            )
        encoded = Path(folder) / f"render.{audio_format}"
        if audio_format == "wav":
            wav.replace(encoded)
        else:
            encode(wav, encoded, audio_format)
        encoded.replace(out_path)


ENCODINGS: dict[AudioFormat, tuple[str, str]] = {"ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}
"""The soundfile format and subtype of each compressed format."""


def encode(wav: Path, out_path: Path, audio_format: AudioFormat) -> None:
    """Encode a WAV file as OGG Vorbis or MP3 into `out_path`, `ENCODE_BLOCK_FRAMES` at a time.

    In blocks, memory stays small for a piece of any length, and libsndfile never gets the millions of
    frames in one call that overflowed its stack (1.2.2, Vorbis, about 2.1 M frames). Raises
    `AudioUnavailableError` without an encoder.
    """
    import soundfile

    major, subtype = ENCODINGS[audio_format]
    if major not in soundfile.available_formats() or subtype not in soundfile.available_subtypes(major):
        raise AudioUnavailableError(
            f"This machine's libsndfile ({soundfile.__libsndfile_version__}) cannot write {audio_format.upper()}; "
            "upgrade the soundfile package (its wheels bundle libsndfile 1.1 or newer), or ask for WAV."
        )
    with (
        soundfile.SoundFile(str(wav)) as source,
        soundfile.SoundFile(
            str(out_path), "w", source.samplerate, source.channels, format=major, subtype=subtype
        ) as target,
    ):
        for block in source.blocks(blocksize=ENCODE_BLOCK_FRAMES, dtype="float32"):
            target.write(block)
