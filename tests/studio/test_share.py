"""Share bundles: exported from one studio, imported into another, made again there note for note; hostile
bundles refused with a sentence; the page in a bundle plays with nothing from the network."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings
from opencomposer.studio.share import ENTRY_LIMITS_BYTES, MAX_BUNDLE_BYTES, ShareCard, render_page

from .conftest import HAS_SYNTHESIZER, LOOPBACK, TestClient, melody_score, midi_bytes

SEED = 3
Shared = tuple[bytes, dict[str, Any], TestClient]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, Any]]:
    """The sample melody "twinkle" accompanied by the shipped bach-chorale-unet (seed 3) in a first studio, and its
    share bundle (made once for this file)."""
    home = tmp_path_factory.mktemp("first-studio")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENCOMPOSER_HOME", str(home))
        patch.setenv("OPENCOMPOSER_DATA", str(home / "data"))
        patch.delenv("OPENCOMPOSER_TOKEN", raising=False)
        patch.delenv("OPENCOMPOSER_DATABASE_URL", raising=False)
        settings = Settings(home=home, web_dir=None, run_jobs=False, worker_threads=1)
        with TestClient(create_app(settings), base_url=LOOPBACK) as studio:
            body = {"technique": "accompany", "model": "bach-chorale-unet", "melody_id": "twinkle", "seed": SEED}
            made = studio.post("/api/compositions", json=body)
            assert made.status_code == 201, made.text
            composition = made.json()
            response = studio.get(f"/api/compositions/{composition['id']}/share")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert ".ocshare" in response.headers["content-disposition"]
    return response.content, composition


def import_bundle(client: TestClient, bundle: bytes, *, regenerate: bool = True) -> Any:
    files = {"file": ("shared.ocshare", io.BytesIO(bundle), "application/zip")}
    return client.post("/api/shares", files=files, data={"regenerate": str(regenerate).lower()})


def rezip(bundle: bytes, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> bytes:
    """The bundle with its entries changed by `change` (name to bytes)."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in change(entries).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def notes(client: TestClient, composition_id: str) -> list[list[tuple[int, int, int, int]]]:
    tracks = client.get(f"/api/compositions/{composition_id}/notes").json()["tracks"]
    return [[(n["pitch"], n["start_ticks"], n["duration_ticks"], n["velocity"]) for n in t["notes"]] for t in tracks]


@pytest.fixture
def shared(exported: tuple[bytes, dict[str, Any]], make_client: Callable[..., TestClient]) -> Shared:
    """The bundle from the first studio, its composition there, and a second, fresh studio on another home."""
    return *exported, make_client()


def test_a_bundle_holds_the_music_its_picture_a_page_and_a_card_that_says_what_made_it(
    exported: tuple[bytes, dict[str, Any]],
) -> None:
    bundle, composition = exported
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        names = set(archive.namelist())
        card = json.loads(archive.read("card.json"))
        page = archive.read("index.html").decode()
        assert archive.read("pianoroll.png").startswith(b"\x89PNG")
        assert archive.read("composition.mid").startswith(b"MThd")
    assert {"card.json", "composition.mid", "pianoroll.png", "index.html"} <= names <= set(ENTRY_LIMITS_BYTES)
    assert ("composition.mp3" in names) == (card["audio_missing"] is None)
    if HAS_SYNTHESIZER:
        assert "composition.mp3" in names
    assert (card["technique"], card["action"], card["seed"]) == ("accompany", "accompany", SEED)
    assert card["model"]["name"] == "bach-chorale-unet"
    assert re.fullmatch(r"[0-9a-f]{64}", card["model"]["weights_sha256"])
    assert card["params"] == composition["params"]
    assert card["melody"]["title"] == "Twinkle, Twinkle, Little Star"
    assert card["melody"]["score"]["tracks"][0]["notes"][0]["pitch"] == 60
    # The page plays offline: no address on the network anywhere, the notes embedded, the picture inlined.
    assert not re.search(r"https?://", page, re.IGNORECASE)
    assert '<script type="application/json" id="notes">{"tracks":[' in page
    assert 'src="data:image/png;base64,' in page
    assert card["title"] in page


def test_a_bundle_imported_into_another_studio_is_made_again_note_for_note(
    shared: Shared,
) -> None:
    bundle, composition, second = shared
    response = import_bundle(second, bundle)
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["model_present"], result["same_weights"], result["identical"]) == (True, True, True)
    assert "identical" in result["sentence"]
    assert result["melody"]["source"] == "share"
    stored, regenerated = result["composition"], result["regenerated"]
    assert (stored["seed"], stored["params"], stored["model"]) == (SEED, composition["params"], "bach-chorale-unet")
    assert regenerated["melody_id"] == result["melody"]["id"]
    assert notes(second, regenerated["id"]) == notes(second, stored["id"])
    assert len(notes(second, stored["id"])) == len(composition["summary"]["tracks"])
    melodies = second.get("/api/melodies").json()
    assert any(melody["id"] == result["melody"]["id"] for melody in melodies)


def test_an_import_without_regenerating_stores_the_composition_and_says_the_model_is_here(
    shared: Shared,
) -> None:
    bundle, _, second = shared
    result = import_bundle(second, bundle, regenerate=False).json()
    assert (result["model_present"], result["same_weights"], result["regenerated"]) == (True, True, None)
    assert second.get(f"/api/compositions/{result['composition']['id']}/midi").status_code == 200


def test_a_bundle_whose_weights_differ_says_so(shared: Shared) -> None:
    bundle, _, second = shared

    def other_weights(entries: dict[str, bytes]) -> dict[str, bytes]:
        card = json.loads(entries["card.json"])
        card["model"]["weights_sha256"] = "0" * 64
        return {**entries, "card.json": json.dumps(card).encode()}

    result = import_bundle(second, rezip(bundle, other_weights)).json()
    assert (result["model_present"], result["same_weights"]) == (True, False)
    assert "other weights" in result["sentence"]


def test_a_bundle_whose_model_is_missing_is_stored_and_says_so(
    shared: Shared,
) -> None:
    bundle, _, second = shared

    def unknown_model(entries: dict[str, bytes]) -> dict[str, bytes]:
        card = json.loads(entries["card.json"])
        card["model"]["name"] = "someone-elses-model"
        return {**entries, "card.json": json.dumps(card).encode()}

    result = import_bundle(second, rezip(bundle, unknown_model)).json()
    assert (result["model_present"], result["regenerated"], result["identical"]) == (False, None, None)
    assert "no accompany model called 'someone-elses-model'" in result["sentence"]


def _card_with(key: str, value: Any) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def change(entries: dict[str, bytes]) -> dict[str, bytes]:
        card = json.loads(entries["card.json"])
        card[key] = value
        return {**entries, "card.json": json.dumps(card).encode()}

    return change


@pytest.mark.parametrize(
    ("change", "status_code", "words"),
    [
        (lambda entries: {**entries, "../../evil.txt": b"x"}, 422, "'../../evil.txt'"),
        (lambda entries: {**entries, "/etc/passwd": b"x"}, 422, "'/etc/passwd'"),
        (lambda entries: {**entries, "notes.txt": b"x"}, 422, "holds only card.json"),
        (lambda entries: {k: v for k, v in entries.items() if k != "card.json"}, 422, "has no card.json"),
        (lambda entries: {k: v for k, v in entries.items() if k != "composition.mid"}, 422, "has no composition.mid"),
        (lambda entries: {**entries, "index.html": b" " * (ENTRY_LIMITS_BYTES["index.html"] + 1)}, 413, "index.html"),
        (lambda entries: {**entries, "card.json": b"not json"}, 422, "card.json is not valid"),
        (_card_with("seed", "three"), 422, "seed"),
        (_card_with("params", ["not", "an", "object"]), 422, "params"),
        (_card_with("format", "something-else"), 422, "format"),
        (lambda entries: {**entries, "composition.mid": b"MThd garbage"}, 422, "MIDI"),
    ],
)
def test_hostile_bundles_are_refused_with_a_sentence(
    shared: Shared,
    change: Callable[[dict[str, bytes]], dict[str, bytes]],
    status_code: int,
    words: str,
) -> None:
    bundle, _, second = shared
    response = import_bundle(second, rezip(bundle, change))
    assert response.status_code == status_code, response.text
    assert words in response.json()["detail"]
    assert second.get("/api/compositions").json() == []


def test_a_file_that_is_not_a_zip_is_refused(shared: Shared) -> None:
    _, _, second = shared
    not_zip = import_bundle(second, b"hello, this is not a zip archive")
    assert not_zip.status_code == 422
    assert "not a share bundle" in not_zip.json()["detail"]


def test_an_entry_whose_directory_lies_about_its_size_is_refused(
    shared: Shared,
) -> None:
    bundle, _, second = shared
    big = b"MThd" + b"\0" * (ENTRY_LIMITS_BYTES["composition.mid"] + 1)
    bomb = rezip(bundle, lambda entries: {**entries, "composition.mid": big})
    # The central directory's record of composition.mid says it unpacks to 10 bytes.
    first_record = bomb.index(b"PK\x01\x02")
    record = bomb.rindex(b"PK\x01\x02", 0, bomb.index(b"composition.mid", first_record))
    size_at = record + 24
    assert int.from_bytes(bomb[size_at : size_at + 4], "little") == len(big)
    lying = bomb[:size_at] + (10).to_bytes(4, "little") + bomb[size_at + 4 :]
    response = import_bundle(second, lying)
    assert response.status_code == 422, response.text
    assert "composition.mid cannot be unpacked" in response.json()["detail"]


def test_a_bundle_larger_than_the_limit_is_refused(shared: Shared) -> None:
    _, _, second = shared
    response = import_bundle(second, b"\0" * (MAX_BUNDLE_BYTES + 1))
    assert response.status_code == 413
    assert "larger than 48 MiB" in response.json()["detail"]


def test_a_composition_whose_melody_was_deleted_cannot_be_shared_and_says_why(client: TestClient) -> None:
    upload = {"file": ("tune.mid", io.BytesIO(midi_bytes(melody_score(2))), "audio/midi")}
    melody = client.post("/api/melodies/upload", files=upload).json()
    made = client.post(
        "/api/compositions", json={"technique": "accompany", "model": "tiny", "melody_id": melody["id"], "seed": 1}
    ).json()
    assert client.delete(f"/api/melodies/{melody['id']}").status_code == 204
    response = client.get(f"/api/compositions/{made['id']}/share")
    assert response.status_code == 409
    assert "Download its MIDI instead" in response.json()["detail"]


def test_a_title_holding_a_marker_of_the_page_stays_text(exported: tuple[bytes, dict[str, Any]]) -> None:
    bundle, _ = exported
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        card = ShareCard.model_validate_json(archive.read("card.json"))
    page = render_page(card.model_copy(update={"title": "A __NOTES__ </script> title"}), melody_score(1), None, False)
    assert page.count('{"tracks":[') == 1
    assert "A __NOTES__ &lt;/script&gt; title" in page
