"""Batch metrics for ``fit``/``evaluate``, and the output/target shape check.

A metric takes ``(output, target)`` of one batch and returns the batch mean as a 0-d tensor (no
``.item()``, so no host synchronisation in the training loop).

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["Metric", "accuracy", "binary_accuracy", "ShapeMismatchError", "check_output_shape"]

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class ShapeMismatchError(ValueError):
    """The model's output cannot be compared with the target; the message names both shapes."""


def check_output_shape(output: torch.Tensor, target: torch.Tensor) -> None:
    """Raise :class:`ShapeMismatchError` when ``output`` cannot match ``target``.

    Class-index targets (integer dtype, ``(N, ...)``) need outputs ``(N, C, ...)``; any other
    target needs an output of exactly its shape. This catches the silent broadcasting of
    ``MSELoss`` between ``(N, 1)`` and ``(N,)``, which averages an ``(N, N)`` matrix instead.
    """
    o, t = tuple(output.shape), tuple(target.shape)
    if not target.is_floating_point():
        if len(o) == len(t) + 1 and o[0] == t[0] and o[2:] == t[1:] and o[1] > 1:
            return
        if len(o) == len(t) + 1 and o[0] == t[0] and o[1] == 1:
            raise ShapeMismatchError(
                f"model output shape {o} has a single score per example, but the target shape {t} holds "
                f"class indices: for two classes use float 0/1 targets (y.float().unsqueeze(1)) with "
                f"BCEWithLogitsLoss, or output one score per class"
            )
        if o == t and output.is_floating_point():  # e.g. 0/1 integer labels with a sigmoid output
            raise ShapeMismatchError(
                f"model output shape {o} vs target shape {t} with integer targets: for a binary "
                f"loss convert the targets with y.float(); for class indices the output needs a class "
                f"dimension (N, C)"
            )
        raise ShapeMismatchError(
            f"model output shape {o} cannot match class-index target shape {t}: expected output "
            f"(N, C{', ' + ', '.join(map(str, t[1:])) if len(t) > 1 else ''}) with N = {t[0] if t else '?'}"
        )
    if o != t:
        hint = ""
        if o == t + (1,):
            hint = " (use target.unsqueeze(-1) or output.squeeze(-1))"
        elif t == o + (1,):
            hint = " (use target.squeeze(-1) or output.unsqueeze(-1))"
        raise ShapeMismatchError(f"model output shape {o} does not match target shape {t}{hint}")


def accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of argmax predictions equal to class-index targets.

    Args:
        output: scores ``(N, C)`` (logits or probabilities); target: ``(N,)`` int64.
    Returns:
        0-d float tensor.
    """
    if output.dim() < 2 or output.shape[1] < 2:
        raise ShapeMismatchError(
            f"accuracy needs one score per class, shape (N, C) with C >= 2, got {tuple(output.shape)}: with a "
            f"single score per example the argmax is always class 0; use binary_accuracy instead")
    return (output.argmax(dim=1) == target).float().mean()


def binary_accuracy(output: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Fraction of ``output > threshold`` equal to 0/1 targets (use 0.0 for logits, 0.5 for probabilities).

    Args:
        output: ``(N, ...)``; target: same shape, values 0 or 1.
    """
    return ((output > threshold).float() == target.float()).float().mean()
