"""Training a genre band (`opencomposer.models.band`): presets, the data it learns from, the run, the card.

`run_training(BandRecipe(preset, dataset), out_dir, name=...)` (`opencomposer.training.road`) reads the preset's
dataset, labels every beat with its chord (the data's own chord symbols where a dataset has a Chords track, else
the chord its accompaniment spells), trains the `ChordNet` on melody -> chord under the shared `Trainer`
(events, checkpoints, resume, live charts), counts the genre's chord moves, fills each part's bank with bars of
the training pieces and the drums' bank with Groove MIDI performances of the genre's style, and writes the model
(technique "band") like every other family, through `training.road.run_training`.

Only the training split feeds a model: the banks hold training bars only, and a piece's bars never end
up in two splits (`opencomposer.data.windows.split_of`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from opencomposer.data.registry import Dataset, Piece, get_dataset
from opencomposer.data.windows import split_of
from opencomposer.errors import DatasetError, ParameterError, TrainingError, UnknownNameError
from opencomposer.models import count_parameters
from opencomposer.models.band import (
    DRUM_NOTES,
    FEATURES,
    NOT_LEADING,
    STEPS_PER_BEAT,
    Band,
    BandConfig,
    ChangeTable,
    ChordNet,
    DrumBank,
    PartInfo,
    PatternBank,
    beat_features,
    chord_index,
    index_chord,
    leads_into,
    pitch_class_weights,
    transpose_features,
    transpose_labels,
)
from opencomposer.music.chords import estimate_chords, from_pitch_classes
from opencomposer.music.score import Score
from opencomposer.registry import ModelEntry
from opencomposer.techniques.base import ParamValue
from opencomposer.training.architectures import Architecture, EvaluationRequest, PresetInfo
from opencomposer.training.objectives import Objective, warmup_cosine_rate
from opencomposer.training.params import BAND_PARAMS
from opencomposer.training.road import CardParts, Recipe, TrainingData
from opencomposer.training.trainer import BatchSource, Evaluator, TrainResult

CROP_BEATS = 64
"""Beats in one training example of the chord network (16 bars of 4/4)."""
MAX_BANK_BARS = 6000
"""Bars kept in one part's bank (as many from every training piece, `bars_per_piece`): enough variety, a small file."""
MAX_DRUM_BARS = 6000


@dataclass(frozen=True, slots=True)
class PartSpec:
    """A part of a genre's band and the dataset track(s) its bars come from."""

    name: str
    program: int
    sources: tuple[str, ...]
    low: int = 28
    high: int = 100
    learnt_from: str = ""

    def info(self) -> PartInfo:
        return PartInfo(self.name, self.program, self.low, self.high)


@dataclass(frozen=True, slots=True)
class BandPreset:
    """Everything a band run needs besides its hyperparameters.

    Parameters
    ----------
    name, genre, description
        For people; `genre` is the card's genre.
    dataset
        The dataset the chords and the parts are learnt from; `subset` narrows its pieces (passed to its
        `iter_pieces`, for example ``{"genre": "Rock"}``).
    chords_track
        A track holding the data's own chord symbols; None labels each beat by what the accompaniment spells.
    parts
        The band's parts; none for a user's folder means every accompaniment track of its layout.
    bass_from_kicks
        A bass part played from the chords' roots on the drummer's kicks, for data that hold no bass line.
    training
        Recommended hyperparameters (drum_style among them).
    licence
        The licences of the data the weights are made from, and their credits.
    chord_weight
        How much the genre's counted moves weigh against the chord network while it trains; the shipped band
        takes the weight fitted on the valid split (`opencomposer.training.band_eval.calibrate`), this one only
        when the data have no valid stretch to fit it on.
    """

    name: str
    genre: str
    description: str
    dataset: str
    subset: Mapping[str, str] = field(default_factory=dict)
    chords_track: str | None = None
    parts: tuple[PartSpec, ...] = ()
    bass_from_kicks: PartSpec | None = None
    model: BandConfig = field(default_factory=BandConfig)
    training: Mapping[str, ParamValue] = field(default_factory=dict)
    licence: str = ""
    chord_weight: float = 1.0


_TRAINING: dict[str, ParamValue] = {
    "steps": 3000,
    "batch_size": 32,
    "learning_rate": 2e-3,
    "eval_every": 500,
    "checkpoint_every": 500,
}
GROOVE_CREDIT = (
    "Drums: the Groove MIDI Dataset (Gillick, Roberts, Engel, Eck and Bamman, 'Learning to Groove with Inverse "
    "Sequence Transformations', ICML 2019; Google Magenta), CC BY 4.0."
)

PRESETS: dict[str, BandPreset] = {
    preset.name: preset
    for preset in (
        BandPreset(
            name="jazz-band",
            genre="jazz",
            description=(
                "A jazz trio for any melody: piano comping on the changes, a walking bass and jazz drums on the "
                "ride. Changes and bass lines learnt from the Weimar Jazz Database's solos, drums from the "
                "Groove MIDI Dataset's jazz performances."
            ),
            dataset="wjazzd",
            chords_track="Chords",
            parts=(
                PartSpec("Piano", 0, ("Chords",), 48, 79, "the chord symbols of the Weimar Jazz Database, voiced"),
                PartSpec("Bass", 32, ("Bass",), 28, 55, "the Weimar Jazz Database's bass line, beat by beat"),
            ),
            training={**_TRAINING, "drum_style": "jazz"},
            licence=(
                "Changes and bass: the Weimar Jazz Database (Jazzomat Research Project, HfM Franz Liszt Weimar), "
                f"ODbL 1.0 / DbCL 1.0. {GROOVE_CREDIT}"
            ),
        ),
        BandPreset(
            name="rock-band",
            genre="rock",
            description=(
                "A rock band for any melody: guitar on the changes, a bass on the kick drum and rock drums. "
                "Changes learnt from OpenEWLD's rock-tagged lead sheets, drums from the Groove MIDI Dataset's "
                "rock performances."
            ),
            dataset="openewld",
            subset={"genre": "Rock"},
            chords_track="Chords",
            parts=(PartSpec("Guitar", 29, ("Chords",), 40, 76, "the chord symbols of OpenEWLD's rock lead sheets"),),
            bass_from_kicks=PartSpec("Bass", 33, (), 28, 52, "the chords' roots, on the Groove drummer's kicks"),
            training={**_TRAINING, "drum_style": "rock"},
            licence=(
                "Changes: OpenEWLD lead sheets (MIT; Discogs tags CC0) - trained on, none of it shipped. "
                f"{GROOVE_CREDIT}"
            ),
        ),
        BandPreset(
            name="pop-band",
            genre="pop",
            description=(
                "A pop band for any melody: POP909's piano accompaniment on learnt changes, with pop drums. "
                "Changes and piano bars learnt from POP909, drums from the Groove MIDI Dataset's pop performances."
            ),
            dataset="pop909",
            parts=(PartSpec("Piano", 0, ("Piano",), 36, 96, "POP909's piano accompaniment, bar by bar"),),
            training={**_TRAINING, "drum_style": "pop"},
            licence=f"Changes and piano: POP909 (MIT). {GROOVE_CREDIT}",
        ),
        BandPreset(
            name="symphony-band",
            genre="symphony",
            description=(
                "An orchestra for any melody: strings, winds and brass, learnt from the Mutopia Project's "
                "symphonies, overtures and concertos."
            ),
            dataset="mutopia-orchestral",
            parts=(
                PartSpec("Strings", 48, ("Strings",), 36, 91, "the string parts of Mutopia's orchestral works"),
                PartSpec("Winds", 73, ("Winds",), 53, 96, "the woodwind parts of Mutopia's orchestral works"),
                PartSpec("Brass", 61, ("Brass",), 40, 80, "the brass parts of Mutopia's orchestral works"),
            ),
            training={**_TRAINING, "drum_style": "none"},
            licence=(
                "Mutopia Project scores (public domain, CC BY 3.0, CC BY-SA 3.0/4.0; see the dataset's pieces.csv "
                "for each work's typesetter and licence)."
            ),
        ),
    )
}


def get_band_preset(name: str) -> BandPreset:
    """The band preset called `name`; raises `UnknownNameError` listing the known ones."""
    if name not in PRESETS:
        raise UnknownNameError(f"There is no band preset called {name!r}. Known presets: {', '.join(PRESETS)}.")
    return PRESETS[name]


def folder_preset(dataset: Dataset) -> BandPreset:
    """A preset for a user's dataset: every pitched accompaniment track is a part, chords from what they spell."""
    parts = tuple(
        PartSpec(slot.name, slot.program, (slot.name,), learnt_from=f"the {slot.name} track of {dataset.info.name}")
        for slot in dataset.info.tracks
        if slot.role == "accompaniment" and not slot.is_drum
    )
    if not parts:
        raise TrainingError(
            f"The dataset {dataset.info.name!r} has no accompaniment track for a band to learn from; "
            "register a folder whose files have a melody and at least one more track."
        )
    genres = dataset.info.genres
    return BandPreset(
        name="band",
        genre=genres[0] if len(genres) == 1 else "",
        description=f"A band learnt from {dataset.info.title}.",
        dataset=dataset.info.name,
        parts=parts,
        training=dict(_TRAINING),
        licence=dataset.info.licence,
    )


# --- the data ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeatPiece:
    """One piece as the band learns from it: its beats' melody features and chord labels (-1: none)."""

    id: str
    split: str
    beats_per_bar: int
    features: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int64]
    tempo: float
    score: Score


def beats_per_bar_of(score: Score) -> int | None:
    """Quarter-note beats in a bar of the score's (first) meter; None for a meter the band does not play."""
    numerator, denominator = score.time_signature
    if denominator == 4 and numerator in (2, 3, 4):
        return int(numerator)
    if denominator == 2 and numerator == 2:
        return 4
    return None


def beat_chords(score: Score, chords_track: str | None, n_beats: int) -> npt.NDArray[np.int64]:
    """Each beat's chord class: from the chords track's symbols, else from what the pitched accompaniment spells.

    A symbol is rendered with its root lowest (`opencomposer.music.chords.voicing`), so the chords track's lowest
    note names the root and its pitch classes the family: F-7 is F minor, not the A-flat major its tones also
    spell. An accompaniment is read by `estimate_chords`, its lowest note favoured as the root.
    """
    tracks = [
        track
        for track in score.tracks
        if (track.name == chords_track if chords_track else track.role == "accompaniment" and not track.is_drum)
    ]
    weights = sum(
        (pitch_class_weights(track.notes, score.resolution, n_beats) for track in tracks), np.zeros((n_beats, 12))
    )
    lowest = lowest_pitch_classes([note for track in tracks for note in track.notes], score.resolution, n_beats)
    if chords_track:
        return np.array(
            [
                -1
                if root < 0 or weights[beat].sum() <= 0.05
                else chord_index(from_pitch_classes(root, np.flatnonzero(weights[beat] > 0).tolist()))
                for beat, root in enumerate(lowest.tolist())
            ],
            dtype=np.int64,
        )
    chords = estimate_chords(weights, min_weight=0.05, bass=lowest)
    return np.array([chord_index(chord) for chord in chords], dtype=np.int64)


def lowest_pitch_classes(notes: Sequence[Any], resolution: int, n_beats: int) -> npt.NDArray[np.int64]:
    """The pitch class of the lowest note sounding in each beat (-1 where none sounds)."""
    lowest = np.full(n_beats, 128, dtype=np.int64)
    for note in notes:
        first, last = note.start // resolution, -(-(note.start + note.duration) // resolution)
        segment = lowest[max(0, first) : min(n_beats, last)]
        np.minimum(segment, note.pitch, out=segment)
    return np.where(lowest < 128, lowest % 12, -1)


def read_beat_pieces(
    source: Dataset, preset: BandPreset, *, splits: Sequence[str] = ("train", "valid", "test"), limit: int | None = None
) -> list[BeatPiece]:
    """The dataset's pieces in a meter the band plays, with their beats' features and chords."""
    pieces: list[BeatPiece] = []
    iterate: Iterator[Piece] = source.iter_pieces(**dict(preset.subset)) if preset.subset else source.iter_pieces()
    for piece in iterate:
        split = split_of(piece)
        if split not in splits:
            continue
        score = piece.score
        beats_per_bar = beats_per_bar_of(score)
        melody = next((track for track in score.tracks if track.role == "melody"), None)
        if beats_per_bar is None or melody is None or not melody.notes:
            continue
        n_beats = math.ceil(score.end / score.resolution)
        n_beats -= n_beats % beats_per_bar
        if n_beats < 2 * beats_per_bar:
            continue
        features = beat_features(melody.notes, score.resolution, beats_per_bar, n_beats)
        labels = beat_chords(score, preset.chords_track, n_beats)
        if np.count_nonzero(labels >= 0) < n_beats // 4:
            continue
        pieces.append(BeatPiece(piece.id, split, beats_per_bar, features, labels, score.tempo, score))
        if limit is not None and len(pieces) >= limit:
            break
    return pieces


def fill_bank(pieces: Sequence[BeatPiece], sources: Sequence[str], rng: np.random.Generator) -> PatternBank:
    """A part's bank: the bars of the pieces' `sources` tracks, each with its length in beats (a waltz's bars
    are three beats long), notes relative to their beat's chord root."""
    by_piece: list[tuple[list[list[tuple[int, int, int, int, int, int, int]]], int]] = []
    same_figure, pairs = 0, 0
    for piece in pieces:
        # A piece without the part counts too: its bars are the part's silences, as often as the genre's.
        tracks = [track for track in piece.score.tracks if track.name in sources and track.notes]
        ticks_per_step = piece.score.resolution / STEPS_PER_BEAT
        beats_per_bar = piece.beats_per_bar
        steps_per_bar = beats_per_bar * STEPS_PER_BEAT
        n_bars = len(piece.labels) // beats_per_bar
        piece_bars: list[list[tuple[int, int, int, int, int, int, int]]] = [[] for _ in range(n_bars)]
        # A bar whose notes all sound over a chord is kept, a silent one whatever the chords: where the chords are
        # read from the accompaniment, a beat with none is one where it rests, and those rests are the genre's too.
        unplaced: set[int] = set()
        for track in tracks:
            for note in track.notes:
                step = round(note.start / ticks_per_step)
                bar, onset = divmod(step, steps_per_bar)
                if bar >= n_bars:
                    continue
                remaining = max(1, round(note.duration / ticks_per_step))
                # A note held over a bar line sounds in the next bar too: it starts that bar's copy.
                while remaining > 0 and bar < n_bars:
                    beat = bar * beats_per_bar + onset // STEPS_PER_BEAT
                    label = int(piece.labels[beat])
                    length = min(remaining, steps_per_bar - onset)
                    if label >= 0:
                        chord = index_chord(label)
                        following = int(piece.labels[beat + 1]) if beat + 1 < len(piece.labels) else -1
                        ahead, ahead_quality = 0, NOT_LEADING
                        if following >= 0 and following != label:
                            after = index_chord(following)
                            if leads_into(note.pitch, chord, after):
                                ahead, ahead_quality = note.pitch - after.root, following % 4
                        piece_bars[bar].append(
                            (onset, length, note.pitch - chord.root, note.velocity, label % 4, ahead, ahead_quality)
                        )
                    else:
                        unplaced.add(bar)
                    remaining -= length
                    bar, onset = bar + 1, 0
        kept: list[list[tuple[int, int, int, int, int, int, int]]] = []
        for bar in range(n_bars):
            if bar in unplaced:
                continue
            kept.append(sorted(piece_bars[bar]))
            if bar > 0 and bar - 1 not in unplaced and piece_bars[bar] and piece_bars[bar - 1]:
                pairs += 1
                # Mostly the same figure: the same notes above the chord's root at the same steps (a walking bass
                # keeps its rhythm in every bar, but hardly ever its line).
                same_figure += same_figure_as(piece_bars[bar], piece_bars[bar - 1])
        by_piece.append((kept, beats_per_bar))
    if not any(bar for piece_bars, _ in by_piece for bar in piece_bars):
        raise TrainingError(f"No bar of the tracks {list(sources)} has a chord under it; nothing to learn from.")
    bars: list[list[tuple[int, int, int, int, int, int, int]]] = []
    beats: list[int] = []
    share = bars_per_piece([len(piece_bars) for piece_bars, _ in by_piece], MAX_BANK_BARS)
    for (piece_bars, beats_per_bar), count in zip(by_piece, share, strict=True):
        keep = np.sort(rng.choice(len(piece_bars), count, replace=False)) if count < len(piece_bars) else range(count)
        bars += [piece_bars[index] for index in keep]
        beats += [beats_per_bar] * count
    rows = [(index, *row) for index, bar in enumerate(bars) for row in bar]
    notes = np.array(rows, dtype=np.int16).reshape(-1, 8)
    return PatternBank(notes, len(bars), same_figure / pairs if pairs else 0.0, np.array(beats, dtype=np.uint8))


def same_figure_as(bar: Sequence[tuple[int, ...]], before: Sequence[tuple[int, ...]]) -> bool:
    """Whether two banked bars mostly play one figure: at least half of their notes (onset step, pitch class above
    the chord's root) shared, counted over the notes of either."""
    notes, others = {(row[0], row[2] % 12) for row in bar}, {(row[0], row[2] % 12) for row in before}
    return 2 * len(notes & others) >= len(notes | others)


def bars_per_piece(lengths: Sequence[int], most: int) -> list[int]:
    """How many of each piece's bars a bank of at most `most` bars keeps: all of them while they fit, else the
    same number from every piece (all of a shorter one), so a long symphony speaks no louder than a short dance."""
    if sum(lengths) <= most:
        return list(lengths)
    cap = 0
    while sum(min(length, cap + 1) for length in lengths) <= most:
        cap += 1
    return [min(length, cap) for length in lengths]


def fill_drums(style: str, rng: np.random.Generator, *, split: str = "train") -> tuple[DrumBank, int]:
    """The drums' bank: the 4/4 bars of the Groove MIDI Dataset's `style` beats of a split, on a 16th grid;
    and how many performances it holds."""
    from opencomposer.data.sources.groove import Groove, groove_index

    index = {info.piece_id: info for info in groove_index()}
    hits: list[npt.NDArray[np.uint8]] = []
    performance: list[int] = []
    bpm: list[float] = []
    for piece in Groove().iter_pieces(split, style=style, beat_type="beat"):
        info = index[piece.id]
        if info.time_signature != "4-4":
            continue
        bars = drum_bars(piece.score)
        if len(bars) < 2:
            continue
        hits.extend(bars)
        performance.extend([len(bpm)] * len(bars))
        bpm.append(float(info.bpm))
    if not hits:
        raise TrainingError(f"The Groove MIDI Dataset has no {style} beat in its {split} split to learn drums from.")
    array, perf = np.stack(hits), np.array(performance, dtype=np.int32)
    if len(array) > MAX_DRUM_BARS:  # keep whole runs of bars: the drums play on within a performance
        keep = np.flatnonzero(perf < np.searchsorted(np.cumsum(np.bincount(perf)), MAX_DRUM_BARS) + 1)[:MAX_DRUM_BARS]
        array, perf = array[keep], perf[keep]
    used = int(perf.max()) + 1
    return DrumBank(array, perf, np.array(bpm[:used], dtype=np.float32)), used


def drum_bars(score: Score) -> list[npt.NDArray[np.uint8]]:
    """A drum performance's whole 4/4 bars as (16, 9) velocity grids (the nine classes of `DRUM_NOTES`)."""
    ticks_per_step = score.resolution / STEPS_PER_BEAT
    n_bars = int(score.end // (16 * ticks_per_step))
    grid = np.zeros((n_bars, 16, len(DRUM_NOTES)), dtype=np.uint8)
    column = {note: index for index, note in enumerate(DRUM_NOTES)}
    for track in score.tracks:
        for note in track.notes:
            if note.pitch not in column:
                continue
            bar, step = divmod(round(note.start / ticks_per_step), 16)
            if bar < n_bars:
                cell = grid[bar, step, column[note.pitch]]
                grid[bar, step, column[note.pitch]] = max(int(cell), min(127, note.velocity))
    return list(grid)


# --- the run ----------------------------------------------------------------------------------------


def chord_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of chord logits (B, beats, N_CHORDS) against labels (B, beats); -1 labels do not count."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-1)


class ChordObjective(Objective):
    """Cross-entropy of the chord network on the data's chords (beats without one do not count)."""

    def __init__(self, net: ChordNet, learning_rate: float, total_steps: int) -> None:
        super().__init__()
        self.net = net
        self.peak = learning_rate
        self.total_steps = total_steps
        self.optimizer = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=1e-4)

    def modules(self) -> dict[str, nn.Module]:
        return {"chords": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"chords": self.optimizer}

    def train_step(self, batches: Sequence[torch.Tensor], step: int) -> dict[str, float]:
        (batch,) = batches
        features, labels = batch[..., :FEATURES], batch[..., FEATURES].long()
        for group in self.optimizer.param_groups:
            group["lr"] = warmup_cosine_rate(step, self.total_steps, self.peak)
        net = self.training_module("chords")
        net.train()
        logits = net(features)
        loss = chord_loss(logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.optimizer.step()
        return {"loss/chords": float(loss.detach())}

    def sample(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The network's chord probabilities of a batch of beats (B, beats, N_CHORDS)."""
        with torch.inference_mode():
            return torch.softmax(self.net(batch[..., :FEATURES].to(self.device)), dim=-1)


def chord_batches(pieces: Sequence[BeatPiece], batch_size: int, seed: int) -> BatchSource:
    """Crops of `CROP_BEATS` beats of the training pieces, each in a random one of the twelve keys."""
    lengths = np.array([len(piece.labels) for piece in pieces])
    per_epoch = max(1, int(lengths.sum()) // (CROP_BEATS * batch_size))

    def epoch_batches(epoch: int) -> Iterator[torch.Tensor]:
        rng = np.random.default_rng(seed * 100_003 + epoch)
        for _ in range(per_epoch):
            batch = np.zeros((batch_size, CROP_BEATS, FEATURES + 1), dtype=np.float32)
            batch[..., FEATURES] = -1
            for row, index in enumerate(rng.choice(len(pieces), batch_size, p=lengths / lengths.sum())):
                piece = pieces[index]
                start = int(rng.integers(0, max(1, len(piece.labels) - CROP_BEATS) + 1))
                start -= start % piece.beats_per_bar
                shift = int(rng.integers(12))
                features = transpose_features(piece.features[start : start + CROP_BEATS], shift)
                labels = transpose_labels(piece.labels[start : start + CROP_BEATS], shift)
                batch[row, : len(labels), :FEATURES] = features
                batch[row, : len(labels), FEATURES] = labels
            yield torch.from_numpy(batch)

    return epoch_batches


class ChordEvaluation:
    """The chord network on held-out pieces: accuracy and likelihood of the data's chords, and a band
    played for the first held-out melody (``step-N.mid``) with the banks as they will ship."""

    def __init__(self, pieces: Sequence[BeatPiece], recipe: BandRecipe, out_dir: Path, seed: int) -> None:
        self.pieces = list(pieces)
        self.recipe = recipe
        self.out_dir = out_dir
        self.seed = seed

    def __call__(self, objective: Objective, step: int) -> dict[str, Any]:
        assert isinstance(objective, ChordObjective)
        net = objective.net
        net.eval()
        correct = total = 0
        nll = 0.0
        with torch.inference_mode():
            for piece in self.pieces:
                logits = net(torch.from_numpy(piece.features[None]).to(objective.device))[0].cpu()
                labels = torch.from_numpy(piece.labels)
                known = labels >= 0
                if not bool(known.any()):
                    continue
                log_probs = torch.log_softmax(logits, dim=-1)
                nll -= float(log_probs[known, labels[known]].sum())
                correct += int((logits.argmax(-1)[known] == labels[known]).sum())
                total += int(known.sum())
        metrics = {"chord_accuracy": correct / max(1, total), "chord_nll": nll / max(1, total)}
        result: dict[str, Any] = {"metrics": metrics, "reference": {}}
        if self.pieces:
            from opencomposer.music.midi import write_midi

            piece = self.pieces[0]
            band = self.recipe.band(net)
            melody = next(track for track in piece.score.tracks if track.role == "melody")
            n_bars = min(8, len(piece.labels) // piece.beats_per_bar)
            notes = tuple(
                note for note in melody.notes if note.start < n_bars * piece.beats_per_bar * piece.score.resolution
            )
            tracks, _ = band.play(
                notes,
                resolution=piece.score.resolution,
                beats_per_bar=piece.beats_per_bar,
                n_bars=n_bars,
                tempo=piece.tempo,
                seed=self.seed,
            )
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"step-{step:08d}.mid"
            write_midi(piece.score.with_tracks([melody.with_notes(notes), *tracks]), path)
            result["midi"] = str(path)
        net.train()
        return result


class BandRecipe(Recipe):
    """A genre band's part of the road (`opencomposer.training.road`)."""

    technique = "band"
    architecture = "band"
    params = BAND_PARAMS

    def __init__(self, preset: BandPreset, dataset: Dataset | str | None = None) -> None:
        self.band_preset = preset
        self.preset = preset.name
        self.training = preset.training
        self.dataset = dataset

    def prepare(self, values: Mapping[str, ParamValue], workers: int | None) -> TrainingData:
        started = time.perf_counter()
        self.source = (
            self.dataset if isinstance(self.dataset, Dataset) else get_dataset(self.dataset or self.band_preset.dataset)
        )
        pieces = read_beat_pieces(self.source, self.band_preset)
        self.train_pieces = [piece for piece in pieces if piece.split == "train"]
        self.valid_pieces = [piece for piece in pieces if piece.split == "valid"] or [
            piece for piece in pieces if piece.split == "test"
        ]
        if not self.train_pieces:
            raise TrainingError(
                f"The dataset {self.source.info.name!r} has no training piece in a meter of 2, 3 or 4 beats with a "
                "melody and chords; a band cannot learn from it."
            )
        rng = np.random.default_rng(int(values["seed"]))
        self.changes = ChangeTable.count([(piece.labels, piece.beats_per_bar) for piece in self.train_pieces])
        self.banks = {part.name: fill_bank(self.train_pieces, part.sources, rng) for part in self.band_preset.parts}
        style = str(values["drum_style"])
        self.drums: DrumBank | None = None
        self.drum_performances = 0
        if style != "none":
            self.drums, self.drum_performances = fill_drums(style, rng)
        self.style = style
        self.prepare_seconds = time.perf_counter() - started
        beats = sum(len(piece.labels) for piece in self.train_pieces)
        return TrainingData(self.source.info.name, beats // CROP_BEATS, unit="crops of 16 bars")

    def build(self, values: Mapping[str, ParamValue], steps_for: Callable[[int], int]) -> Objective:
        self.net = ChordNet(self.band_preset.model)
        self.objective = ChordObjective(self.net, float(values["learning_rate"]), steps_for(1))
        return self.objective

    def run_info(self) -> dict[str, Any]:
        return {
            "model": asdict(self.band_preset.model),
            "dataset": self.source.info.name,
            "subset": dict(self.band_preset.subset),
            "parts": [asdict(part) for part in self.band_preset.parts],
        }

    def batches(self, batch_size: int, seed: int) -> BatchSource:
        return chord_batches(self.train_pieces, batch_size, seed)

    def evaluator(self, eval_dir: Path, seed: int) -> Evaluator:
        return ChordEvaluation(self.valid_pieces, self, eval_dir, seed)

    def band(self, net: ChordNet) -> Band:
        """The band as it will ship, with `net` as its chord network (put in evaluation mode, as a shipped one is:
        no dropout; the trainer's evaluation puts it back to training)."""
        net.eval()
        preset = self.band_preset
        bass = preset.bass_from_kicks.info() if preset.bass_from_kicks is not None else None
        return Band(
            net,
            self.changes,
            tuple(part.info() for part in preset.parts),
            self.banks,
            self.drums,
            bass,
            getattr(self, "chord_weight", preset.chord_weight),
            getattr(self, "temperature", 0.0),
        )

    def card(self, name: str, result: TrainResult) -> CardParts:
        preset = self.band_preset
        parts = list(preset.parts) + ([preset.bass_from_kicks] if preset.bass_from_kicks is not None else [])
        tracks: list[dict[str, Any]] = [{"name": "Melody", "program": 0, "is_drum": False, "role": "melody"}]
        tracks += [
            {"name": part.name, "program": part.program, "is_drum": False, "role": "accompaniment"} for part in parts
        ]
        if self.drums is not None:
            tracks.append({"name": "Drums", "program": 0, "is_drum": True, "role": "accompaniment"})
        learnt = {part.name: part.learnt_from for part in parts}
        learnt["Chords"] = f"the ChordNet, trained on the chords of {self.source.info.title}"
        if self.drums is not None:
            learnt["Drums"] = f"{self.drum_performances} Groove MIDI Dataset {self.style} performances (train split)"
        last_eval = result.last_eval.get("metrics", {})
        from opencomposer.training.band_eval import calibrate

        calibration = calibrate(self.band(self.net), preset, self.valid_pieces)
        self.chord_weight = float(calibration["chord_weight"])
        self.temperature = float(calibration["temperature"])
        return CardParts(
            config={
                "model": asdict(preset.model),
                "genre": preset.genre,
                "parts": [asdict(part) for part in preset.parts],
                "bass_from_kicks": asdict(preset.bass_from_kicks) if preset.bass_from_kicks is not None else None,
                "drum_style": self.style,
            },
            description=preset.description,
            dataset=self.source.info.name,
            roll={"steps_per_beat": STEPS_PER_BEAT, "low_pitch": 0, "high_pitch": 127},
            bars=4,
            tracks=tracks,
            melody_index=0,
            generated_tracks=list(range(1, len(tracks))),
            training={
                "learnt_from": learnt,
                "pieces": {
                    "train": len(self.train_pieces),
                    "valid": len(self.valid_pieces),
                },
                "bank_bars": {name: bank.bars for name, bank in self.banks.items()},
                "drum_bars": 0 if self.drums is None else len(self.drums.hits),
                "prepare_seconds": round(self.prepare_seconds, 1),
                "chord_network_parameters": count_parameters(self.net),
            },
            metrics={"final_eval": dict(last_eval), "calibration": calibration},
            decoding={"chord_weight": self.chord_weight, "temperature": self.temperature},
            licence=preset.licence,
            genre=preset.genre or None,
        )

    def weights(self) -> dict[str, torch.Tensor]:
        out = {f"net.{key}": value.detach().cpu().contiguous() for key, value in self.net.state_dict().items()}
        out.update(self.band(self.net).arrays())
        return out


def plan_band(dataset: str, preset: str | None, hyperparameters: Mapping[str, object]) -> dict[str, ParamValue]:
    """Check a band training request without training; returns its hyperparameters with defaults filled in."""
    from opencomposer.techniques.base import validate_params

    source = get_dataset(dataset)
    if not source.is_present():
        raise DatasetError(
            f"The files of the dataset {dataset!r} are not on this machine; run `opencomposer data download "
            f"{dataset}` first, or pick another dataset."
        )
    chosen = chosen_preset(source, preset)
    return validate_params(BAND_PARAMS, {**chosen.training, **hyperparameters})


def chosen_preset(source: Dataset | None, preset: str | None) -> BandPreset:
    """The preset asked for; else the one made for `source`, else the user's-folder preset made from `source`.

    Raises `UnknownNameError` for an unknown preset, `ParameterError` for one of another dataset, or when
    neither is given.
    """
    if source is None:
        if preset is None:
            raise ParameterError("Give a band preset, or a dataset to learn a band from.")
        return get_band_preset(preset)
    if preset is not None:
        chosen = get_band_preset(preset)
        if chosen.dataset != source.info.name:
            raise ParameterError(
                f"The preset {preset!r} learns from {chosen.dataset!r}, not {source.info.name!r}; "
                "choose no preset to learn a band from this dataset."
            )
        return chosen
    for candidate in PRESETS.values():
        if candidate.dataset == source.info.name:
            return candidate
    return folder_preset(source)


def architectures() -> list[Architecture]:
    """The genre band as a trainable architecture (see `opencomposer.training.architectures`)."""

    def recipe(dataset: str | None, preset: str | None) -> BandRecipe:
        source = get_dataset(dataset) if dataset is not None else None
        return BandRecipe(chosen_preset(source, preset), source)

    return [
        Architecture(
            name="band",
            technique="band",
            title="Genre band (chord network + learnt parts and drums)",
            description=(
                "Learns a genre's changes from its melodies and chords (a small convolutional network), and "
                "the bars its players play (piano, bass, guitar, strings, ...) and its drums (from the Groove MIDI "
                "Dataset, by style). Trains in minutes on a laptop."
            ),
            params=BAND_PARAMS,
            presets=tuple(
                PresetInfo(preset.name, preset.dataset, preset.description, preset.training)
                for preset in PRESETS.values()
            ),
            default_training=dict(_TRAINING),
            plan=plan_band,
            recipe=recipe,
            evaluate=_evaluate,
            command_help="Train a genre band: a chord network on the genre's melodies and chords, its players' bars "
            "and its drums (jazz-band, rock-band, pop-band, symphony-band; or a band of your own data).",
            dataset_help="Learn a band from this dataset instead (your folder: `opencomposer data add`); its "
            "accompaniment tracks become the band's parts.",
            headline=("chord_accuracy",),
        )
    ]


def _evaluate(entry: ModelEntry, request: EvaluationRequest) -> dict[str, Any]:
    """`evaluate_band` as the architecture registry calls it (`EvaluateFunction`)."""
    from opencomposer.training.band_eval import evaluate_band

    return evaluate_band(entry, dataset=request.dataset, split=request.split, seed=request.seed, limit=request.limit)
