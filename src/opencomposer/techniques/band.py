"""Band: a melody in, the melody plus a genre's band (parts and drums) out.

The pipeline (inference only): the melody track is found and kept exactly as given; its beats are read
into the chord network of the model (`opencomposer.models.band`), which chooses the changes; every part
of the band draws bars from its bank of the genre's own bars and moves them onto those changes; the
drums play bars of one performance of the genre's style near the melody's tempo. Bars follow the
melody's own meter (a 3/4 tune gets three-beat bars) and the band starts where the melody's first bar
starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

from opencomposer.music.score import Note, Score
from opencomposer.music.transform import melody_track
from opencomposer.registry import ModelEntry, get_model, load_weights
from opencomposer.techniques.base import SEED, Generation, Param, Technique, Verb, check_time_budget, validate_params

BARS = Param(
    "bars",
    "int",
    0,
    "How many bars (of the melody's time signature) the band plays, from the melody's start; 0 plays all of it.",
    minimum=0,
    maximum=1024,
    unit="bars",
)
DRUMS = Param("drums", "bool", True, "Whether the drummer plays (for a genre whose band has drums).")
HARMONY_RISK = Param(
    "harmony_risk",
    "float",
    1.0,
    "How far the chords may stray from the likeliest ones: 0 plays the safest changes, 1 strays as the genre's "
    "own music does, 2 twice as far.",
    minimum=0.0,
    maximum=2.0,
)
STEPS_PER_BEAT = 4


class Band(Technique):
    """Play a melody with a genre's band (a `band` model: jazz, rock, pop, symphony or the user's own)."""

    name: ClassVar[str] = "band"
    title: ClassVar[str] = "Band"
    description: ClassVar[str] = (
        "Plays your melody with a band of a genre: the model chooses the chords, and each player (piano, bass, "
        "guitar, strings, drums) plays bars learnt from that genre's music on them; the melody is kept as played."
    )
    params: ClassVar[tuple[Param, ...]] = (BARS, DRUMS, HARMONY_RISK)
    verbs: ClassVar[tuple[Verb, ...]] = (
        Verb("band", "Play a melody with a genre's band (jazz, rock, pop, symphony); the melody is kept as given."),
    )
    default_model: ClassVar[str] = "jazz-band"
    input_help: ClassVar[str] = (
        "A sample melody's name (see `opencomposer melodies list`, for example twinkle) or a MIDI or MusicXML file."
    )

    def __init__(self, entry: ModelEntry) -> None:
        from opencomposer.models.band import BandConfig, PartInfo, band_from_weights

        card = entry.card
        self.entry = entry
        self.card = card
        config = card.config
        parts = tuple(
            PartInfo(str(part["name"]), int(part["program"]), int(part["low"]), int(part["high"]))
            for part in config["parts"]
        )
        kicks = config.get("bass_from_kicks")
        bass = (
            PartInfo(str(kicks["name"]), int(kicks["program"]), int(kicks["low"]), int(kicks["high"]))
            if kicks
            else None
        )
        self.band = band_from_weights(
            BandConfig(**config["model"]),
            load_weights(entry),
            parts,
            bass,
            float(card.decoding.get("chord_weight", config.get("chord_weight", 1.0))),
            float(card.decoding.get("temperature", 0.0)),
        )

    @classmethod
    def from_model(cls, name: str) -> Band:
        """Load the model called `name` (or a model card's path); raises `UnknownNameError` when unknown."""
        return cls(get_model(name))

    def _generate(self, score: Score, params: Mapping[str, object], seed: int) -> Generation:
        values = validate_params(self.params, params)
        seed = int(SEED.validate(seed))
        melody = score.tracks[melody_track(score)]
        # The band's grid is 16ths: work at a resolution that holds them, and come back to the score's.
        factor = 1 if score.resolution % STEPS_PER_BEAT == 0 else STEPS_PER_BEAT
        resolution = score.resolution * factor
        notes = [note._replace(start=note.start * factor, duration=note.duration * factor) for note in melody.notes]
        beats_per_bar = max(1, min(8, round(score.ticks_per_bar / score.resolution)))
        ticks_per_bar = beats_per_bar * resolution
        last = max((note.start + note.duration for note in notes), default=ticks_per_bar)
        n_bars = int(values["bars"]) or max(1, math.ceil(last / ticks_per_bar))
        notes = [note for note in notes if note.start < n_bars * ticks_per_bar]
        tracks, chords = self.band.play(
            notes,
            resolution=resolution,
            beats_per_bar=beats_per_bar,
            n_bars=n_bars,
            tempo=score.tempo,
            seed=seed,
            drums=bool(values["drums"]),
            risk=float(values["harmony_risk"]),
        )
        check_time_budget()
        if factor != 1:
            tracks = [
                track.with_notes(
                    [Note(n.pitch, n.start // factor, max(1, n.duration // factor), n.velocity) for n in track.notes]
                )
                for track in tracks
            ]
        names = [chord.name if chord else "-" for chord in chords[::beats_per_bar]]
        info: dict[str, float | int | str] = {
            "model": self.card.name,
            "notes": sum(len(track.notes) for track in tracks),
            "chords": " ".join(names[:16]) + (" ..." if len(names) > 16 else ""),
        }
        return Generation(score=score.with_tracks([melody, *tracks]), info=info)

    def describe(self, given: Score, generation: Generation, seed: int) -> str:
        """The band's players with their instruments, the first chords, and the size of the result."""
        from opencomposer.music.instruments import program_to_name

        result = generation.score
        players = ", ".join(
            f"{track.name} ({'drum kit' if track.is_drum else program_to_name(track.program)})"
            for track in result.tracks[1:]
        )
        return (
            f"{result.tracks[0].name!r} with {players}; chords {generation.info.get('chords', '')}; "
            f"{result.n_notes} notes in {result.n_bars} bars (model {self.card.name}, seed {seed})."
        )
