"""Data-parallel training with PyTorch's own engine, ``torch.distributed`` + DistributedDataParallel.

``fit`` calls these helpers so that a script using it runs unchanged under ``torchrun``: each
process trains a DistributedDataParallel copy of the model on its shard of every batch, sums of
losses and metrics are reduced across processes, and only process 0 prints, shows progress and
writes checkpoints. Outside ``torch.distributed`` (the usual case) every helper is a no-op.

Introduced in notebooks/12_scaling_up.ipynb.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from .batches import MapBatches, TensorBatches

__all__ = ["rank", "world_size", "is_main_process", "shard_batches", "wrap_model", "all_reduce_sum", "barrier",
           "set_epoch"]


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's number among those training together: 0 unless a process group is up."""
    return dist.get_rank() if _initialized() else 0


def world_size() -> int:
    """How many processes train together: 1 unless a process group with several processes is up."""
    return dist.get_world_size() if _initialized() else 1


def is_main_process() -> bool:
    """True on process 0 (and always outside ``torch.distributed``): the one that prints and writes files."""
    return rank() == 0


def shard_batches(batches: Iterable[Any]) -> Iterable[Any]:
    """The part of ``batches`` this process trains on.

    :class:`~course_utils.batches.TensorBatches` is split with its ``shard`` method; a
    ``DataLoader`` must already use a ``DistributedSampler`` (which shards it); anything else
    raises, since silently training every process on all the data would be a wrong answer.
    """
    size = world_size()
    if size == 1:
        return batches
    if isinstance(batches, TensorBatches):
        return batches.shard(rank(), size) if batches.world_size == 1 else batches
    if isinstance(batches, MapBatches):
        return MapBatches(shard_batches(batches.batches), batches.fn)
    sampler = getattr(batches, "sampler", None)
    if isinstance(sampler, torch.utils.data.distributed.DistributedSampler):
        return batches
    raise ValueError(f"under torch.distributed ({size} processes) the data must be TensorBatches, a pair of tensors "
                     f"or a DataLoader with a DistributedSampler, got {type(batches).__name__}: each process "
                     f"would otherwise train on all of it")


def set_epoch(batches: Iterable[Any], epoch: int) -> None:
    """Tell a ``DistributedSampler`` which epoch starts, so its shuffle changes each epoch."""
    sampler = getattr(batches, "sampler", None)
    if isinstance(sampler, torch.utils.data.distributed.DistributedSampler):
        sampler.set_epoch(epoch)


def wrap_model(model: nn.Module) -> nn.Module:
    """``model`` in DistributedDataParallel when several processes train, else ``model`` itself.

    DDP starts by broadcasting process 0's weights, then averages gradients across processes in
    every ``backward``, so all copies stay identical.
    """
    if world_size() == 1 or isinstance(model, nn.parallel.DistributedDataParallel):
        return model
    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place, and return it (unchanged with one process)."""
    if world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier() -> None:
    """Wait until every process reaches this point (no-op with one process)."""
    if world_size() > 1:
        dist.barrier()
