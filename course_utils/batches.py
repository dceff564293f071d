"""Every batch iterator of the course: in-memory tensors, a function mapped over batches, text by length.

Introduced in notebooks/00_getting_started.ipynb, section 0.4 (with the datasets of course_utils.data).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

__all__ = ["TensorBatches", "MapBatches", "LengthBatches"]

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
        if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
            raise TypeError(f"TensorBatches takes tensors x and y, got ({type(x).__name__}, {type(y).__name__}): "
                            f"convert with torch.as_tensor (torch.from_numpy for NumPy arrays)")
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got x {tuple(x.shape)} and y {tuple(y.shape)}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
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


class MapBatches:
    """The batches of ``batches`` with ``fn(x, y) -> (x, y)`` applied to each, afresh every epoch.

    Augmentation (a new random shift of every image each time it is drawn) and adversarial
    training (each batch attacked against the model as it is now) are both this one idea::

        augmented = MapBatches(train_batches, lambda x, y: (random_shift(x), y))

    ``len()`` is that of ``batches`` (so ``fit`` can show progress), and under ``torch.distributed``
    ``fit`` shards the wrapped :class:`TensorBatches` (see :meth:`shard`).

    Introduced in notebooks/04_convolutional_networks.ipynb (data augmentation), where it is first
    written by hand.
    """

    def __init__(self, batches: Iterable[Pair], fn: Callable[[torch.Tensor, torch.Tensor], Pair]) -> None:
        if not callable(fn):
            raise TypeError(f"MapBatches needs a function fn(x, y) -> (x, y), got {type(fn).__name__}")
        if isinstance(batches, tuple) and len(batches) == 2 and all(isinstance(t, torch.Tensor) for t in batches):
            raise TypeError("MapBatches wraps batches, not a pair of tensors: wrap TensorBatches(x, y, batch_size)")
        self.batches, self.fn = batches, fn

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Pair]:
        for x, y in self.batches:
            out = self.fn(x, y)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(f"the function given to MapBatches must return a pair (x, y), got "
                                f"{type(out).__name__}; e.g. lambda x, y: (augment(x), y)")
            yield out

    def shard(self, rank: int, world_size: int) -> MapBatches:
        """The same mapping over this process's part of the wrapped batches (see TensorBatches.shard)."""
        inner = self.batches.shard(rank, world_size) if hasattr(self.batches, "shard") else self.batches
        return MapBatches(inner, self.fn)

    def state_dict(self) -> dict[str, Any]:
        """The wrapped batches' state (their shuffling generator), for an exact resume."""
        return self.batches.state_dict() if hasattr(self.batches, "state_dict") else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if hasattr(self.batches, "load_state_dict") and state:
            self.batches.load_state_dict(state)


class LengthBatches:
    """Batches of padded token ids grouped by length, each cut to its longest member: less padding, same data.

    Each epoch the examples are shuffled, taken in pools of ``pool`` batches, sorted by length within a
    pool, cut into batches, and the batches shuffled (like Hugging Face's ``group_by_length``). Without
    ``shuffle`` all examples are sorted by length (for evaluation, where the order does not matter).
    Works with ``fit`` and ``evaluate`` like :class:`TensorBatches`. Introduced in
    notebooks/06b_pretrained_bert.ipynb (fine-tuning).

    Args:
        ids: ``(N, T)`` token ids, right-padded with ``pad_id``; y: ``(N, ...)`` targets.
        batch_size: examples per batch; seed: seed of the shuffling; device: where batches are moved.
    """

    def __init__(self, ids: torch.Tensor, y: torch.Tensor, batch_size: int = 32, *, shuffle: bool = True,
                 seed: int = 0, pool: int = 50, pad_id: int = 0, device: torch.device | str | None = None) -> None:
        if len(ids) != len(y):
            raise ValueError(f"ids and y differ in length: {len(ids)} != {len(y)}")
        if batch_size < 1 or pool < 1:
            raise ValueError(f"batch_size and pool must be >= 1, got {batch_size} and {pool}")
        self.ids, self.y, self.batch_size, self.shuffle, self.pool = ids, y, batch_size, shuffle, pool
        self.lengths = (ids != pad_id).sum(1)                                    # (N,)
        self.generator = torch.Generator().manual_seed(seed)
        self.device = device

    def __len__(self) -> int:  # batches per epoch
        return math.ceil(len(self.ids) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(ids (b, longest), y (b, ...))`` batches, each example once per epoch."""
        if not self.shuffle:
            batches = list(torch.argsort(self.lengths, stable=True).split(self.batch_size))
        else:
            perm = torch.randperm(len(self.ids), generator=self.generator)
            batches = []
            for chunk in perm.split(self.batch_size * self.pool):
                chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
                batches += list(chunk.split(self.batch_size))
            batches = [batches[i] for i in torch.randperm(len(batches), generator=self.generator)]
        for idx in batches:
            longest = int(self.lengths[idx].max())
            x, y = self.ids[idx, :longest], self.y[idx]                          # (b, longest), (b,)
            yield (x, y) if self.device is None else (x.to(self.device), y.to(self.device))
