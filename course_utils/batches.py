"""A fast, seeded, checkpointable batch iterator over tensors that fit in memory.

Introduced in notebooks/00_getting_started.ipynb, section 0.4 (with the datasets of course_utils.data).
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

__all__ = ["TensorBatches"]


class TensorBatches:
    """Mini-batches sliced from tensors that fit in memory: a fast stand-in for a DataLoader.

    The tensors are moved to ``device`` once; each epoch (each ``iter()``) yields ``(x, y)``
    slices of a fresh permutation drawn from the iterator's own seeded generator, so two iterators
    with the same seed give the same batches and checkpoints can save the generator's state.

    Args:
        x: inputs ``(N, ...)``; y: targets ``(N, ...)``.
        batch_size: examples per batch; the last batch may be smaller unless ``drop_last``.
        shuffle: draw a new order every epoch.
        seed: seed of the shuffling generator.
        device: where the tensors live (default: where they are).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 64, *, shuffle: bool = True,
                 seed: int = 0, device: torch.device | str | None = None, drop_last: bool = False) -> None:
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got x {tuple(x.shape)} and y {tuple(y.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.x = x.to(device) if device is not None else x
        self.y = y.to(device) if device is not None else y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Pair]:
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.x.device)
            for i in range(len(self)):
                idx = order[i * self.batch_size:(i + 1) * self.batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(len(self)):
                sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
                yield self.x[sl], self.y[sl]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The shuffling generator's state (saved in checkpoints for an exact resume)."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"].cpu())
