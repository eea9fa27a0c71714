"""The studio's words for what a model card says: its genre, each metric and each quality bar in plain language.

A model card stores its figures under the names the evaluation code uses (``tonal_distance``,
``in_scale_ratio_within_0.05``) and its genre as a slug (``chorale``); a musician or a student reads
these titles and sentences instead. A name this module does not know still gets a readable title or
sentence made from the name itself.
"""

from __future__ import annotations

import re

METRIC_WORDS: dict[str, str] = {
    "empty_bar_rate": "Share of bars in which a track plays nothing at all (lower means fewer silent bars).",
    "in_scale_ratio": "Share of notes that belong to the piece's key (1 means every note is in the scale).",
    "pitch_classes_per_bar": "How many different note names (C, C#, D...) a bar uses on average.",
    "polyphony": "How many notes sound at once on average, when any sounds.",
    "qualified_note_rate": (
        "Share of notes that last at least three steps of the piano roll (a dotted 8th at 16th-note steps): "
        "higher means fewer very short, choppy notes."
    ),
    "pitch_class_entropy": "How evenly the music spreads over the 12 note names: higher means less tonal focus.",
    "in_c_major_ratio": "Share of notes on the white keys (C major), as AWS DeepComposer measured it.",
    "tonal_distance": (
        "How far apart the harmonies of two tracks are (Harte's tonal distance): lower means the "
        "accompaniment follows the melody's harmony more closely."
    ),
    "parallel_fifths": "Parallel fifths per 100 note changes: a move that chorale style avoids.",
    "parallel_octaves": "Parallel octaves per 100 note changes: a move that chorale style avoids.",
    "voice_crossing": "Times per 100 note changes that a lower voice goes above a higher one.",
    "similarity_index": (
        "How much the generated music's statistics overlap those of the real music (0 to 1; 1 means "
        "indistinguishable by these measures)."
    ),
}

GENRES: dict[str, tuple[str, str]] = {
    "chorale": (
        "Bach chorales",
        "Hymns for four voices (soprano, alto, tenor, bass) in the manner of Johann Sebastian Bach, each voice "
        "its own tune.",
    ),
    "folk": ("Folk", "Traditional dance tunes and songs from the British Isles: a simple melody over a few chords."),
    "pop": ("Pop", "Catchy songs with a clear melody over a steady beat, chords and a bass line."),
    "classical": ("Classical", "Piano and chamber music in the manner of the great composers of past centuries."),
    "jazz": ("Jazz", "Swinging rhythms and rich chords, with room for the melody to be played freely."),
    "rock": ("Rock", "Guitars, bass and drums playing a driving beat with strong, simple chords."),
    "symphony": ("Symphony", "Music for a whole orchestra: strings, winds and brass playing together."),
}
"""Each genre a card may name: its title and one sentence saying what the music sounds like."""

OTHER_GENRE_TITLE = "Other"
"""The title of the group of models whose card names no genre."""


def genre_title(genre: str | None) -> str:
    """The title of `genre` for a heading: its title in `GENRES`, else the slug in title case ("Other" for None)."""
    if genre is None:
        return OTHER_GENRE_TITLE
    if genre in GENRES:
        return GENRES[genre][0]
    return genre.replace("-", " ").replace("_", " ").title()


def genre_line(genre: str | None) -> str | None:
    """One sentence saying what the music of `genre` sounds like; None for no genre or one not in `GENRES`."""
    if genre is None or genre not in GENRES:
        return None
    return GENRES[genre][1]


_BAR_WORDS: dict[str, str] = {
    "in_scale_ratio_within_0.05": "Its notes stay in key about as often as the real music's (within 0.05).",
    "empty_bar_rate_within_0.05": "Its tracks fall silent about as often as the real music's (within 0.05).",
    "tonal_distance_below_random_pairs": (
        "Its accompaniment follows the melody's harmony better than real accompaniments picked at random do."
    ),
    "nll_as_low_as_coconet": (
        "It predicts held-out Bach chorales as well as the figure quoted for Google's Coconet (0.57 nats a "
        "frame, measured as Coconet's own code measures it; whether that figure is like for like is unsettled)."
    ),
    "parallel_fifths_at_most_twice_bach": "It writes parallel fifths at most twice as often as Bach did.",
    "parallel_octaves_at_most_twice_bach": "It writes parallel octaves at most twice as often as Bach did.",
    "similarity_index_above_the_gan": "Its harmonizations resemble Bach's more than the GAN's accompaniments do.",
    "beats_the_bigram_baseline_clearly": (
        "It predicts the next note of held-out music clearly better than a simple model that only looks at "
        "the previous note."
    ),
    "no_stretch_of_4_stuck_bars": "Its continuations never repeat the same bar four times in a row.",
    "similarity_index_at_least_0.7_and_above_the_rule_based_band": (
        "Its music's statistics overlap the real music's enough (a similarity index of at least 0.7 out of 1), "
        "and more than a plain band's: block chords, a root bass and one repeated drum bar."
    ),
    "drum_in_pattern_rate_within_0.05_of_groove": (
        "Its drummer places hits on and off the 8th-note beat like the real drummers of the genre (within 0.05)."
    ),
    "drum_onsets_within_20_percent_of_groove": (
        "Its drummer plays about as many hits a bar as the real drummers (within 20 %)."
    ),
    "genre_named_at_least_80_percent": (
        "A classifier trained on real music of the four genres names this band's genre at least 8 times in 10."
    ),
}

_SIMILARITY_AT_LEAST = re.compile(r"^similarity_index_at_least_(?P<value>[0-9.]+)$")


def metric_sentence(name: str) -> str:
    """What the metric `name` measures; a name with a track (``empty_bar_rate/Piano``) says which track."""
    base, _, track = name.partition("/")
    sentence = METRIC_WORDS.get(base)
    if sentence is None:
        sentence = f"{base.replace('_', ' ').capitalize()}."
    return f"{sentence} (track {track})" if track else sentence


def quality_bar_sentence(name: str) -> str:
    """The quality bar `name` (a key of a card's ``held_out.quality_bars``) as one sentence."""
    if name in _BAR_WORDS:
        return _BAR_WORDS[name]
    match = _SIMILARITY_AT_LEAST.match(name)
    if match:
        return (
            f"Its music's statistics overlap the real music's enough: a similarity index of at least "
            f"{match['value']} (out of 1)."
        )
    return f"{name.replace('_', ' ').capitalize()}."


def with_article(word: str) -> str:
    """`word` after "a" or "an", as it is said before a technique's name: "an accompany", "a band"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
