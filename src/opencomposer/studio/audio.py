"""Audio: MIDI rendered by FluidSynth with a General MIDI soundfont, then encoded by soundfile.

FluidSynth (Debian's ``fluidsynth``) writes WAV with the soundfont of ``fluid-soundfont-gm``; OGG
(Vorbis) and MP3 are encoded from that WAV with soundfile (libsndfile 1.1 or newer writes MP3). When
a piece is missing, `AudioUnavailableError` says what to install, and the API answers 503 while
everything else keeps working.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from opencomposer.errors import AudioUnavailableError
from opencomposer.studio.home import AudioFormat

RENDER_TIMEOUT_SECONDS = 120
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
        """Render a MIDI file to `out_path` (written atomically) in `audio_format`.

        Raises
        ------
        AudioUnavailableError
            When FluidSynth or the soundfont is missing, FluidSynth fails or runs too long, or the encoder
            of the format is not available.
        """
        missing = self.missing()
        if missing is not None:
            raise AudioUnavailableError(missing)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".render-") as folder:
            wav = Path(folder) / "render.wav"
            executable = shutil.which(self.program) or self.program
            command = [executable, "-ni", "-q", "-g", str(GAIN), "-r", str(self.sample_rate_hz), "-F", str(wav)]
            try:
                completed = subprocess.run(
                    [*command, str(self.soundfont), str(midi_path)],
                    capture_output=True,
                    text=True,
                    timeout=RENDER_TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise AudioUnavailableError(
                    f"FluidSynth took more than {RENDER_TIMEOUT_SECONDS} s to render this composition and was "
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
                encoded.write_bytes(encode(wav, audio_format))
            encoded.replace(out_path)


ENCODINGS: dict[AudioFormat, tuple[str, str]] = {"ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}
"""The soundfile format and subtype of each compressed format."""


def encode(wav: Path, audio_format: AudioFormat) -> bytes:
    """The audio of a WAV file encoded as OGG Vorbis or MP3; raises `AudioUnavailableError` without an encoder."""
    import soundfile

    major, subtype = ENCODINGS[audio_format]
    if major not in soundfile.available_formats() or subtype not in soundfile.available_subtypes(major):
        raise AudioUnavailableError(
            f"This machine's libsndfile ({soundfile.__libsndfile_version__}) cannot write {audio_format.upper()}; "
            "upgrade the soundfile package (its wheels bundle libsndfile 1.1 or newer), or ask for WAV."
        )
    samples, rate = soundfile.read(str(wav), dtype="float32")
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format=major, subtype=subtype)
    return buffer.getvalue()
