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

from .batches import TensorBatches

__all__ = ["world", "is_main_process", "shard_batches", "wrap_model", "all_reduce_sum", "barrier",
           "set_epoch"]


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process: ``(0, 1)`` unless a process group with several processes is up."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """True on process 0 (and always outside ``torch.distributed``): the one that prints and writes files."""
    return world()[0] == 0


def shard_batches(batches: Iterable[Any]) -> Iterable[Any]:
    """The part of ``batches`` this process trains on.

    :class:`~course_utils.batches.TensorBatches` is split with its ``shard`` method; a
    ``DataLoader`` must already use a ``DistributedSampler`` (which shards it); anything else
    raises, since silently training every process on all the data would be a wrong answer.
    """
    rank, size = world()
    if size == 1:
        return batches
    if isinstance(batches, TensorBatches):
        return batches.shard(rank, size) if batches.world_size == 1 else batches
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
    if world()[1] == 1 or isinstance(model, nn.parallel.DistributedDataParallel):
        return model
    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place, and return it (unchanged with one process)."""
    if world()[1] > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier() -> None:
    """Wait until every process reaches this point (no-op with one process)."""
    if world()[1] > 1:
        dist.barrier()
