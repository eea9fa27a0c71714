"""The genre band: chords found and moved, bars banked across bar lines, a run that leaves a band that plays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from opencomposer.data import registry as data_registry
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot, find_data_folder
from opencomposer.errors import DatasetError, TrainingError
from opencomposer.models.band import (
    DRUM_NOTES,
    NOT_LEADING,
    ChangeTable,
    PatternBank,
    chord_index,
    decode_chords,
    index_chord,
    leads_into,
    move_to_chord,
    render_part,
)
from opencomposer.music.chords import QUALITIES, Chord, estimate_chord, parse_harte, parse_jazzomat, voicing
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import get_model
from opencomposer.techniques.band import Band
from opencomposer.training.band import (
    BandPreset,
    BandRecipe,
    PartSpec,
    bars_per_piece,
    beat_chords,
    fill_bank,
    read_beat_pieces,
    same_figure_as,
)
from opencomposer.training.band_eval import calibrate
from opencomposer.training.road import run_training

RESOLUTION = 480
BAR = 4 * RESOLUTION
C, F, G, A_MINOR = Chord(0, (0, 4, 7)), Chord(5, (0, 4, 7)), Chord(7, (0, 4, 7, 10)), Chord(9, (0, 3, 7))
PROGRESSION = (C, F, G, C, A_MINOR, F, G, C)
LAYOUT = (
    TrackSlot("Melody", "melody"),
    TrackSlot("Chords", "accompaniment"),
    TrackSlot("Bass", "accompaniment", program=32),
)
SPLITS = ["train"] * 8 + ["valid", "valid", "test", "test"]


def piece(seed: int, bars: int = 16) -> Score:
    """A melody on chord tones over a I-IV-V progression in a random key, with its chords and a root bass."""
    rng = np.random.default_rng(seed)
    key = int(rng.integers(12))
    melody, chords, bass = [], [], []
    for bar in range(bars):
        chord = PROGRESSION[bar % len(PROGRESSION)]
        moved = Chord((chord.root + key) % 12, chord.intervals)
        tones = voicing(moved, low=60)
        melody += [Note(int(rng.choice(tones)), bar * BAR + beat * RESOLUTION, RESOLUTION) for beat in range(4)]
        chords += [Note(pitch, bar * BAR, BAR, 70) for pitch in voicing(moved, low=48)]
        bass += [Note(36 + (moved.root - 36) % 12, bar * BAR + beat * RESOLUTION, RESOLUTION) for beat in range(4)]
    return Score(
        resolution=RESOLUTION,
        tracks=(
            Track("Melody", notes=tuple(melody), role="melody"),
            Track("Chords", notes=tuple(chords), role="accompaniment"),
            Track("Bass", 32, notes=tuple(bass), role="accompaniment"),
        ),
    )


class Tiny(Dataset):
    def __init__(self) -> None:
        self.info = DatasetInfo("tiny", "Tiny", "Test pieces.", ("test",), "CC0", "none", LAYOUT, "tiny")

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        for index, piece_split in enumerate(SPLITS):
            if split is None or split == piece_split:
                yield Piece(f"tiny/{index}", piece(index), piece_split)


TINY_PRESET = BandPreset(
    name="tiny-band",
    genre="test",
    description="A tiny band.",
    dataset="tiny",
    chords_track="Chords",
    parts=(PartSpec("Piano", 0, ("Chords",), 48, 79), PartSpec("Bass", 32, ("Bass",), 28, 55)),
    training={"steps": 30, "batch_size": 4, "eval_every": 15, "checkpoint_every": 15, "drum_style": "none"},
    licence="CC0",
)


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data_registry, "_PROVIDERS", [lambda: {"tiny": Tiny}])


def test_chord_symbols_of_both_syntaxes_and_what_notes_spell() -> None:
    assert parse_jazzomat("Bb7") == Chord(10, (0, 4, 7, 10))
    assert parse_jazzomat("F-7") == Chord(5, (0, 3, 7, 10)) and Chord(5, (0, 3, 7, 10)).quality == "min"
    assert parse_jazzomat("Am7b5") == Chord(9, (0, 3, 6, 10)) and Chord(9, (0, 3, 6, 10)).quality == "dim"
    assert parse_jazzomat("NC") is None
    assert parse_harte("A:min7/b7") == Chord(9, (0, 3, 7, 10)) and parse_harte("N") is None
    weights = np.zeros(12)
    weights[[9, 0, 4]] = 1.0  # A C E
    assert estimate_chord(weights) == Chord(9, (0, 3, 7))
    assert estimate_chord(np.zeros(12)) is None
    assert index_chord(chord_index(G)) == G and chord_index(None) == -1


def test_a_note_moves_onto_a_new_chord_by_the_shortest_way_and_changes_family() -> None:
    # E above C (a major third, 4) over A minor: the third of A minor is C.
    assert move_to_chord(52 - 0, 0, A_MINOR) % 12 == 0
    # G (the fifth, 55) over F major: C, the fifth of F, within six semitones of where it was.
    moved = move_to_chord(55, 0, F)
    assert moved % 12 == 0 and abs(moved - 55) <= 6


def test_only_chord_tones_change_family_and_a_blue_note_stays_blue() -> None:
    maj, minor, dom = (QUALITIES.index(name) for name in ("maj", "min", "dom"))
    c_major, c_minor, c_seven = Chord(0, (0, 4, 7)), Chord(0, (0, 3, 7)), Chord(0, (0, 4, 7, 10))
    assert move_to_chord(4, dom, c_minor) == 3  # the third of C7 is the third of Cm
    assert move_to_chord(10, dom, c_major) == 11  # its seventh, the major seventh
    assert move_to_chord(3, dom, c_major) == 3  # a blue third (a sharp ninth) over C7 stays blue over C
    assert move_to_chord(6, maj, c_seven) == 6  # a chromatic flat fifth stays chromatic
    assert move_to_chord(3, minor, c_seven) == 4  # the minor third is a chord tone: it becomes the major one


def test_viterbi_follows_the_network_where_it_is_sure_and_holds_where_it_is_not() -> None:
    changes = ChangeTable.count([(np.array([chord_index(C)] * 4 + [chord_index(G)] * 4), 4)])
    log_probs = np.full((8, 48), -10.0, dtype=np.float32)
    log_probs[:4, chord_index(C)] = 0.0
    log_probs[4:, chord_index(G)] = 0.0
    log_probs[5] = -3.0  # an unsure beat
    path = decode_chords(log_probs, changes, 4)
    assert path.tolist() == [chord_index(C)] * 4 + [chord_index(G)] * 4


def test_a_note_held_over_a_bar_line_sounds_in_the_next_bars_of_the_bank() -> None:
    score = Score(
        resolution=RESOLUTION,
        tracks=(
            Track("Melody", notes=(Note(60, 0, 3 * BAR),), role="melody"),
            Track("Chords", notes=(Note(48, 0, 3 * BAR), Note(52, 0, 3 * BAR), Note(55, 0, 3 * BAR))),
        ),
    )
    labels = beat_chords(score, "Chords", 12)
    assert set(labels.tolist()) == {chord_index(C)}
    beats = [read_beat_pieces(_single(score), TINY_PRESET)[0]]
    bank = fill_bank(beats, ("Chords",), np.random.default_rng(0))
    assert bank.bars == 3 and all(len(bank.bar(index)) == 3 for index in range(3))
    notes = render_part(bank, [F] * 12, 4, 3, np.random.default_rng(0), RESOLUTION // 4)
    assert {note.pitch % 12 for note in notes} == {5, 9, 0}  # F A C


def test_a_bar_where_the_part_rests_is_banked_even_with_no_chord_over_it() -> None:
    # Bar 0: chords and bass; bar 1: the accompaniment rests (no chord can be read there); bar 2: chords again.
    chords = tuple(Note(pitch, bar * BAR, BAR, 70) for bar in (0, 2) for pitch in (48, 52, 55))
    score = Score(
        resolution=RESOLUTION,
        tracks=(
            Track("Melody", notes=tuple(Note(60, bar * BAR, BAR) for bar in range(3)), role="melody"),
            Track("Chords", notes=chords, role="accompaniment"),
        ),
    )
    labels = beat_chords(score, None, 12)
    assert (labels[4:8] < 0).all() and (labels[:4] >= 0).all()
    beats = [read_beat_pieces(_single(score), replace(TINY_PRESET, chords_track=None))[0]]
    bank = fill_bank(beats, ("Chords",), np.random.default_rng(0))
    # The silent bar counts: the band rests as often as the data do.
    assert bank.bars == 3 and [len(bank.bar(index)) for index in range(3)] == [3, 0, 3]


def _waltz(bars: int) -> Score:
    """A 3/4 tune with an oom-pah-pah accompaniment: the root on beat 1, the chord on beats 2 and 3."""
    melody = tuple(Note(64, bar * 3 * RESOLUTION, 3 * RESOLUTION) for bar in range(bars))
    accompaniment = tuple(
        note
        for bar in range(bars)
        for note in (
            Note(48, bar * 3 * RESOLUTION, RESOLUTION),
            *(Note(pitch, (bar * 3 + beat) * RESOLUTION, RESOLUTION) for beat in (1, 2) for pitch in (52, 55)),
        )
    )
    return Score(
        resolution=RESOLUTION,
        time_signature=(3, 4),
        tracks=(
            Track("Melody", notes=melody, role="melody"),
            Track("Chords", notes=accompaniment, role="accompaniment"),
        ),
    )


def test_a_waltz_is_played_from_the_datas_three_beat_bars_where_the_bank_holds_enough() -> None:
    waltz = read_beat_pieces(_single(_waltz(80)), replace(TINY_PRESET, chords_track=None))[0]
    four = read_beat_pieces(_single(piece(0, bars=80)), TINY_PRESET)[0]
    bank = fill_bank([waltz, four], ("Chords",), np.random.default_rng(0))
    assert {beats: len(bars) for beats, bars in bank.by_beats.items()} == {3: 80, 4: 80}
    assert bank.meter_of(3) == 3 and bank.meter_of(4) == 4
    # A waltz gets oom-pah-pah: a single note on the downbeat, the chord on the two beats after it.
    notes = render_part(bank, [F] * 12, 3, 4, np.random.default_rng(0), RESOLUTION // 4)
    for bar in range(4):
        onsets = sorted(
            {
                note.start - bar * 3 * RESOLUTION
                for note in notes
                if bar * 3 * RESOLUTION <= note.start < (bar + 1) * 3 * RESOLUTION
            }
        )
        assert onsets == [0, RESOLUTION, 2 * RESOLUTION]
    # A bank with too few bars of a meter plays it from its 4/4 bars, cut to the bar.
    short = fill_bank(
        [read_beat_pieces(_single(_waltz(8)), replace(TINY_PRESET, chords_track=None))[0], four],
        ("Chords",),
        np.random.default_rng(0),
    )
    assert short.meter_of(3) == 4
    assert all(
        note.start % (3 * RESOLUTION) < 3 * RESOLUTION
        for note in render_part(short, [F] * 12, 3, 4, np.random.default_rng(0), RESOLUTION // 4)
    )


def test_a_full_bank_takes_as_many_bars_from_every_piece() -> None:
    assert bars_per_piece([10, 20, 30], 100) == [10, 20, 30]
    assert bars_per_piece([10, 2000, 300], 600) == [10, 295, 295]
    assert sum(bars_per_piece([5, 7, 1000, 3000], 601)) <= 601


def test_a_bank_saved_before_meters_loads_as_four_four_bars() -> None:
    bank = fill_bank(read_beat_pieces(Tiny(), TINY_PRESET, splits=("train",)), ("Chords",), np.random.default_rng(0))
    old = PatternBank(bank.notes, bank.bars, bank.repeat)
    assert old.meter_of(3) == 4 and len(old.by_beats[4]) == bank.bars


def test_a_chromatic_approach_leads_into_whichever_chord_comes_next() -> None:
    c7, f7, g7 = Chord(0, (0, 4, 7, 10)), Chord(5, (0, 4, 7, 10)), Chord(7, (0, 4, 7, 10))
    assert leads_into(54, c7, f7)  # G-flat: outside C7, a half step above F
    assert leads_into(52, c7, f7) is False  # E: C7's own third
    assert leads_into(50, c7, f7) is False  # D: outside C7 but no step into F
    # A walking bass over C7 | F7 whose last note steps into F; banked, and played over G7 | C7 and over G7 held.
    bass = tuple(
        Note(pitch, beat * RESOLUTION, RESOLUTION) for beat, pitch in enumerate((36, 40, 43, 42, 41, 45, 48, 45))
    )
    chords = tuple(
        Note(pitch, bar * BAR, BAR, 70)
        for bar, root in enumerate((48, 53))
        for pitch in (root, root + 4, root + 7, root + 10)
    )
    score = Score(
        resolution=RESOLUTION,
        tracks=(
            Track("Melody", notes=(Note(72, 0, 2 * BAR),), role="melody"),
            Track("Chords", notes=chords, role="accompaniment"),
            Track("Bass", notes=bass, role="accompaniment"),
        ),
    )
    beats = [read_beat_pieces(_single(score), replace(TINY_PRESET, chords_track="Chords"))[0]]
    bank = fill_bank(beats, ("Bass",), np.random.default_rng(0))
    first = bank.bar(0)
    assert first[-1, 7] == QUALITIES.index("dom") and first[:-1, 7].tolist() == [NOT_LEADING] * 3
    walk = PatternBank(first, 1, 0.0)  # the C7 bar alone
    c = Chord(0, (0, 4, 7))
    into_c = render_part(walk, [g7] * 4 + [c] * 4, 4, 1, np.random.default_rng(0), RESOLUTION // 4, (28, 60))
    assert into_c[-1].pitch % 12 == 1  # D-flat, a half step above C (as G-flat was above F)
    held = render_part(walk, [g7] * 8, 4, 1, np.random.default_rng(0), RESOLUTION // 4, (28, 60))
    assert held[-1].pitch % 12 == (42 - 36 + 7) % 12  # no change ahead: the note keeps its place over G7


def test_a_part_keeps_its_figure_as_often_as_the_data_play_mostly_the_same_notes_again() -> None:
    walk = [(0, 4, 0, 90, 2), (4, 4, 4, 90, 2), (8, 4, 7, 90, 2), (12, 4, 10, 90, 2)]
    other_walk = [(0, 4, 0, 90, 2), (4, 4, 2, 90, 2), (8, 4, 3, 90, 2), (12, 4, 6, 90, 2)]
    assert same_figure_as(walk, walk)
    assert not same_figure_as(walk, other_walk)  # the same rhythm, another line
    assert same_figure_as(walk, [*walk[:3], (12, 4, 9, 90, 2)])  # three of five notes shared


def _single(score: Score) -> Dataset:
    class One(Dataset):
        def __init__(self) -> None:
            self.info = DatasetInfo("one", "One", "One piece.", ("test",), "CC0", "none", LAYOUT[:2], "one")

        def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
            yield Piece("one/0", score, "train")

    return One()


def test_a_run_leaves_an_installed_band_that_keeps_the_melody_and_plays_the_changes(tmp_path: Path) -> None:
    trained = run_training(BandRecipe(TINY_PRESET, None), tmp_path / "run", name="my-band", command="cmd")
    assert trained.installed is not None
    assert {path.name for path in (tmp_path / "run" / "eval").iterdir()} == {"step-00000015.mid", "step-00000030.mid"}
    card = get_model("my-band").card
    assert card.technique == "band" and card.architecture == "band" and card.genre == "test"
    assert card.training["command"] == "cmd" and card.training["steps"] == 30
    assert card.training["learnt_from"]["Chords"].startswith("the ChordNet")
    assert "chord_accuracy" in card.metrics["final_eval"]
    # At the chosen temperature, the weight of the moves is the one whose changes come as often as the valid
    # pieces' own chords do; the temperature is the one whose bands stay in key as often as theirs.
    fitted = card.metrics["calibration"]
    temperature = f"{fitted['temperature']:g}"
    rates = fitted["chord_changes_per_beat_by_temperature_and_weight"][temperature]
    data_rate = fitted["data_chord_changes_per_beat"]
    assert (
        card.decoding["chord_weight"]
        == fitted["chord_weight"]
        == fitted["chord_weight_by_temperature"][temperature]
        == float(min(rates, key=lambda weight: abs(rates[weight] - data_rate)))
    )
    in_key, data_in_key = fitted["in_scale_ratio_by_temperature"], fitted["data_in_scale_ratio"]
    gaps = {value: abs(in_key[value] - data_in_key) for value in in_key}
    close = [value for value in gaps if gaps[value] <= fitted["data_in_scale_standard_error"]]
    assert temperature == min(close or [min(gaps, key=gaps.__getitem__)], key=lambda value: abs(float(value) - 1))
    assert card.decoding["temperature"] == fitted["temperature"]
    band = Band.from_model("my-band")
    assert band.band.chord_weight == card.decoding["chord_weight"]
    # Fitted on the network as it ships (no dropout): the shipped band measures the same again.
    valid = read_beat_pieces(Tiny(), TINY_PRESET, splits=("valid",))
    again = calibrate(band.band, TINY_PRESET, valid)
    assert (
        again["chord_changes_per_beat_by_temperature_and_weight"]
        == fitted["chord_changes_per_beat_by_temperature_and_weight"]
    )
    assert again["in_scale_ratio_by_temperature"] == fitted["in_scale_ratio_by_temperature"]
    melody = piece(99, bars=4).tracks[0]
    given = Score(resolution=RESOLUTION, tracks=(melody,))
    made = band.generate(given, {}, 3)
    assert made.score.tracks[0] == melody
    assert [track.name for track in made.score.tracks] == ["Melody", "Piano", "Bass"]
    assert max(note.start for track in made.score.tracks[1:] for note in track.notes) < 4 * BAR
    assert band.generate(given, {}, 3).score == made.score
    waltz = Score(resolution=RESOLUTION, time_signature=(3, 4), tracks=(melody,))
    three = band.generate(waltz, {"bars": 2}, 3).score
    assert max(note.start for track in three.tracks[1:] for note in track.notes) < 2 * 3 * RESOLUTION


def test_a_dataset_without_chords_or_melody_cannot_teach_a_band(tmp_path: Path) -> None:
    class Drums(Dataset):
        def __init__(self) -> None:
            self.info = DatasetInfo(
                "drums", "Drums", "Drums.", ("test",), "CC0", "none", (TrackSlot("Drums", "other", is_drum=True),), "d"
            )

        def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
            yield from ()

    with pytest.raises(DatasetError, match="no melody track"):
        _ = Drums().info.melody_index
    with pytest.raises(TrainingError):
        run_training(BandRecipe(TINY_PRESET, Drums()), tmp_path / "run", name="nothing")


def test_the_yardstick_band_spells_the_melodys_chords_with_a_root_bass() -> None:
    from opencomposer.training.band_eval import rule_based_band

    melody = [Note(pitch, beat * RESOLUTION, RESOLUTION) for beat, pitch in enumerate([60, 64, 67, 64, 65, 69, 72, 69])]
    drum_bar = np.zeros((16, len(DRUM_NOTES)), dtype=np.uint8)
    drum_bar[0, 0] = drum_bar[8, 1] = 100
    chords, bass, drums = rule_based_band(melody, RESOLUTION, 4, 2, drum_bar)
    assert {note.pitch % 12 for note in chords.notes if note.start == 0} == {0, 4, 7}
    assert {note.pitch % 12 for note in chords.notes if note.start == BAR} == {5, 9, 0}
    assert [note.pitch % 12 for note in bass.notes] == [0, 5]
    assert drums.is_drum and len(drums.notes) == 4


needs_groove = pytest.mark.skipif(find_data_folder("groove") is None, reason="the Groove MIDI Dataset is not here")


@needs_groove
def test_a_band_with_drums_plays_the_styles_bars_on_general_midi_notes(tmp_path: Path) -> None:
    preset = replace(TINY_PRESET, training={**TINY_PRESET.training, "drum_style": "jazz"})
    run_training(BandRecipe(preset, None), tmp_path / "run", name="drummed", install=True)
    made = Band.from_model("drummed").generate(Score(resolution=RESOLUTION, tracks=(piece(5).tracks[0],)), {}, 0).score
    drums = made.tracks[-1]
    assert drums.is_drum and drums.notes and {note.pitch for note in drums.notes} <= set(DRUM_NOTES)
    quiet = Band.from_model("drummed").generate(
        Score(resolution=RESOLUTION, tracks=(piece(5).tracks[0],)), {"drums": False}, 0
    )
    assert not any(track.is_drum for track in quiet.score.tracks)


def test_a_bands_drums_are_written_on_channel_10_and_sound_in_fluidsynth(tmp_path: Path) -> None:
    import mido

    from opencomposer.music.midi import read_midi, write_midi
    from opencomposer.studio.audio import render_audio

    drums = Track(
        "Drums", is_drum=True, notes=tuple(Note(pitch, step * 240, 120, 100) for step, pitch in enumerate(DRUM_NOTES))
    )
    score = Score(resolution=RESOLUTION, tracks=(piece(1, bars=1).tracks[0], drums))
    write_midi(score, tmp_path / "band.mid")
    channels = {
        message.channel
        for track in mido.MidiFile(tmp_path / "band.mid").tracks
        for message in track
        if message.type == "note_on" and message.note in DRUM_NOTES and message.velocity == 100
    }
    assert channels == {9}
    assert read_midi(tmp_path / "band.mid").tracks[-1].is_drum
    soundfont = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
    if not soundfont.is_file():
        pytest.skip("FluidSynth's General MIDI soundfont is not installed")
    only_drums = score.with_tracks([drums])
    write_midi(only_drums, tmp_path / "drums.mid")
    render_audio(
        tmp_path / "drums.mid",
        tmp_path / "drums.wav",
        "wav",
        program="fluidsynth",
        soundfont=soundfont,
        sample_rate_hz=22050,
        timeout_seconds=60,
    )
    import soundfile

    audio, _ = soundfile.read(tmp_path / "drums.wav")
    assert float(np.sqrt(np.mean(np.square(audio)))) > 0.01  # the kit sounds


def test_a_band_of_the_users_own_data_trains_from_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opencomposer.cli import main

    quick = ["--steps", "4", "--batch-size", "4", "--eval-every", "0", "--checkpoint-every", "0", "--device", "cpu"]
    result = CliRunner().invoke(main, ["train", "band", "--dataset", "tiny", "--out", str(tmp_path / "mine"), *quick])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "home" / "models" / "mine.json").read_text(encoding="utf-8"))
    assert card["technique"] == "band" and card["training"]["command"].startswith(
        "opencomposer train band --dataset tiny"
    )
    assert "generate band --model mine" in " ".join(result.output.split())
