"""The PyTorch adapter over prepared windows: whole batches cut from the cached uint8 array.

The sampler hands the dataset a list of indices, and the dataset answers with one fancy-indexing of
the array and one conversion to float: no per-window Python work, no worker processes needed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from opencomposer.data.registry import SPLITS
from opencomposer.data.windows import PreparedDataset
from opencomposer.errors import DatasetError
from opencomposer.music.pianoroll import RollArray


class WindowBatches(Dataset[torch.Tensor]):
    """Windows of one split, read a batch at a time: `dataset[[i, j, ...]]` is a float tensor.

    Parameters
    ----------
    windows
        uint8 rolls (windows, tracks, steps, pitches) with values OFF / HOLD / ONSET.
    binary
        True gives 1.0 where a note sounds (`roll > 0`); False keeps the values 0.0, 1.0 (HOLD), 2.0 (ONSET).
    """

    def __init__(self, windows: RollArray, *, binary: bool = True) -> None:
        self.windows = windows
        self.binary = binary

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, indices: list[int]) -> torch.Tensor:
        batch = torch.from_numpy(self.windows[np.asarray(indices, dtype=np.int64)])  # (B, tracks, steps, pitches)
        return (batch > 0).float() if self.binary else batch.float()


def make_loader(
    prepared: PreparedDataset,
    split: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    binary: bool = True,
    *,
    drop_last: bool = False,
) -> DataLoader[torch.Tensor]:
    """A loader yielding float batches of shape (batch, tracks, steps, pitches) from one split.

    Parameters
    ----------
    prepared
        The prepared dataset.
    split
        "train", "valid" or "test".
    batch_size
        Windows per batch.
    shuffle
        Visit the windows in a random order, a new one each epoch, the same sequence for the same seed.
    seed
        Seed of the shuffling.
    binary
        See `WindowBatches`.
    drop_last
        Leave out a last batch smaller than `batch_size`.
    """
    if split not in SPLITS:
        raise DatasetError(f"There is no split called {split!r}; choose one of {', '.join(SPLITS)}.")
    if batch_size < 1:
        raise DatasetError(f"A batch must hold at least one window, not {batch_size}.")
    windows = prepared.windows[split]
    if not len(windows):
        raise DatasetError(f"The {split} split of {prepared.name!r} has no windows to load.")
    dataset = WindowBatches(windows, binary=binary)
    order = (
        RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    )
    # batch_size=None: each "item" the dataset returns is already a whole batch.
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last), batch_size=None)
