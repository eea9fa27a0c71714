"""A band for a melody: a learnt chord network, then parts and drums drawn from a genre's own bars.

The genre models (jazz, rock, pop, symphony) make their band in two stages, each learnt from data:

1. **Changes.** `ChordNet`, a small 1-D convolutional network over the melody's beats, reads each beat's
   pitch classes (weighted by how long they sound) and its place in the bar, sees eight beats either side
   through dilated convolutions, and gives every beat a distribution over 48 chords (12 roots x the four
   families of `opencomposer.music.chords`). It is trained with cross-entropy on the chords of the
   genre's data, in all twelve keys. The changes are drawn from those distributions together with the
   genre's own chord-to-chord moves (`ChangeTable`, counted from the same data in root-free form: the
   family before, the root's move in semitones, the family after, and how often the chord holds on each
   beat of the bar) by forward filtering and backward sampling (`sample_chords`; `decode_chords` is its
   likeliest path), at a weight of the moves and a temperature fitted to the genre's pace and harmony.
2. **Parts.** Each part of the band (piano, bass, guitar, strings, ...) keeps a bank of whole bars of
   that part from the genre's data (`PatternBank`), silent ones included, each with its length in beats,
   every note stored relative to the root of the chord under it, with that chord's family. A bar of the
   band draws a bar of its own length from the bank (a waltz plays the data's three-beat bars; a length the
   data hold too few of is cut from their 4/4 bars), or, as often as the data play mostly the same figure
   again in the next bar, keeps the last one, and moves every note onto the new chord: the root moves (by
   the shortest way, so the part stays in its register) and a third, fifth or seventh changes family where
   the chords' families differ. A note that stepped by a half step into the data's next chord (a walking
   bass's chromatic approach) steps into the band's next chord where the band's chord changes after it.
   The drums (`DrumBank`) are bars of one Groove MIDI performance of the genre's style, chosen with a
   weight that favours performances at the melody's tempo and played on from a random bar, bar after bar,
   as the drummer played them.

Everything here is numpy except `ChordNet`; torch is imported by the module (it is a network's module),
but a band's rendering after the chords is plain numpy and fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from opencomposer.music.chords import QUALITIES, TEMPLATES, Chord
from opencomposer.music.score import Note, Track

STEPS_PER_BEAT = 4
"""The band's grid: 16th notes."""
BEATS_PER_PATTERN = 4
"""The banks' usual bar: 4/4. A bar of a length the bank holds too few of takes a 4/4 bar's first beats (or
repeats them)."""
MIN_METER_BARS = 64
"""Bars of a meter a bank must hold to play that meter from its own bars (a waltz from the data's 3/4 bars)."""
N_CHORDS = 12 * len(QUALITIES)
POSITIONS = 4
"""Beat-in-bar positions the network tells apart (the first, second, third and any later beat)."""
FEATURES = 12 + POSITIONS + 1
"""Per beat: 12 pitch-class weights, the beat's position (one-hot), and whether the bar has three beats."""
DRUM_CLASSES: tuple[tuple[str, int], ...] = (
    ("kick", 36),
    ("snare", 38),
    ("closed hi-hat", 42),
    ("open hi-hat", 46),
    ("low tom", 43),
    ("mid tom", 47),
    ("high tom", 50),
    ("crash", 49),
    ("ride", 51),
)
"""The nine drum classes of the Groove MIDI Dataset's mapping, with their General MIDI notes."""
DRUM_NOTES = tuple(note for _, note in DRUM_CLASSES)


@dataclass(frozen=True, slots=True)
class BandConfig:
    """The chord network's size."""

    hidden: int = 64
    layers: int = 4
    kernel: int = 5
    dropout: float = 0.1


def chord_index(chord: Chord | None) -> int:
    """The class of a chord (root * 4 + family), -1 for no chord."""
    if chord is None:
        return -1
    return (chord.root % 12) * len(QUALITIES) + QUALITIES.index(chord.quality)


def index_chord(index: int) -> Chord:
    """The chord (a family's plain template) of a class."""
    root, quality = divmod(int(index), len(QUALITIES))
    return Chord(root, TEMPLATES[QUALITIES[quality]])


def index_chords(labels: Sequence[int] | npt.NDArray[np.int64]) -> list[Chord | None]:
    """The chords of a sequence of classes (`index_chord`), None for -1 (no chord)."""
    return [index_chord(int(label)) if label >= 0 else None for label in labels]


class ChordNet(nn.Module):
    """Beats' features (B, beats, FEATURES) -> chord logits (B, beats, N_CHORDS), context from both sides."""

    def __init__(self, config: BandConfig) -> None:
        super().__init__()
        self.config = config
        self.inp = nn.Conv1d(FEATURES, config.hidden, 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(
                    config.hidden,
                    config.hidden,
                    config.kernel,
                    padding=(config.kernel // 2) * 2**layer,
                    dilation=2**layer,
                ),
                nn.GroupNorm(1, config.hidden),
                nn.GELU(),
                nn.Dropout(config.dropout),
            )
            for layer in range(config.layers)
        )
        self.out = nn.Conv1d(config.hidden, N_CHORDS, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = self.inp(features.transpose(1, 2))
        for block in self.blocks:
            hidden = hidden + block(hidden)
        logits: torch.Tensor = self.out(hidden).transpose(1, 2)
        return logits


def pitch_class_weights(notes: Sequence[Note], resolution: int, n_beats: int) -> npt.NDArray[np.float64]:
    """(n_beats, 12): how long each pitch class sounds in each beat, in beats."""
    weights = np.zeros((n_beats, 12), dtype=np.float64)
    for note in notes:
        first, last = note.start / resolution, (note.start + note.duration) / resolution
        for beat in range(max(0, int(first)), min(n_beats, int(np.ceil(last)))):
            overlap = min(last, beat + 1) - max(first, beat)
            if overlap > 0:
                weights[beat, note.pitch % 12] += overlap
    return weights


def beat_features(notes: Sequence[Note], resolution: int, beats_per_bar: int, n_beats: int) -> npt.NDArray[np.float32]:
    """(n_beats, FEATURES): each beat's melody pitch classes, weighted by time sounding and summing to 1
    (0 for a silent beat), its position in the bar, and whether bars have three beats."""
    weights = pitch_class_weights(notes, resolution, n_beats)
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    features = np.zeros((n_beats, FEATURES), dtype=np.float32)
    features[:, :12] = weights
    position = np.minimum(np.arange(n_beats) % max(1, beats_per_bar), POSITIONS - 1)
    features[np.arange(n_beats), 12 + position] = 1.0
    features[:, -1] = float(beats_per_bar == 3)
    return features


def transpose_features(features: npt.NDArray[np.float32], shift: int) -> npt.NDArray[np.float32]:
    """The features of the same beats `shift` semitones higher."""
    moved = features.copy()
    moved[..., :12] = np.roll(features[..., :12], shift, axis=-1)
    return moved


def transpose_labels(labels: npt.NDArray[np.int64], shift: int) -> npt.NDArray[np.int64]:
    """Chord classes `shift` semitones higher (-1 stays -1)."""
    root, quality = np.divmod(labels, len(QUALITIES))
    moved = ((root + shift) % 12) * len(QUALITIES) + quality
    return np.where(labels < 0, labels, moved)


@dataclass(frozen=True, slots=True)
class ChangeTable:
    """The genre's chord moves, counted in root-free form (log-probabilities).

    `move[q1, interval, q2]`: from a chord of family q1 to one of family q2 whose root is `interval`
    semitones higher, given that the chord changes. `hold[position]`: that the chord holds on a beat of
    that position in the bar.
    """

    move: npt.NDArray[np.float32]  # (4, 12, 4)
    hold: npt.NDArray[np.float32]  # (POSITIONS,)

    @classmethod
    def count(cls, sequences: list[tuple[npt.NDArray[np.int64], int]], smoothing: float = 0.5) -> ChangeTable:
        """Count the moves of label sequences, each with its bar's beats; -1 labels break a sequence."""
        moves = np.full((len(QUALITIES), 12, len(QUALITIES)), smoothing)
        holds = np.ones((POSITIONS, 2))  # [holds, changes], add-one
        for labels, beats_per_bar in sequences:
            for beat in range(1, len(labels)):
                before, after = int(labels[beat - 1]), int(labels[beat])
                if before < 0 or after < 0:
                    continue
                position = min(beat % max(1, beats_per_bar), POSITIONS - 1)
                if before == after:
                    holds[position, 0] += 1
                    continue
                holds[position, 1] += 1
                (root1, q1), (root2, q2) = divmod(before, 4), divmod(after, 4)
                moves[q1, (root2 - root1) % 12, q2] += 1
        moves /= moves.sum(axis=(1, 2), keepdims=True)
        hold = holds[:, 0] / holds.sum(axis=1)
        return cls(np.log(moves).astype(np.float32), np.log(hold).astype(np.float32))

    def transitions(self, position: int) -> npt.NDArray[np.float32]:
        """(N_CHORDS, N_CHORDS) log-probabilities of going from one chord to the next at a beat position."""
        hold = float(np.exp(self.hold[min(position, POSITIONS - 1)]))
        roots = np.arange(12)
        interval = (roots[None, :] - roots[:, None]) % 12  # (from root, to root)
        table = self.move[:, interval, :]  # (q1, from root, to root, q2)
        change = np.log(max(1e-6, 1.0 - hold)) + np.transpose(table, (1, 0, 2, 3)).reshape(N_CHORDS, N_CHORDS)
        change[np.arange(N_CHORDS), np.arange(N_CHORDS)] = np.log(max(1e-6, hold))
        return np.asarray(change, dtype=np.float32)


def decode_chords(
    log_probs: npt.NDArray[np.float32], changes: ChangeTable, beats_per_bar: int, weight: float = 1.0
) -> npt.NDArray[np.int64]:
    """The most likely chord of every beat (Viterbi): the network's beat-wise log-probabilities plus
    `weight` times the genre's moves."""
    n_beats = len(log_probs)
    if n_beats == 0:
        return np.zeros(0, dtype=np.int64)
    tables = [weight * changes.transitions(position) for position in range(POSITIONS)]
    score = log_probs[0].astype(np.float64)
    back = np.zeros((n_beats, N_CHORDS), dtype=np.int64)
    for beat in range(1, n_beats):
        position = min(beat % max(1, beats_per_bar), POSITIONS - 1)
        candidates = score[:, None] + tables[position]
        back[beat] = np.argmax(candidates, axis=0)
        score = candidates[back[beat], np.arange(N_CHORDS)] + log_probs[beat]
    path = np.zeros(n_beats, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for beat in range(n_beats - 1, 0, -1):
        path[beat - 1] = back[beat, path[beat]]
    return path


def sample_chords(
    log_probs: npt.NDArray[np.float32],
    changes: ChangeTable,
    beats_per_bar: int,
    weight: float,
    temperature: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.int64]:
    """Chords drawn from the whole sequence's distribution (forward filtering, backward sampling), both the
    network's view and the genre's moves divided by `temperature`: 1 draws them as the model believes, lower
    keeps to its likeliest changes (0 is `decode_chords`), higher takes more risks."""
    if temperature <= 0.0:
        return decode_chords(log_probs, changes, beats_per_bar, weight)
    n_beats = len(log_probs)
    if n_beats == 0:
        return np.zeros(0, dtype=np.int64)
    scale = 1.0 / temperature
    tables = [scale * weight * changes.transitions(position) for position in range(POSITIONS)]
    forward = np.zeros((n_beats, N_CHORDS))
    forward[0] = scale * log_probs[0]
    for beat in range(1, n_beats):
        position = min(beat % max(1, beats_per_bar), POSITIONS - 1)
        forward[beat] = _logsumexp(forward[beat - 1][:, None] + tables[position], axis=0) + scale * log_probs[beat]
    path = np.zeros(n_beats, dtype=np.int64)
    path[-1] = _draw(forward[-1], rng)
    for beat in range(n_beats - 1, 0, -1):
        position = min(beat % max(1, beats_per_bar), POSITIONS - 1)
        path[beat - 1] = _draw(forward[beat - 1] + tables[position][:, path[beat]], rng)
    return path


def _logsumexp(values: npt.NDArray[np.float64], axis: int) -> npt.NDArray[np.float64]:
    top = values.max(axis=axis, keepdims=True)
    return np.asarray(np.log(np.exp(values - top).sum(axis=axis)) + np.squeeze(top, axis=axis))


def _draw(log_weights: npt.NDArray[np.float64], rng: np.random.Generator) -> int:
    weights = np.exp(log_weights - log_weights.max())
    return int(rng.choice(len(weights), p=weights / weights.sum()))


_TONES: dict[str, tuple[int, int, int]] = {"maj": (4, 7, 11), "min": (3, 7, 10), "dom": (4, 7, 10), "dim": (3, 6, 9)}
"""The third, fifth and seventh of each family: what a chord tone becomes when a note changes family."""
_REMAP: dict[tuple[str, str], dict[int, int]] = {
    (source, target): {} if source == target else dict(zip(_TONES[source], _TONES[target], strict=True))
    for source in QUALITIES
    for target in QUALITIES
}
"""Per (source family, target family): the source's chord tones onto the target's (third to third, fifth to fifth,
seventh to seventh); any other note, a blue third or a chromatic approach, keeps its interval above the root."""


NOT_LEADING = -1
"""The next chord's family of a bank note that belongs to its own chord (see `leads_into`)."""


def leads_into(pitch: int, chord: Chord, following: Chord) -> bool:
    """Whether a note sounding on the last beat before `following` is a chromatic approach to it: a half step
    from the next root and outside its own chord's seventh chord (a walking bass's step into the next chord)."""
    own = (pitch - chord.root) % 12
    if own == 0 or own in _TONES[chord.quality]:
        return False
    return (pitch - following.root) % 12 in (1, 11)


def move_to_chord(relative: int, source_quality: int, chord: Chord) -> int:
    """A note stored `relative` semitones above its chord's root (of family `source_quality`), placed over
    `chord`: the root moves the shortest way and a chord tone changes family where the families differ."""
    octave, interval = divmod(relative, 12)
    interval = _REMAP[(QUALITIES[source_quality], chord.quality)].get(interval, interval)
    root = chord.root if chord.root <= 6 else chord.root - 12
    return octave * 12 + interval + root


@dataclass(slots=True)
class PatternBank:
    """Bars of one part: `notes` rows (bar, onset step, length in steps, pitch above the chord's root,
    velocity, the chord's family, and for a note that leads into the next chord (`leads_into`) its pitch above
    that chord's root and that chord's family, else 0 and `NOT_LEADING`), sorted by bar; `repeat` is how often
    the data play mostly the same figure in the next bar; `beats` the length of each bar in beats (all
    `BEATS_PER_PATTERN` when None: a bank of 4/4 bars). A bank saved with six columns has no leading notes."""

    notes: npt.NDArray[np.int16]  # (N, 8)
    bars: int
    repeat: float
    beats: npt.NDArray[np.uint8] | None = None  # (bars,)
    offsets: npt.NDArray[np.int64] = field(init=False)
    by_beats: dict[int, npt.NDArray[np.int64]] = field(init=False)

    def __post_init__(self) -> None:
        if self.notes.shape[1] == 6:
            leading = np.tile(np.array([[0, NOT_LEADING]], dtype=self.notes.dtype), (len(self.notes), 1))
            self.notes = np.concatenate([self.notes, leading], axis=1)
        self.offsets = np.searchsorted(self.notes[:, 0], np.arange(self.bars + 1)).astype(np.int64)
        beats = np.full(self.bars, BEATS_PER_PATTERN, np.uint8) if self.beats is None else self.beats
        self.by_beats = {int(length): np.flatnonzero(beats == length) for length in np.unique(beats)}

    def bar(self, index: int) -> npt.NDArray[np.int16]:
        """The notes of bar `index`."""
        return self.notes[self.offsets[index] : self.offsets[index + 1]]

    def meter_of(self, beats_per_bar: int) -> int:
        """The bar length the bank plays in bars of `beats_per_bar` beats: its own bars of that length where the
        data have enough (`MIN_METER_BARS`), else its 4/4 bars (or, lacking those, its longest), cut or repeated."""
        if len(self.by_beats.get(beats_per_bar, ())) >= MIN_METER_BARS:
            return beats_per_bar
        return BEATS_PER_PATTERN if BEATS_PER_PATTERN in self.by_beats else max(self.by_beats)

    def draw(self, meter: int, rng: np.random.Generator) -> int:
        """One of its bars of `meter` beats (a length `meter_of` gives), drawn evenly."""
        candidates = self.by_beats[meter]
        return int(candidates[rng.integers(len(candidates))])


@dataclass(slots=True)
class DrumBank:
    """Drum bars: `hits` (bars, 16, 9) velocities (0 = silent) of the nine classes, each bar's performance
    and every performance's tempo (quarter notes per minute)."""

    hits: npt.NDArray[np.uint8]
    performance: npt.NDArray[np.int32]
    bpm: npt.NDArray[np.float32]

    def choose(self, tempo: float, rng: np.random.Generator, spread: float = 0.3) -> int:
        """A bar to start from: a performance drawn with a weight falling off as its tempo moves from
        `tempo` (log-normal, `spread` wide), then one of its bars."""
        log_gap = np.log(np.maximum(self.bpm, 1.0) / max(tempo, 1.0))
        weights = np.exp(-0.5 * (log_gap / spread) ** 2) + 1e-9
        performance = int(rng.choice(len(self.bpm), p=weights / weights.sum()))
        bars = np.flatnonzero(self.performance == performance)
        return int(rng.choice(bars))

    def play(self, start: int, count: int) -> list[int]:
        """`count` bars played on from `start` within its performance, back to its first bar at its end."""
        performance = self.performance[start]
        bars = np.flatnonzero(self.performance == performance)
        first = int(np.searchsorted(bars, start))
        return [int(bars[(first + offset) % len(bars)]) for offset in range(count)]


def render_part(
    bank: PatternBank,
    chords: Sequence[Chord | None],
    beats_per_bar: int,
    n_bars: int,
    rng: np.random.Generator,
    ticks_per_step: int,
    pitch_range: tuple[int, int] = (28, 100),
) -> list[Note]:
    """A part's notes over `n_bars` bars whose beats carry `chords` (one per beat)."""
    notes: list[Note] = []
    steps_per_bar = beats_per_bar * STEPS_PER_BEAT
    meter = bank.meter_of(beats_per_bar)
    pattern_steps = meter * STEPS_PER_BEAT
    chosen = -1
    for bar in range(n_bars):
        if chosen < 0 or rng.random() >= bank.repeat:
            chosen = bank.draw(meter, rng)
        rows = bank.bar(chosen)
        for _, onset, length, relative, velocity, quality, ahead, ahead_quality in rows.tolist():
            # A bar shorter than the pattern plays its first beats; a longer one starts it again.
            for repeat_start in range(0, steps_per_bar, pattern_steps):
                step = repeat_start + onset
                if step >= steps_per_bar:
                    continue
                beat = bar * beats_per_bar + step // STEPS_PER_BEAT
                chord = chords[beat] if beat < len(chords) else None
                if chord is None:
                    continue
                following = chords[beat + 1] if beat + 1 < len(chords) else None
                if ahead_quality != NOT_LEADING and following is not None and following != chord:
                    # It led into the data's next chord: it leads into this band's next one.
                    pitch = move_to_chord(ahead, ahead_quality, following)
                else:
                    pitch = move_to_chord(relative, quality, chord)
                while pitch < pitch_range[0]:
                    pitch += 12
                while pitch > pitch_range[1]:
                    pitch -= 12
                duration = min(length, steps_per_bar - step)
                start = (bar * steps_per_bar + step) * ticks_per_step
                notes.append(Note(pitch, start, max(1, duration) * ticks_per_step, int(velocity)))
    return _merge_unisons(notes)


def grid_notes(bars: Sequence[npt.NDArray[np.uint8]], beats_per_bar: int, ticks_per_step: int) -> list[Note]:
    """Drum bars (each (16, 9) velocities of the classes of `DRUM_NOTES`) one after the other as notes, each bar
    cut to `beats_per_bar` beats, sorted by time then note."""
    notes: list[Note] = []
    steps_per_bar = beats_per_bar * STEPS_PER_BEAT
    for bar, grid in enumerate(bars):
        hits = grid[:steps_per_bar]
        for step, drum in zip(*np.nonzero(hits), strict=True):
            start = (bar * steps_per_bar + int(step)) * ticks_per_step
            notes.append(Note(DRUM_NOTES[int(drum)], start, ticks_per_step, int(hits[step, drum])))
    notes.sort(key=lambda note: (note.start, note.pitch))
    return notes


def render_drums(
    bank: DrumBank, n_bars: int, beats_per_bar: int, tempo: float, rng: np.random.Generator, ticks_per_step: int
) -> list[Note]:
    """The drums over `n_bars` bars: one performance's bars, from a bar drawn near the melody's tempo."""
    played = bank.play(bank.choose(tempo, rng), n_bars)
    return grid_notes([bank.hits[source] for source in played], beats_per_bar, ticks_per_step)


def bass_on_kicks(
    drums: list[Note], chords: list[Chord | None], resolution: int, n_ticks: int, low: int = 36
) -> list[Note]:
    """A bass that plays each chord's root (from `low` up) where the kick drum lands, and where a chord changes,
    held to the next of those."""
    hits = {note.start for note in drums if note.pitch == DRUM_NOTES[0]}
    changes = {
        beat * resolution
        for beat in range(len(chords))
        if chords[beat] is not None and (beat == 0 or chords[beat] != chords[beat - 1]) and beat * resolution < n_ticks
    }
    kicks = sorted(hits | changes)
    notes: list[Note] = []
    for index, start in enumerate(kicks):
        beat = start // resolution
        chord = chords[beat] if beat < len(chords) else None
        if chord is None:
            continue
        end = kicks[index + 1] if index + 1 < len(kicks) else min(n_ticks, start + 2 * resolution)
        length = max(resolution // 4, min(end - start, 2 * resolution))
        notes.append(Note(low + (chord.root - low) % 12, start, length, 96))
    return notes


def _merge_unisons(notes: list[Note]) -> list[Note]:
    """Sorted notes with no two of one pitch sounding at once (a later onset cuts the earlier note)."""
    notes.sort(key=lambda note: (note.pitch, note.start))
    kept: list[Note] = []
    for note in notes:
        if kept and kept[-1].pitch == note.pitch and kept[-1].start + kept[-1].duration > note.start:
            previous = kept[-1]
            if previous.start == note.start:
                continue
            kept[-1] = previous._replace(duration=note.start - previous.start)
        kept.append(note)
    kept.sort(key=lambda note: (note.start, note.pitch))
    return kept


def drum_track(notes: list[Note]) -> Track:
    """A General MIDI drum track (channel 10) holding `notes`."""
    return Track(name="Drums", program=0, is_drum=True, role="accompaniment", notes=tuple(notes))


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One part of a band: its track's name and General MIDI program, and the pitches it keeps to."""

    name: str
    program: int
    low: int = 28
    high: int = 100


@dataclass(slots=True)
class Band:
    """A genre's band, ready to play: the chord network, the genre's moves, the parts' banks and the drums.

    `bass_from_kicks` names a part (a bass) played on the drums' kicks from the chords' roots, for a genre
    whose data holds no bass line of its own; `chord_weight` is how much the genre's moves count against
    the network's beat-by-beat view in `decode_chords`.
    """

    net: ChordNet
    changes: ChangeTable
    parts: tuple[PartInfo, ...]
    banks: dict[str, PatternBank]
    drums: DrumBank | None
    bass_from_kicks: PartInfo | None = None
    chord_weight: float = 1.0
    temperature: float = 0.0

    def chords(
        self,
        features: npt.NDArray[np.float32],
        beats_per_bar: int,
        rng: np.random.Generator | None = None,
        risk: float = 1.0,
    ) -> list[Chord | None]:
        """The chord of every beat of a melody's `beat_features`: drawn at the genre's `temperature` times
        `risk` (see `sample_chords`), or the likeliest ones without `rng` or at risk 0."""
        with torch.inference_mode():
            logits = self.net(torch.from_numpy(features[None]))[0]
            log_probs = torch.log_softmax(logits, dim=-1).numpy()
        temperature = self.temperature * risk
        if rng is None or temperature <= 0.0:
            path = decode_chords(log_probs, self.changes, beats_per_bar, self.chord_weight)
        else:
            path = sample_chords(log_probs, self.changes, beats_per_bar, self.chord_weight, temperature, rng)
        return [index_chord(int(index)) for index in path]

    def chords_under(
        self,
        melody: list[Note] | tuple[Note, ...],
        *,
        resolution: int,
        beats_per_bar: int,
        n_bars: int,
        seed: int,
        risk: float = 1.0,
    ) -> list[Chord | None]:
        """The chord of every beat that `play` plays under a melody with the same arguments."""
        features = beat_features(melody, resolution, beats_per_bar, n_bars * beats_per_bar)
        return self.chords(features, beats_per_bar, np.random.default_rng([seed, 1]), risk)

    def play(
        self,
        melody: list[Note] | tuple[Note, ...],
        *,
        resolution: int,
        beats_per_bar: int,
        n_bars: int,
        tempo: float,
        seed: int,
        drums: bool = True,
        risk: float = 1.0,
    ) -> tuple[list[Track], list[Chord | None]]:
        """The band's tracks for a melody of `n_bars` bars (ticks at `resolution`), and the chords it played;
        `risk` scales how far the changes stray from the likeliest (see `chords`)."""
        if resolution % STEPS_PER_BEAT:
            raise ValueError(f"The resolution ({resolution}) must be a multiple of {STEPS_PER_BEAT}.")
        n_beats = n_bars * beats_per_bar
        rng = np.random.default_rng(seed)
        chords = self.chords_under(
            melody, resolution=resolution, beats_per_bar=beats_per_bar, n_bars=n_bars, seed=seed, risk=risk
        )
        ticks_per_step = resolution // STEPS_PER_BEAT
        tracks = [
            Track(
                name=part.name,
                program=part.program,
                role="accompaniment",
                notes=tuple(
                    render_part(
                        self.banks[part.name], chords, beats_per_bar, n_bars, rng, ticks_per_step, (part.low, part.high)
                    )
                ),
            )
            for part in self.parts
        ]
        if self.drums is not None and drums:
            drum_notes = render_drums(self.drums, n_bars, beats_per_bar, tempo, rng, ticks_per_step)
            if self.bass_from_kicks is not None:
                bass = self.bass_from_kicks
                notes = bass_on_kicks(drum_notes, chords, resolution, n_beats * resolution, low=bass.low)
                tracks.append(Track(name=bass.name, program=bass.program, role="accompaniment", notes=tuple(notes)))
            tracks.append(drum_track(drum_notes))
        return tracks, chords

    def arrays(self) -> dict[str, torch.Tensor]:
        """Everything but the network's weights, as tensors for a safetensors file (see `from_arrays`)."""
        out: dict[str, torch.Tensor] = {
            "changes.move": torch.from_numpy(self.changes.move),
            "changes.hold": torch.from_numpy(self.changes.hold),
        }
        for name, bank in self.banks.items():
            out[f"bank.{name}.notes"] = torch.from_numpy(bank.notes.astype(np.int16))
            out[f"bank.{name}.meta"] = torch.tensor([bank.bars, round(bank.repeat * 1_000_000)], dtype=torch.int64)
            if bank.beats is not None:
                out[f"bank.{name}.beats"] = torch.from_numpy(bank.beats.astype(np.uint8))
        if self.drums is not None:
            out["drums.hits"] = torch.from_numpy(self.drums.hits)
            out["drums.performance"] = torch.from_numpy(self.drums.performance)
            out["drums.bpm"] = torch.from_numpy(self.drums.bpm)
        return out


def band_from_weights(
    config: BandConfig,
    weights: dict[str, torch.Tensor],
    parts: tuple[PartInfo, ...],
    bass_from_kicks: PartInfo | None = None,
    chord_weight: float = 1.0,
    temperature: float = 0.0,
) -> Band:
    """A `Band` from a model's weights file (the network's tensors under ``net.``, the rest from `Band.arrays`)."""
    net = ChordNet(config)
    net.load_state_dict({key[4:]: value for key, value in weights.items() if key.startswith("net.")})
    net.eval()
    changes = ChangeTable(weights["changes.move"].numpy(), weights["changes.hold"].numpy())
    banks = {}
    for part in parts:
        bars, repeat = weights[f"bank.{part.name}.meta"].tolist()
        beats = weights.get(f"bank.{part.name}.beats")
        banks[part.name] = PatternBank(
            weights[f"bank.{part.name}.notes"].numpy(),
            int(bars),
            repeat / 1_000_000,
            None if beats is None else beats.numpy(),
        )
    drums = None
    if "drums.hits" in weights:
        drums = DrumBank(
            weights["drums.hits"].numpy(), weights["drums.performance"].numpy(), weights["drums.bpm"].numpy()
        )
    return Band(net, changes, parts, banks, drums, bass_from_kicks, chord_weight, temperature)
