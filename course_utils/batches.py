"""A fast, seeded, checkpointable batch iterator over tensors that fit in memory.

Introduced in notebooks/00_getting_started.ipynb, section 0.4 (with the datasets of course_utils.data).
"""
from __future__ import annotations

import copy
from collections.abc import Iterator

import torch

__all__ = ["TensorBatches"]

Pair = tuple[torch.Tensor, torch.Tensor]


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
        drop_last: skip a final batch smaller than ``batch_size``.

    Under ``torch.distributed``, :meth:`shard` gives each process its part of every batch; ``fit``
    does this itself.
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
        self.rank, self.world_size = 0, 1

    def shard(self, rank: int, world_size: int) -> TensorBatches:
        """This iterator as process ``rank`` of ``world_size`` sees it.

        Every process draws the same permutation (same seed) and takes its contiguous part of each
        batch of ``batch_size`` examples, so the processes together see exactly the batches one
        process would, and averaging their gradients (what DistributedDataParallel does) equals the
        gradient of the whole batch when the parts have equal sizes (``batch_size`` a multiple of
        ``world_size`` and no smaller last batch, e.g. ``drop_last=True``). A last batch with fewer
        examples than processes is skipped.
        """
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must lie in [0, {world_size}), got {rank}")
        part = copy.copy(self)
        part.rank, part.world_size = rank, world_size
        part.generator = torch.Generator()                 # its own generator, in the same state
        part.generator.set_state(self.generator.get_state())
        return part

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Pair]:
        n, bs = len(self.x), self.batch_size
        order = torch.randperm(n, generator=self.generator).to(self.x.device) if self.shuffle else None
        for i in range(len(self)):
            if order is None and self.world_size == 1:
                yield self.x[i * bs:(i + 1) * bs], self.y[i * bs:(i + 1) * bs]  # views, no copy
                continue
            idx = order[i * bs:(i + 1) * bs] if order is not None else torch.arange(i * bs, min(n, (i + 1) * bs), device=self.x.device)
            if self.world_size > 1:
                if len(idx) < self.world_size:  # a last batch too small to give every process an example
                    continue
                idx = idx.tensor_split(self.world_size)[self.rank]
            yield self.x[idx], self.y[idx]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The shuffling generator's state (saved in checkpoints for an exact resume)."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"].cpu())
