"""The studio's plain words for a model's genre."""

from __future__ import annotations

from opencomposer.studio.words import GENRES, genre_line, genre_title


def test_each_known_genre_has_a_title_and_one_sentence() -> None:
    assert {"chorale", "folk", "pop", "classical", "jazz", "rock", "symphony"} <= set(GENRES)
    assert genre_title("chorale") == "Bach chorales"
    for slug in GENRES:
        line = genre_line(slug)
        assert genre_title(slug) and line is not None and line.endswith(".") and line.count(". ") == 0


def test_an_unknown_genre_is_titled_from_its_slug_and_no_genre_is_other() -> None:
    assert (genre_title("bossa-nova"), genre_line("bossa-nova")) == ("Bossa Nova", None)
    assert (genre_title(None), genre_line(None)) == ("Other", None)
