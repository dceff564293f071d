"""Evaluation and prediction, and the pieces the training loop shares with them.

``evaluate`` averages a loss and metrics over data in eval mode; ``predict`` returns the model's
outputs. Both move batches to the model's device, run under the same optional autocast and check
the first batch exactly as ``fit`` does (``forward``), so a mistake gives the same clear error
whether it shows up in training or in evaluation.

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import torch
from torch import nn

from . import checks
from .batches import TensorBatches
from .metrics import Metric

__all__ = ["evaluate", "predict", "as_batches", "device_of", "autocast", "forward", "mean_of", "Batches", "LossFn"]

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------- shared pieces
def as_batches(data: Batches | tuple[torch.Tensor, torch.Tensor], batch_size: int, shuffle: bool,
                device: torch.device | None = None) -> Batches:
    """A pair of tensors becomes :class:`TensorBatches` (moved to ``device`` once); anything else is used as given."""
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], torch.Tensor) and isinstance(data[1], torch.Tensor):
        return TensorBatches(data[0], data[1], batch_size, shuffle=shuffle, seed=0, device=device)
    return cast(Batches, data)  # an iterable of (x, y) batches


def device_of(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters (the CPU for a model without any)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    """float16 autocast on CUDA, bfloat16 on CPU; a no-op context when ``amp`` is off (it costs nothing)."""
    if not amp:
        return contextlib.nullcontext()
    if device.type not in ("cuda", "cpu"):
        raise ValueError(f"amp=True is supported on CUDA and CPU, not on {device.type}")
    return torch.autocast(device_type=device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16)


def forward(net: nn.Module, batch: Any, device: torch.device, amp: bool, what: str,
            check: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Move one ``(x, y)`` batch to ``device`` and run the model on it; on the first batch, check it.

    On the first batch a failure inside the model is reported with the batch's shape and dtype, so
    a learner sees which data did not fit which model before torch's own message.
    """
    if not check:
        x, y = batch
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast(device, amp):
            return net(x), y
    x, y = checks.check_batch_pair(batch, what)
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    with checks.explained(f"the model could not run on the first batch of {what} (inputs x of shape "
                          f"{tuple(x.shape)}, {x.dtype}, on {device}); check that they match its first layer"):
        with autocast(device, amp):
            out = net(x)
    checks.check_output(checks.model_output(out), y, what)
    return out, y


def mean_of(sums: dict[str, torch.Tensor], n: int) -> dict[str, float]:
    """Divide each batch-size-weighted sum by the number of examples ``n``."""
    if n == 0:
        raise ValueError("the data yielded no batches; check its size and batch_size")
    return {k: v.item() / n for k, v in sums.items()}


# ----------------------------------------------------------------------------- evaluate and predict
def evaluate(model: nn.Module, data: Batches | tuple[torch.Tensor, torch.Tensor], *,
             loss_fn: LossFn | None = None, metrics: Mapping[str, Metric] | None = None,
             amp: bool = False, batch_size: int = 1024) -> dict[str, float]:
    """Average loss and metrics of ``model`` over ``data`` in eval mode, without gradients.

    Args:
        data: an iterable of ``(x, y)`` batches, or a pair of tensors ``(x, y)``.
        loss_fn, metrics: as for :func:`fit`; either may be omitted.
    Returns:
        ``{"loss": float, "<metric>": float, ...}`` weighted by batch size.
    """
    checks.check_data(data, "data")
    if metrics is not None and not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict such as {{'acc': accuracy}}, got {type(metrics).__name__}")
    sums, n = _eval_sums(model, as_batches(data, batch_size, shuffle=False), loss_fn, dict(metrics or {}), amp)
    return mean_of(sums, n)


@torch.no_grad()
def _eval_sums(model: nn.Module, batches: Batches, loss_fn: LossFn | None, metrics: Mapping[str, Metric],
               amp: bool) -> tuple[dict[str, torch.Tensor], int]:
    """Batch-size-weighted sums of loss and metrics, and the number of examples."""
    device, was_training = device_of(model), model.training
    model.eval()
    sums: dict[str, torch.Tensor] = {}
    n = 0
    try:
        for i, batch in enumerate(batches):
            out, y = forward(model, batch, device, amp, "the evaluation data", check=i == 0)
            b = y.shape[0]
            vals = {} if loss_fn is None else {"loss": checks.loss_value(checks.first_loss(loss_fn, out.float(), y, i == 0),
                                                                          out)}
            vals.update({k: checks.metric_value(k, fn(out, y), device) for k, fn in metrics.items()})
            for k, v in vals.items():
                sums[k] = sums.get(k, 0) + v.detach().float() * b
            n += b
    finally:
        model.train(was_training)
    return sums, n


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Model outputs for ``x`` ``(N, ...)`` in eval mode, in batches, returned on the CPU ``(N, ...)``.

    An empty ``x`` (N = 0) gives an empty result.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"predict takes a tensor of inputs (N, ...), got {type(x).__name__}"
                        + (": convert it with torch.from_numpy(x).float()" if hasattr(x, "__array__") else ""))
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    if x.dim() == 0:
        raise ValueError("predict takes a batch of inputs (N, ...), got a single number; use x.reshape(1, -1)")
    device, was_training = device_of(model), model.training
    model.eval()
    try:
        if len(x) == 0:
            return _empty_prediction(model, x, device)
        outs = [checks.model_output(model(x[i:i + batch_size].to(device))).cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs)


def _empty_prediction(model: nn.Module, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The model's output for zero examples: shaped like a real one when the model accepts an empty batch."""
    try:
        return checks.model_output(model(x.to(device))).cpu()
    except (RuntimeError, ValueError, IndexError):  # some layers refuse empty batches; the answer is still empty
        return torch.empty(0)
