"""Share bundles: one file holding a composition and everything needed to hear it anywhere and make it again.

A bundle is a zip archive with the suffix ``.ocshare`` (any unzip tool opens it) holding exactly these entries:

```
card.json          what made it: technique, action, model (name, card title, sha256 of its weights file),
                   parameters, seed, the input melody as notes (samples included, so any studio can re-create
                   it), the composition's summary, the studio's version; `audio_missing` says why there is no MP3
composition.mid    the composition
composition.mp3    the composition rendered by FluidSynth (only when this studio could render audio)
pianoroll.png      the composition drawn as a piano roll
index.html         a page that plays the composition in any browser from the unzipped folder: no server, no
                   network (its player synthesises each note with the Web Audio API; the picture is inlined)
```

`read_bundle` reads one that came from outside: the archive's size, its entries' names, count and unpacked
sizes are checked before and while they are read, so a hostile bundle fails with a sentence and costs no more
than its limits.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from opencomposer.errors import ShareBundleError, UploadTooLargeError
from opencomposer.music.score import Note, Score, TempoChange, TimeSignatureChange, Track
from opencomposer.studio.server.schemas import MAX_SEED, MODEL_NAME_PATTERN, NAME_PATTERN, Params, Title

BUNDLE_SUFFIX = "ocshare"
MiB = 2**20
MAX_BUNDLE_BYTES = 48 * MiB
"""Largest bundle the studio imports (a ten-minute MP3 at 192 kbit/s is about 14 MiB)."""
ENTRY_LIMITS_BYTES: dict[str, int] = {
    "card.json": 4 * MiB,
    "composition.mid": 4 * MiB,
    "composition.mp3": 32 * MiB,
    "pianoroll.png": 4 * MiB,
    "index.html": 8 * MiB,
}
"""Every entry a bundle may hold, and the most each may unpack to."""
REQUIRED_ENTRIES = ("card.json", "composition.mid")
_PAGE_TEMPLATE = "share_page.html"

Text = Annotated[str, StringConstraints(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SharedNote(_Strict):
    """One note in ticks of its score's resolution."""

    pitch: int = Field(ge=0, le=127)
    start_ticks: int = Field(ge=0, le=100_000_000)
    duration_ticks: int = Field(ge=1, le=10_000_000)
    velocity: int = Field(ge=1, le=127)


class SharedTrack(_Strict):
    """One track with its notes."""

    name: Annotated[str, StringConstraints(max_length=100)]
    program: int = Field(ge=0, le=127)
    is_drum: bool
    role: Literal["melody", "accompaniment", "other"]
    notes: list[SharedNote] = Field(max_length=100_000)


class SharedScore(_Strict):
    """A whole score, tempo and metre changes included, so that it is re-created exactly."""

    resolution: int = Field(ge=1, le=32_768)
    tempo_qpm: float = Field(gt=0, le=2000)
    time_signature: tuple[int, int]
    tempo_changes: list[tuple[int, float]] = Field(default_factory=list, max_length=10_000)
    time_signature_changes: list[tuple[int, int, int]] = Field(default_factory=list, max_length=10_000)
    tracks: list[SharedTrack] = Field(min_length=1, max_length=64)


class SharedModel(_Strict):
    """The model that made a composition: its name, its card's title and the sha256 of its weights file."""

    name: Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]
    title: Text
    weights_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class SharedMelody(_Strict):
    """The input melody, as notes."""

    title: Title
    score: SharedScore


class ShareCard(_Strict):
    """``card.json``: what made a shared composition, enough to make it again."""

    format: Literal["opencomposer-share"] = "opencomposer-share"
    version: Literal[1] = Field(default=1, description="The bundle format's version.")
    title: Title
    created_at: datetime
    studio_version: Text
    technique: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    action: Text
    model: SharedModel
    params: Params
    seed: int = Field(ge=0, le=MAX_SEED)
    melody: SharedMelody
    summary: dict[str, Any]
    audio_missing: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="Why the bundle has no composition.mp3; None when it has one."
    )


@dataclass(frozen=True, slots=True)
class Bundle:
    """What an imported bundle gives the studio: its card and its MIDI (the rest is for people, never read back)."""

    card: ShareCard
    midi: bytes


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read a MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def to_shared_score(score: Score) -> SharedScore:
    """A score as a bundle writes it."""
    return SharedScore(
        resolution=score.resolution,
        tempo_qpm=score.tempo,
        time_signature=score.time_signature,
        tempo_changes=[(change.tick, change.qpm) for change in score.tempo_changes],
        time_signature_changes=[
            (change.tick, change.numerator, change.denominator) for change in score.time_signature_changes
        ],
        tracks=[
            SharedTrack(
                name=track.name[:100],
                program=track.program,
                is_drum=track.is_drum,
                role=track.role,
                notes=[
                    SharedNote(
                        pitch=note.pitch,
                        start_ticks=note.start,
                        duration_ticks=note.duration,
                        velocity=max(1, min(127, note.velocity)),
                    )
                    for note in track.notes
                ],
            )
            for track in score.tracks
        ],
    )


def from_shared_score(shared: SharedScore) -> Score:
    """The score a bundle holds; raises `ShareBundleError` when its tempo or metre is not valid."""
    try:
        return Score(
            resolution=shared.resolution,
            tempo=shared.tempo_qpm,
            time_signature=shared.time_signature,
            tempo_changes=tuple(TempoChange(tick, qpm) for tick, qpm in shared.tempo_changes),
            time_signature_changes=tuple(TimeSignatureChange(*change) for change in shared.time_signature_changes),
            tracks=tuple(
                Track(
                    name=track.name,
                    program=track.program,
                    is_drum=track.is_drum,
                    role=track.role,
                    notes=tuple(
                        Note(note.pitch, note.start_ticks, note.duration_ticks, note.velocity) for note in track.notes
                    ),
                )
                for track in shared.tracks
            ),
        )
    except ValueError as error:
        raise ShareBundleError(
            f"The bundle's melody is not a valid score ({error}); export the bundle again."
        ) from None


def same_notes(first: Score, second: Score) -> bool:
    """Whether two scores hold the same notes: track by track, pitch, start, duration and velocity, in ticks."""
    return first.resolution == second.resolution and [track.notes for track in first.tracks] == [
        track.notes for track in second.tracks
    ]


def render_page(card: ShareCard, score: Score, picture_png: bytes | None, has_mp3: bool) -> str:
    """``index.html``: the card's facts, the piano roll (inlined), the MP3 when there is one, and a player.

    The notes are embedded as JSON with their times in seconds (the tempo map applied), read by a small player in
    plain JavaScript that gives each track a synthesised voice with the Web Audio API: the page needs no server and
    loads nothing from anywhere.
    """
    notes = [
        {
            "name": track.name,
            "is_drum": track.is_drum,
            "notes": [
                [
                    note.pitch,
                    round(score.ticks_to_seconds(note.start), 4),
                    round(score.ticks_to_seconds(note.end) - score.ticks_to_seconds(note.start), 4),
                    note.velocity,
                ]
                for note in track.notes
            ],
        }
        for track in score.tracks
    ]
    # Inside <script>, only "</" could end the element early; escaping "<", ">" and "&" keeps the JSON inert.
    data = json.dumps({"tracks": notes}, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    facts = [
        ("Made by", f"{card.action} ({card.technique})"),
        ("Model", f"{card.model.name}: {card.model.title}"),
        ("Weights sha256", card.model.weights_sha256),
        ("Seed", str(card.seed)),
        ("Parameters", ", ".join(f"{key} = {value}" for key, value in card.params.items()) or "the defaults"),
        ("Input melody", card.melody.title),
        ("Made on", card.created_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Studio", f"OpenComposer {card.studio_version}"),
    ]
    rows = "\n".join(f"<dt>{html.escape(name)}</dt><dd>{html.escape(value)}</dd>" for name, value in facts)
    picture = (
        f'<img src="data:image/png;base64,{base64.b64encode(picture_png).decode()}" alt="The piano roll of '
        f'{html.escape(card.title)}">'
        if picture_png
        else ""
    )
    audio = (
        '<p>Rendered by FluidSynth (a General MIDI soundfont): <audio controls preload="none" '
        'src="composition.mp3"></audio></p>'
        if has_mp3
        else f"<p>No MP3 in this bundle: {html.escape(card.audio_missing or 'it was not rendered')}</p>"
    )
    template = resources.files("opencomposer.studio").joinpath(_PAGE_TEMPLATE).read_text(encoding="utf-8")
    replacements = {
        "__TITLE__": html.escape(card.title),
        "__FACTS__": rows,
        "__PICTURE__": picture,
        "__AUDIO__": audio,
        "__NOTES__": data,
    }
    # One pass, so that a marker inside a title or a parameter is left as text.
    return re.sub("|".join(replacements), lambda found: replacements[found[0]], template)


def build_bundle(card: ShareCard, midi: bytes, score: Score, picture_png: bytes | None, mp3: bytes | None) -> bytes:
    """The bytes of a bundle (a zip archive) holding `card`, the composition's `midi` (whose notes are `score`),
    its picture, its MP3 when there is one, and the page that plays it."""
    page = render_page(card, score, picture_png, mp3 is not None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", card.model_dump_json(indent=2))
        archive.writestr("composition.mid", midi)
        if mp3 is not None:
            archive.writestr(zipfile.ZipInfo("composition.mp3"), mp3, compress_type=zipfile.ZIP_STORED)
        if picture_png is not None:
            archive.writestr(zipfile.ZipInfo("pianoroll.png"), picture_png, compress_type=zipfile.ZIP_STORED)
        archive.writestr("index.html", page)
    return buffer.getvalue()


def read_bundle(data: bytes) -> Bundle:
    """What a bundle from outside holds, checked.

    Raises
    ------
    UploadTooLargeError
        When the bundle is larger than `MAX_BUNDLE_BYTES` or an entry unpacks to more than its limit.
    ShareBundleError
        When it is not a zip archive, has an entry of another name (a path such as ``../x`` included), twice,
        or encrypted, misses ``card.json`` or ``composition.mid``, or its card is not a valid card.
    """
    if len(data) > MAX_BUNDLE_BYTES:
        raise UploadTooLargeError(
            f"The bundle is larger than {MAX_BUNDLE_BYTES // MiB} MiB, the most the studio imports; share a shorter "
            "composition."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ShareBundleError(
            f"The file is not a share bundle (a .{BUNDLE_SUFFIX} zip archive); export it again with Share."
        ) from None
    with archive:
        infos = archive.infolist()
        seen: set[str] = set()
        for info in infos:  # every name checked before anything is unpacked
            _check_entry(info, seen)
            seen.add(info.filename)
        # The picture, the MP3 and the page are for people: the studio unpacks only what it reads.
        entries = {info.filename: _read_entry(archive, info) for info in infos if info.filename in REQUIRED_ENTRIES}
    for name in REQUIRED_ENTRIES:
        if name not in entries:
            raise ShareBundleError(f"The bundle has no {name}; export it again with Share.")
    try:
        card = ShareCard.model_validate_json(entries["card.json"])
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the card"
        raise ShareBundleError(
            f"The bundle's card.json is not valid ({where}: {problem['msg']}); export the bundle again with Share."
        ) from None
    return Bundle(card=card, midi=entries["composition.mid"])


def _check_entry(info: zipfile.ZipInfo, seen: set[str]) -> None:
    name = info.filename
    limit = ENTRY_LIMITS_BYTES.get(name)
    if limit is None:
        raise ShareBundleError(
            f"The bundle holds an entry named {name[:100]!r}; a share bundle holds only "
            f"{', '.join(ENTRY_LIMITS_BYTES)}, so it was not imported."
        )
    if name in seen:
        raise ShareBundleError(f"The bundle holds {name} twice; export it again with Share.")
    if info.flag_bits & 0x1:
        raise ShareBundleError(f"The bundle's {name} is encrypted; export the bundle again without a password.")
    if info.file_size > limit:
        raise _too_large(name, limit)


def _too_large(name: str, limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(
        f"The bundle's {name} unpacks to more than {limit // MiB} MiB, the most the studio takes; share a shorter "
        "composition."
    )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    name, limit = info.filename, ENTRY_LIMITS_BYTES[info.filename]
    try:
        # The size in the archive's directory may lie: read one byte past the limit at most.
        with archive.open(info) as stream:
            content = stream.read(limit + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as error:
        raise ShareBundleError(f"The bundle's {name} cannot be unpacked ({error}); export it again.") from None
    if len(content) > limit:
        raise _too_large(name, limit)
    return content
