"""The training loop: ``fit`` and ``evaluate``, with a ``History`` of every epoch.

``fit`` runs the five steps a chapter first writes by hand (forward, loss, zero_grad, backward,
step) and adds what a real run needs: device placement, progress, per-epoch metrics and time,
early stopping, gradient clipping, mixed precision, divergence and shape checks, and atomic
checkpoint/resume. It never plots (see ``course_utils.plot``).

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3.
"""
from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from . import distributed as ddp
from .batches import TensorBatches
from .metrics import Metric, check_output_shape

__all__ = ["History", "NonFiniteLossError", "fit", "evaluate", "predict"]

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message names the epoch and step."""


@dataclass
class History:
    """What ``fit`` measured: one dict per epoch, plus the loss of every step.

    ``history["val_acc"]`` is the list of that value over epochs; ``history.to_frame()`` a table.
    Keys: ``epoch``, ``train_loss``, ``train_<metric>``, ``val_loss``, ``val_<metric>``,
    ``lr`` and ``time`` (seconds of that epoch, validation included).
    """
    epochs: list[dict[str, float]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def __getitem__(self, key: str) -> list[float]:
        if not self.epochs or key not in self.epochs[-1]:
            raise KeyError(f"history has no {key!r}; it has {self.keys()}")
        return [row[key] for row in self.epochs]

    def keys(self) -> list[str]:
        return list(self.epochs[-1]) if self.epochs else []

    def __len__(self) -> int:
        return len(self.epochs)

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "step_losses": self.step_losses,
                "best_epoch": self.best_epoch, "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "History":
        return cls(epochs=[dict(r) for r in d["epochs"]], step_losses=list(d["step_losses"]),
                   best_epoch=d["best_epoch"], stopped_early=bool(d["stopped_early"]))

    def to_frame(self) -> Any:
        """The per-epoch table as a pandas DataFrame indexed by epoch."""
        import pandas as pd
        return pd.DataFrame(self.epochs).set_index("epoch")

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(empty)"
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.epochs[-1].items() if k not in ("epoch", "lr"))
        return f"History({len(self.epochs)} epochs; last: {last})"


def _as_batches(data: Batches | tuple[torch.Tensor, torch.Tensor], batch_size: int, shuffle: bool,
                device: torch.device | None = None) -> Batches:
    """A pair of tensors becomes :class:`TensorBatches` (moved to ``device`` once); anything else is used as given."""
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return TensorBatches(data[0], data[1], batch_size, shuffle=shuffle, seed=0, device=device)
    return data


def _device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    """float16 autocast on CUDA, bfloat16 on CPU; a no-op context when ``amp`` is off (it costs nothing)."""
    if not amp:
        return contextlib.nullcontext()
    if device.type not in ("cuda", "cpu"):
        raise ValueError(f"amp=True is supported on CUDA and CPU, not on {device.type}")
    return torch.autocast(device_type=device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16)


def _mean_of(sums: dict[str, torch.Tensor], n: int) -> dict[str, float]:
    if n == 0:
        raise ValueError("the data yielded no batches; check its size and batch_size")
    return {k: v.item() / n for k, v in sums.items()}


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
    sums, n = _eval_sums(model, _as_batches(data, batch_size, shuffle=False), loss_fn, metrics, amp)
    return _mean_of(sums, n)


@torch.no_grad()
def _eval_sums(model: nn.Module, batches: Batches, loss_fn: LossFn | None, metrics: Mapping[str, Metric] | None,
               amp: bool) -> tuple[dict[str, torch.Tensor], int]:
    """Batch-size-weighted sums of loss and metrics, and the number of examples."""
    device, was_training = _device_of(model), model.training
    model.eval()
    sums: dict[str, torch.Tensor] = {}
    n, checked = 0, False
    try:
        for x, y in batches:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with _autocast(device, amp):
                out = model(x)
            if not checked:
                check_output_shape(out, y)
                checked = True
            b = y.shape[0]
            vals = {} if loss_fn is None else {"loss": loss_fn(out.float(), y)}
            vals.update({k: fn(out, y) for k, fn in (metrics or {}).items()})
            for k, v in vals.items():
                sums[k] = sums.get(k, 0) + v.detach().float() * b
            n += b
    finally:
        model.train(was_training)
    return sums, n


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Model outputs for ``x`` ``(N, ...)`` in eval mode, in batches, returned on the CPU ``(N, ...)``."""
    device, was_training = _device_of(model), model.training
    model.eval()
    try:
        outs = [model(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs)


def _progress(total: int | None, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="step", leave=False, mininterval=0.5)


def _check_finite(losses: list[torch.Tensor], sizes: list[int], first_step: int, epoch: int,
                  n_steps: int | None) -> tuple[list[float], float, int]:
    """Move pending step losses to the host (one sync) and stop on the first NaN/inf.

    Returns each step's loss (over all processes' examples under torch.distributed), their
    example-weighted sum and the number of examples."""
    local = torch.stack(losses).float()
    if ddp.world()[1] == 1:  # the losses exactly as computed (a hand-written loop gives the same floats)
        values = local.tolist()
        total, counts = [v * n for v, n in zip(values, sizes)], sizes
    else:  # each step's loss over all processes' examples
        n = torch.tensor(sizes, device=local.device, dtype=torch.float32)
        total, counts = ddp.all_reduce_sum(torch.stack([local * n, n])).tolist()  # (2, steps)
        values = [t / c for t, c in zip(total, counts)]
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise NonFiniteLossError(
                f"training loss became {v} at epoch {epoch}, step {first_step + i + 1}"
                + (f" of {n_steps}" if n_steps else "")
                + ": lower the learning rate, clip gradients (clip_grad_norm=1.0) or check the inputs for NaN/inf"
            )
    return values, sum(total), int(sum(counts))


def fit(model: nn.Module, train_data: Batches | tuple[torch.Tensor, torch.Tensor],
        val_data: Batches | tuple[torch.Tensor, torch.Tensor] | None = None, *,
        loss_fn: LossFn, optimizer: torch.optim.Optimizer, epochs: int,
        metrics: Mapping[str, Metric] | None = None, scheduler: Any = None,
        clip_grad_norm: float | None = None, amp: bool = False,
        patience: int | None = None, monitor: str | None = None,
        checkpoint: str | Path | None = None, resume: bool = True,
        batch_size: int = 64, check_every: int = 50, compile: bool = False,
        progress: bool | None = None, verbose: bool = True) -> History:
    """Train ``model`` for ``epochs`` epochs and return the :class:`History`.

    Args:
        model: the network; its parameters' device is where batches are moved.
        train_data: iterable of ``(x, y)`` batches, re-iterated each epoch (a ``DataLoader`` or
            :class:`~course_utils.data.TensorBatches`), or a pair of tensors (batched with
            ``batch_size``, shuffled with seed 0).
        val_data: the same for validation (optional), evaluated after each epoch.
        loss_fn: ``loss_fn(output, target) -> 0-d tensor``, e.g. ``nn.CrossEntropyLoss()``.
        optimizer: an optimizer over the model's parameters.
        epochs: the total number of epochs (a resumed run continues up to it).
        metrics: ``{"acc": accuracy}``: recorded as ``train_acc`` and ``val_acc``.
        scheduler: a learning-rate scheduler stepped once per epoch (``ReduceLROnPlateau`` gets
            the monitored value).
        clip_grad_norm: clip the global gradient norm to this value.
        amp: mixed precision (float16 with gradient scaling on CUDA, bfloat16 on CPU).
        patience: stop when ``monitor`` has not improved for this many epochs; at the end, early
            stop or not, the model holds the best epoch's weights. ``monitor`` (default ``val_loss``, or ``train_loss`` without val_data)
            ends in ``loss`` (lower is better) or names a metric (higher is better), e.g. ``val_acc``.
        checkpoint: a file written atomically after every epoch (model, optimizer, scheduler,
            epoch, history, RNG and batch-order state). If it exists and ``resume`` is True,
            training continues from it, exactly as if never interrupted; a finished run returns
            at once. Use ``resume=False`` to start over.
        check_every: steps between checks of the loss for NaN/inf (each check is one host sync).
        compile: train through ``torch.compile(model)`` (the weights stay those of ``model``); the
            first steps are slow while it compiles, later ones can be faster, mostly on GPUs.
        progress: show a tqdm progress bar (default: yes, except when ``COURSE_HEADLESS=1``).
        verbose: print a line of metrics for up to ten epochs.

    Under ``torch.distributed`` (a script launched with ``torchrun``), ``fit`` trains a
    DistributedDataParallel copy of ``model``: each process takes its share of every batch (so
    ``batch_size`` stays the global batch), losses and metrics are summed over processes, and only
    process 0 prints, shows progress and writes the checkpoint. See :mod:`course_utils.distributed`.

    Raises:
        NonFiniteLossError: the loss became NaN/inf (message names epoch and step).
        ShapeMismatchError: the model output's shape cannot match the target's.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    device = _device_of(model)
    metrics = dict(metrics or {})
    train_batches = ddp.shard_batches(_as_batches(train_data, batch_size, shuffle=True, device=device))
    val_batches = None if val_data is None else _as_batches(val_data, max(batch_size, 1024), shuffle=False, device=device)
    main = ddp.is_main_process()
    verbose = verbose and main
    net = ddp.wrap_model(model)
    if compile:
        net = torch.compile(net)
    if monitor is None:
        monitor = "val_loss" if val_batches is not None else "train_loss"
    if monitor.startswith("val_") and val_batches is None:
        raise ValueError(f"monitor {monitor!r} needs val_data (or monitor a train_ value)")
    lower_is_better = monitor.endswith("loss")
    use_scaler = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if use_scaler else None
    history, start_epoch = History(), 0
    best_value, best_state, bad_epochs = math.inf if lower_is_better else -math.inf, None, 0

    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    if ckpt_path is not None and resume and ckpt_path.is_file():
        state = load_checkpoint(ckpt_path, map_location="cpu")  # RNG states must stay on the CPU
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise RuntimeError(f"checkpoint {ckpt_path} does not match this model/optimizer ({err}); "
                               f"delete it or pass resume=False") from err
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        if hasattr(train_batches, "load_state_dict") and state.get("batches") is not None:
            train_batches.load_state_dict(state["batches"])
        set_rng_state(state["rng"])
        history = History.from_dict(state["history"])
        start_epoch = int(state["epoch"])
        best_value, best_state, bad_epochs = state["best_value"], state["best_state"], int(state["bad_epochs"])
        if verbose:
            print(f"resumed from {ckpt_path} after epoch {start_epoch}/{epochs}")
        if history.stopped_early:
            return history

    try:
        n_steps: int | None = len(train_batches)  # type: ignore[arg-type]
    except TypeError:
        n_steps = None
    show = progress if progress is not None else os.environ.get("COURSE_HEADLESS", "0") != "1"
    bar = _progress(n_steps * (epochs - start_epoch) if n_steps else None, "fit", show and main and epochs > start_epoch)
    log_every = max(1, epochs // 10)
    checked = False
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            ddp.set_epoch(train_batches, epoch)
            sums = {k: torch.zeros((), device=device) for k in metrics}
            pending: list[torch.Tensor] = []
            sizes: list[int] = []
            loss_sum, seen, step = 0.0, 0, 0
            for step, (x, y) in enumerate(train_batches, start=1):
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                with _autocast(device, amp):
                    out = net(x)
                    if not checked:
                        check_output_shape(out, y)
                        checked = True
                    loss = loss_fn(out, y)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    if clip_grad_norm is not None:
                        scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    if clip_grad_norm is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    optimizer.step()
                b = y.shape[0]
                pending.append(loss.detach())
                sizes.append(b)
                if metrics:
                    with torch.no_grad():
                        out = out.detach()
                        for k, fn in metrics.items():
                            sums[k] += fn(out, y).float() * b
                if len(pending) >= check_every:
                    values, total, count = _check_finite(pending, sizes, step - len(pending), epoch, n_steps)
                    loss_sum, seen = loss_sum + total, seen + count
                    history.step_losses += values
                    pending, sizes = [], []
                    if bar is not None:
                        bar.set_postfix(epoch=epoch, loss=f"{history.step_losses[-1]:.4f}", refresh=False)
                if bar is not None:
                    bar.update(1)
            if pending:
                values, total, count = _check_finite(pending, sizes, step - len(pending), epoch, n_steps)
                loss_sum, seen = loss_sum + total, seen + count
                history.step_losses += values
            if seen == 0:
                raise ValueError("train_data yielded no batches; check its size and batch_size")
            row: dict[str, float] = {"epoch": epoch, "train_loss": loss_sum / seen}
            row.update({f"train_{k}": v for k, v in _mean_of({k: ddp.all_reduce_sum(v) for k, v in sums.items()},
                                                              seen).items()})
            if val_batches is not None:  # every process evaluates all of it: identical models, identical values
                row.update({f"val_{k}": v for k, v in evaluate(model, val_batches, loss_fn=loss_fn,
                                                               metrics=metrics, amp=amp).items()})
            row["lr"] = float(optimizer.param_groups[0]["lr"])
            row["time"] = time.perf_counter() - t0
            history.epochs.append(row)
            if monitor not in row:
                raise KeyError(f"monitor {monitor!r} is not among the recorded values {list(row)}")
            if scheduler is not None:
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(row[monitor])
                else:
                    scheduler.step()
            value = row[monitor]
            if (value < best_value) if lower_is_better else (value > best_value):
                best_value, bad_epochs, history.best_epoch = value, 0, epoch
                if patience is not None:
                    best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            else:
                bad_epochs += 1
            stop = patience is not None and bad_epochs >= patience
            history.stopped_early = stop
            if (stop or epoch == epochs) and best_state is not None:  # early stop or not: the best weights
                model.load_state_dict(best_state)
            if verbose and (epoch % log_every == 0 or epoch == epochs or stop or epoch == start_epoch + 1):
                shown = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "lr", "time"))
                print(f"epoch {epoch:>3}/{epochs}  {shown}  ({row['time']:.1f}s)"
                      + (f"  -> early stop, best epoch {history.best_epoch}" if stop else ""))
            if ckpt_path is not None and main:
                save_checkpoint(ckpt_path, {
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "scaler": scaler.state_dict() if scaler is not None else None,
                    "batches": train_batches.state_dict() if hasattr(train_batches, "state_dict") else None,
                    "rng": rng_state(), "history": history.to_dict(), "epoch": epoch,
                    "best_value": best_value, "best_state": best_state, "bad_epochs": bad_epochs,
                })
            if ckpt_path is not None:
                ddp.barrier()  # no process runs ahead of the checkpoint it may resume from
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    return history
