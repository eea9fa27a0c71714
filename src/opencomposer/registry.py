"""The models that can be used: the ones shipped with OpenComposer and the user's own.

A model on disk is two files side by side: ``<name>.safetensors`` (the weights) and ``<name>.json``
(its card: technique, architecture, config, dataset, roll spec, track layout, how it was trained and
how it measures). Nothing is unpickled.

Where models live:

- shipped models: the package's `pretrained/` folder (read-only);
- the user's models: ``$OPENCOMPOSER_HOME/models`` when `OPENCOMPOSER_HOME` is set, else the
  ``models`` folder of the platform's user data folder (``~/.local/share/opencomposer/models`` on
  Linux, beside the datasets' ``data`` folder). `opencomposer train` installs what it trains there.

A user's model cannot take the name of a shipped one, so a name always means one model.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from opencomposer.data.registry import get_dataset
from opencomposer.errors import ModelFileError, UnknownNameError
from opencomposer.files import write_atomically, write_json_atomically

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

CARD_VERSION = 1
_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a model is, how it was made and how it measures (the JSON beside its weights).

    Parameters
    ----------
    name
        Lower-case name, also the files' stem.
    technique
        The technique that uses it ("accompany").
    architecture
        The network's architecture ("unet", "musegan").
    config
        The architecture's config, as `opencomposer.models.generator_config` reads it.
    title, description
        For people.
    dataset
        The dataset it was trained on.
    roll
        Its roll spec: {"steps_per_beat", "low_pitch", "high_pitch"}.
    bars
        Bars in one window.
    tracks
        The window's track layout, melody included: [{"name", "role", "program", "is_drum"}, ...].
    melody_index
        Position of the melody in `tracks`.
    generated_tracks
        Positions in `tracks` of the generator's outputs, in output order.
    decoding
        How its output becomes notes: {"max_polyphony": [per generated track], "thresholds": {track name:
        its threshold at the default setting, where calibrated}, ...}.
    training
        How it was trained: command, hyperparameters, steps, wall time, hardware, throughput.
    metrics
        How it measures against its dataset.
    licence
        Licence of the weights (the training data's terms apply).
    genre
        The kind of music it makes, as a slug ("chorale", "jazz"), by which the studio groups models;
        None when the card does not say (cards written before genres were kept).
    """

    name: str
    technique: str
    architecture: str
    config: dict[str, Any]
    title: str
    description: str
    dataset: str
    roll: dict[str, int]
    bars: int
    tracks: list[dict[str, Any]]
    melody_index: int
    generated_tracks: list[int]
    decoding: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    licence: str = ""
    genre: str | None = None
    version: int = CARD_VERSION

    def to_json(self) -> dict[str, Any]:
        """The card as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ModelCard:
        """Read a card; raises `ModelFileError` when a field is missing or of the wrong kind."""
        try:
            card = cls(**value)
        except TypeError as error:
            raise ModelFileError(f"The model card of {value.get('name', '?')!r} is not valid: {error}.") from None
        if card.genre is not None and not isinstance(card.genre, str):
            raise ModelFileError(
                f"The model card of {card.name!r} has a genre that is not a word ({card.genre!r}); fix or delete it."
            )
        if card.version > CARD_VERSION:
            raise ModelFileError(
                f"The model {card.name!r} was saved by a newer OpenComposer (card version {card.version}); upgrade."
            )
        return card


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A model found on disk: its card, where its files are, and whether it ships with OpenComposer."""

    card: ModelCard
    weights_path: Path
    card_path: Path
    shipped: bool

    @property
    def name(self) -> str:
        """The model's name."""
        return self.card.name

    @property
    def size_bytes(self) -> int:
        """Size of the weights file."""
        return self.weights_path.stat().st_size


def pretrained_dir() -> Path:
    """The folder of the models shipped with OpenComposer."""
    return Path(__file__).resolve().parent / "pretrained"


def models_dir() -> Path:
    """The folder of the user's models: ``$OPENCOMPOSER_HOME/models``, else the user data folder's ``models``."""
    home = os.environ.get("OPENCOMPOSER_HOME")
    if home:
        return Path(home).expanduser() / "models"
    return Path(platformdirs.user_data_dir("opencomposer")) / "models"


def _read_entry(card_path: Path, shipped: bool) -> ModelEntry:
    try:
        value = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFileError(
            f"The model card {card_path} cannot be read ({error}); delete it or save it again."
        ) from None
    if not isinstance(value, dict):
        raise ModelFileError(f"The model card {card_path} is not a JSON object; delete it or save it again.")
    card = ModelCard.from_json(value)
    weights_path = card_path.with_suffix(".safetensors")
    if not weights_path.is_file():
        raise ModelFileError(f"The model {card.name!r} has a card but no weights file {weights_path}.")
    return ModelEntry(card, weights_path, card_path, shipped)


AUXILIARY_SUFFIXES = (".tokenizer.json", ".classifier.json", ".run.json")
"""Files beside the cards that are not cards themselves: a Transformer's vocabulary, the genre classifier, and a
training run kept for a lesson."""


def _scan(folder: Path, shipped: bool) -> list[ModelEntry]:
    if not folder.is_dir():
        return []
    entries = []
    for card_path in sorted(folder.glob("*.json")):
        if card_path.name.endswith(AUXILIARY_SUFFIXES):
            continue
        try:
            entries.append(_read_entry(card_path, shipped))
        except ModelFileError as error:
            logger.warning("Skipped a model: %s", error)
    return entries


def list_models(technique: str | None = None) -> list[ModelEntry]:
    """The usable models (of one technique, or all): shipped ones first, then the user's, each by name."""
    shipped = _scan(pretrained_dir(), shipped=True)
    shipped_names = {entry.name for entry in shipped}
    own = [entry for entry in _scan(models_dir(), shipped=False) if entry.name not in shipped_names]
    return [entry for entry in shipped + own if technique is None or entry.card.technique == technique]


def get_model(name_or_path: str) -> ModelEntry:
    """The model called `name_or_path`, or the model whose card or weights file that path is.

    Raises `UnknownNameError` listing the known models when there is none.
    """
    path = Path(name_or_path).expanduser()
    if path.suffix in (".json", ".safetensors") and path.is_file():
        return _read_entry(path.with_suffix(".json"), shipped=False)
    entries = list_models()
    for entry in entries:
        if entry.name == name_or_path:
            return entry
    known = ", ".join(entry.name for entry in entries) or "none yet"
    raise UnknownNameError(
        f"There is no model called {name_or_path!r}. Known models: {known} (or give a model's .json file)."
    )


def genre_of_dataset(name: str) -> str | None:
    """The genre of a model trained on the dataset `name`: the dataset's genre when it declares exactly one.

    None for a dataset that declares several (the Bach chorales are "classical", "baroque" and "chorale";
    which one a listener would look under is not the data's to say), for a mix of datasets ("a+b") and
    for a name no dataset has.
    """
    try:
        genres = get_dataset(name).info.genres
    except UnknownNameError:
        return None
    return genres[0] if len(genres) == 1 else None


def check_model_name(name: str, *, new_user_model: bool = True) -> None:
    """Raise `ModelFileError` unless `name` is a valid model name (and, for a user's model, not a shipped one's)."""
    if not _VALID_NAME.match(name):
        raise ModelFileError(
            f"{name!r} is not a valid model name; use 1 to 64 lower-case letters, digits, '.', '-' or '_'."
        )
    if new_user_model and (pretrained_dir() / f"{name}.json").is_file():
        raise ModelFileError(f"{name!r} is the name of a model shipped with OpenComposer; choose another name.")


def save_model(card: ModelCard, weights: dict[str, torch.Tensor], folder: Path | None = None) -> ModelEntry:
    """Write a model's weights and card (each atomically, the card last) into `folder`.

    Without `folder` the model goes into the user's models folder (`models_dir()`), where it may not
    take a shipped model's name. Raises `ModelFileError` for a name that is not valid there.
    """
    check_model_name(card.name, new_user_model=folder is None)
    target = models_dir() if folder is None else folder
    weights_path, card_path = target / f"{card.name}.safetensors", target / f"{card.name}.json"
    write_atomically(weights_path, tensors_to_bytes(weights, {"format": "pt", "model": card.name}))
    write_json_atomically(card_path, card.to_json())
    return ModelEntry(card, weights_path, card_path, shipped=False)


def tensors_to_bytes(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> bytes:
    """Serialise tensors as safetensors (copied to contiguous CPU memory first)."""
    from safetensors.torch import save as save_safetensors

    plain = {name: tensor.detach().to("cpu").contiguous() for name, tensor in tensors.items()}
    return save_safetensors(plain, metadata=dict(metadata) if metadata else None)


def load_weights(entry: ModelEntry) -> dict[str, torch.Tensor]:
    """A model's weights, on the CPU; raises `ModelFileError` when the file is damaged."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        return load(entry.weights_path.read_bytes())
    except (OSError, SafetensorError) as error:
        raise ModelFileError(f"The weights of model {entry.name!r} cannot be read ({error}); save it again.") from None
