"""The learner's safety net around ``fit``, ``evaluate`` and ``predict``.

Each check turns a common mistake into an error that says what is wrong and what to do, before the
first step where it can (arguments, the optimizer's parameters, labels, the validation data), and
on the first batch otherwise (what the model returns, what the loss and metrics return). A check
never changes what training computes: those that run the model do so without gradients, in
evaluation mode, and with the random generators restored afterwards.

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3 (used through ``fit``).
"""
from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import torch
from torch import nn

from .batches import TensorBatches
from .metrics import ShapeMismatchError, check_output_shape

__all__ = ["NonFiniteLossError", "check_fit_arguments", "check_optimizer_owns", "check_labels", "check_label_range",
           "model_output", "loss_value", "metric_value", "check_batch_pair", "check_data", "check_monitor",
           "check_output", "first_batch_checks", "explained", "first_loss"]


class NonFiniteLossError(FloatingPointError):
    """A training or validation loss became NaN or infinite; the message names where."""


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive_int(name: str, value: Any, *, minimum: int = 1) -> None:
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def check_fit_arguments(model: Any, loss_fn: Any, optimizer: Any, epochs: Any, *, patience: Any,
                        batch_size: Any, check_every: Any, clip_grad_norm: Any, metrics: Any) -> None:
    """Types and ranges of ``fit``'s arguments; raise ``TypeError``/``ValueError`` naming the argument."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(output, target), e.g. nn.CrossEntropyLoss(), "
                        f"got {type(loss_fn).__name__}")
    if isinstance(loss_fn, type):
        raise TypeError(f"loss_fn is the class {loss_fn.__name__}; create one: loss_fn={loss_fn.__name__}()")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, e.g. torch.optim.SGD(model.parameters(), "
                        f"lr=0.1), got {type(optimizer).__name__}")
    _positive_int("epochs", epochs, minimum=0)
    _positive_int("batch_size", batch_size)
    _positive_int("check_every", check_every)
    if patience is not None:
        _positive_int("patience (epochs without improvement before stopping)", patience)
    if clip_grad_norm is not None and not (isinstance(clip_grad_norm, (int, float)) and 0 < clip_grad_norm < math.inf):
        raise ValueError(f"clip_grad_norm must be a positive number such as 1.0, got {clip_grad_norm!r}")
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict such as {{'acc': accuracy}}, got {type(metrics).__name__}")
    for name, fn in metrics.items():
        if not isinstance(name, str) or not name or name == "loss":
            raise ValueError(f"metric names must be non-empty strings other than 'loss', got {name!r}")
        if not callable(fn):
            raise TypeError(f"metric {name!r} must be a function (output, target) -> number, got {type(fn).__name__}")


@contextlib.contextmanager
def explained(context: str) -> Iterator[None]:
    """Re-raise an error from inside torch with ``context`` first: which data, which shapes, what to check."""
    try:
        yield
    except (RuntimeError, ValueError, IndexError) as err:
        if isinstance(err, (NonFiniteLossError, ShapeMismatchError)):
            raise
        message = f"{context}. PyTorch said: {(str(err).strip().splitlines() or [''])[0]}"
        try:
            explained_err = type(err)(message)
        except TypeError:  # an error class that takes other arguments keeps its type's base
            explained_err = RuntimeError(message)
        raise explained_err from err


def first_loss(loss_fn: Callable[..., Any], out: torch.Tensor, y: torch.Tensor, first: bool) -> Any:
    """``loss_fn(out, y)``; on the first batch a failure is explained with the output's and target's shapes."""
    if not first:
        return loss_fn(out, y)
    with explained(f"loss_fn failed on the model's output {tuple(out.shape)} {out.dtype} and the target "
                   f"{tuple(y.shape)} {y.dtype}; e.g. CrossEntropyLoss wants (N, C) scores and int64 class "
                   f"indices, BCELoss probabilities in [0, 1] (BCEWithLogitsLoss takes raw scores)"):
        return loss_fn(out, y)


def check_optimizer_owns(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Refuse an optimizer that would update tensors outside ``model``, or only frozen ones."""
    own = {id(p) for p in model.parameters()}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    if held and not any(p.requires_grad for p in held):
        raise ValueError("every parameter the optimizer holds is frozen (requires_grad=False), so training "
                         "would change nothing: unfreeze some (p.requires_grad_(True)) or build the optimizer "
                         "over the trainable ones")
    foreign = sum(id(p) not in own for p in held)
    if foreign:
        raise ValueError(
            f"the optimizer holds {foreign} of {len(held)} tensors that are not parameters of this model, so "
            f"fit would not train the model you passed. Create the optimizer after the model, from it: "
            f"torch.optim.{type(optimizer).__name__}(model.parameters(), ...) (re-running a cell that builds "
            f"the model makes a new one)")


def check_monitor(monitor: str, metrics: Mapping[str, Any], has_val: bool) -> None:
    """``monitor`` must name a value ``fit`` records: ``train_loss``, ``val_acc``, ..."""
    splits = ("train", "val") if has_val else ("train",)
    known = [f"{s}_{k}" for s in splits for k in ("loss", *metrics)]
    if monitor not in known:
        hint = " (val_ values need val_data)" if monitor.startswith("val_") and not has_val else ""
        raise ValueError(f"monitor {monitor!r} is not a value fit records{hint}; choose one of {known}")


def check_data(data: Any, what: str) -> None:
    """Refuse data that cannot be iterated as batches every epoch."""
    if data is None:
        raise TypeError(f"{what} is None; pass (x, y) tensors, TensorBatches or a DataLoader")
    if isinstance(data, tuple) and len(data) == 2 and not all(isinstance(t, torch.Tensor) for t in data):
        kinds = ", ".join(type(t).__name__ for t in data)
        raise TypeError(f"{what} is a pair of ({kinds}); fit needs tensors: torch.from_numpy(x).float(), "
                        f"torch.from_numpy(y)")
    if isinstance(data, torch.utils.data.Dataset) and not isinstance(data, torch.utils.data.IterableDataset):
        raise TypeError(f"{what} is a Dataset of single examples; batch it: "
                        f"DataLoader({what}, batch_size=64, shuffle=True)")
    if not isinstance(data, Iterable):
        raise TypeError(f"{what} must be (x, y) tensors or an iterable of (x, y) batches, got {type(data).__name__}")
    if iter(data) is data:
        raise TypeError(f"{what} is a one-shot iterator (e.g. a generator), empty after the first epoch; pass "
                        f"a list of batches, TensorBatches or a DataLoader")


def _tensor_labels(data: Any) -> torch.Tensor | None:
    """The labels of in-memory data (not through MapBatches, whose function may change them)."""
    if isinstance(data, TensorBatches):
        return data.y
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[1], torch.Tensor):
        return data[1]
    return None


def check_labels(data: Any, n_classes: int, what: str) -> None:
    """All class-index labels of in-memory ``data`` lie in ``[0, n_classes)`` (checked once, up front)."""
    y = _tensor_labels(data)
    if y is None or y.is_floating_point() or y.numel() == 0:
        return
    check_label_range(y, n_classes, what)


def check_label_range(y: torch.Tensor, n_classes: int, what: str) -> None:
    """Raise when class-index labels ``y`` fall outside ``[0, n_classes)``; ``what`` names the data."""
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise ValueError(f"{what} has class labels from {lo} to {hi}, but the model outputs {n_classes} class "
                         f"scores (labels 0..{n_classes - 1}): give the last layer as many outputs as there are "
                         f"classes, or map the labels to 0..C-1")


def check_batch_pair(batch: Any, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch must be ``(x, y)`` tensors of the same length."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"each batch of {what} must be a pair (x, y), got {type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
    x, y = batch
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(f"a batch of {what} holds ({type(x).__name__}, {type(y).__name__}); both must be tensors")
    if len(x) != len(y):
        raise ValueError(f"a batch of {what} has {len(x)} inputs but {len(y)} targets")
    return x, y


def model_output(out: Any) -> torch.Tensor:
    """The model's output, which must be one tensor (not a tuple, list or dict)."""
    if isinstance(out, torch.Tensor):
        return out
    kind = type(out).__name__
    hint = (" (an nn.LSTM/GRU returns (output, state): take output, _ = self.rnn(x))"
            if isinstance(out, tuple) else "")
    raise TypeError(f"the model returned a {kind}, but fit/evaluate/predict need one tensor of outputs (N, ...): "
                    f"make forward() return only the scores{hint}")


def loss_value(loss: Any, output: torch.Tensor) -> torch.Tensor:
    """The loss, which must be a 0-d tensor connected to the output."""
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"loss_fn returned a {type(loss).__name__}; it must return a 0-d tensor computed from the "
                        f"output (no .item() inside the loss)")
    if loss.dim() != 0:
        raise ValueError(f"loss_fn returned a tensor of shape {tuple(loss.shape)}, not a single number: use the "
                         f"mean over the batch (reduction='mean', the default) instead of reduction='none'")
    if output.requires_grad and not loss.requires_grad:
        raise ValueError("loss_fn returned a value detached from the model's output, so backward() would train "
                         "nothing: compute it with torch operations on the output (no .item(), .detach() or numpy)")
    return loss


def metric_value(name: str, value: Any, device: torch.device) -> torch.Tensor:
    """A metric's batch value as a 0-d float tensor; a Python or NumPy number is accepted."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"metric {name!r} returned shape {tuple(value.shape)}; it must return the batch "
                             f"mean, one number (e.g. (pred == y).float().mean())")
        return value.detach().reshape(()).float()
    if isinstance(value, numbers.Real) or (hasattr(value, "item") and getattr(value, "size", 0) == 1):
        return torch.tensor(float(value), device=device)
    raise TypeError(f"metric {name!r} returned a {type(value).__name__}; it must return a number or a 0-d tensor")


def check_output(out: torch.Tensor, y: torch.Tensor, what: str = "the data") -> None:
    """Shape of the output against the target, and class labels against the output's classes."""
    try:
        check_output_shape(out, y)
    except ShapeMismatchError as err:
        raise ShapeMismatchError(f"{what}: {err}") from None
    if not y.is_floating_point() and out.dim() == y.dim() + 1 and y.numel():
        check_label_range(y, out.shape[1], what)


def first_batch_checks(out: Any, y: torch.Tensor, loss_fn: Callable[..., Any] | None,
                       metrics: Mapping[str, Callable[..., Any]], what: str = "the data") -> None:
    """Everything checked on a batch before it is trusted: output type and shape, labels, loss, metrics."""
    out = model_output(out)
    check_output(out, y, what)
    if loss_fn is not None:
        loss = loss_value(first_loss(loss_fn, out.float(), y, True), out)
        if not torch.isfinite(loss.detach()):
            raise NonFiniteLossError(f"the loss on the first batch of {what} is {loss.item()} before any step: "
                                     f"check it for NaN/inf (torch.isfinite(x).all())")
    for name, fn in metrics.items():
        metric_value(name, fn(out.detach(), y), out.device)
