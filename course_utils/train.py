"""The training loop: ``fit``, the five steps of chapter 03 plus named extras.

``fit`` runs the five steps a chapter first writes by hand (forward, loss, zero_grad, backward,
step) and adds what a real run needs, each as a named piece: checks before the first step
(:mod:`course_utils.checks`), one training epoch (``_Trainer.epoch``), validation, early stopping
and checkpoints (:mod:`course_utils.runstate`), device placement, progress, gradient clipping and
mixed precision. It never plots (see ``course_utils.plot``); ``evaluate`` and ``predict`` live in
:mod:`course_utils.evaluation` and ``History`` in :mod:`course_utils.history`.

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from . import checks
from . import distributed as ddp
from .checks import NonFiniteLossError
from .evaluation import Batches, LossFn, as_batches, autocast, device_of, evaluate, forward, mean_of, predict
from .history import History
from .metrics import Metric
from .runstate import EarlyStopping, RunState, log_epoch, step_scheduler

__all__ = ["History", "NonFiniteLossError", "fit", "evaluate", "predict"]


# ----------------------------------------------------------------------------- one epoch of training
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
    if ddp.world_size() == 1:  # the losses exactly as computed (a hand-written loop gives the same floats)
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


@dataclass
class _Trainer:
    """The five steps of one training step, with the extras ``fit`` adds (amp, clipping, checks)."""
    net: nn.Module
    model: nn.Module
    loss_fn: LossFn
    optimizer: torch.optim.Optimizer
    metrics: dict[str, Metric]
    device: torch.device
    amp: bool = False
    clip_grad_norm: float | None = None
    check_every: int = 50
    scaler: Any = None
    data: Any = None         # the training batches, whose labels are checked on the first step
    checked: bool = False

    def step(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """forward, loss, zero_grad, backward, step; returns the loss, the output and the target."""
        if self.checked:
            x, y = batch
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            with autocast(self.device, self.amp):
                out = self.net(x)                               # 1. forward
                loss = self.loss_fn(out, y)                     # 2. loss
        else:
            out, y, loss = self._first_forward(batch)
        self.optimizer.zero_grad(set_to_none=True)              # 3. zero_grad
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self._clip(unscale=True)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()                                     # 4. backward
            self._clip()
            self.optimizer.step()                               # 5. step
        return loss, out, y

    def _first_forward(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward and loss of the first batch, checked before the first optimizer step changes anything."""
        out, y = forward(self.net, batch, self.device, self.amp, "train_data", check=True)
        with autocast(self.device, self.amp):
            loss = checks.first_loss(self.loss_fn, out, y, True)
        checks.loss_value(loss, out)
        if out.dim() > 1 and not y.is_floating_point():
            checks.check_labels(self.data, out.shape[1], "train_data")
        self.checked = True
        return out, y, loss

    def _clip(self, unscale: bool = False) -> None:
        if self.clip_grad_norm is None:
            return
        if unscale:
            self.scaler.unscale_(self.optimizer)
        nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)

    def epoch(self, batches: Batches, epoch: int, n_steps: int | None, bar: Any, history: History) -> dict[str, float]:
        """Train one epoch; append its step losses to ``history``; return the epoch's train_ values."""
        self.model.train()
        sums = {k: torch.zeros((), device=self.device) for k in self.metrics}
        losses = _StepLosses(epoch, n_steps, history, self.check_every)
        for batch in batches:
            loss, out, y = self.step(batch)
            losses.add(loss.detach(), y.shape[0], bar)
            if self.metrics:
                with torch.no_grad():
                    for k, fn in self.metrics.items():
                        sums[k] += checks.metric_value(k, fn(out.detach(), y), self.device) * y.shape[0]
            if bar is not None:
                bar.update(1)
        loss_sum, seen = losses.flush()
        if seen == 0:
            raise ValueError("train_data yielded no batches; check its size and batch_size")
        row = {"train_loss": loss_sum / seen}
        row.update({f"train_{k}": v for k, v in mean_of({k: ddp.all_reduce_sum(v) for k, v in sums.items()},
                                                        seen).items()})
        return row


@dataclass
class _StepLosses:
    """Step losses kept on the device and checked for NaN/inf every ``check_every`` steps (one sync each)."""
    epoch: int
    n_steps: int | None
    history: History
    check_every: int
    step: int = 0
    loss_sum: float = 0.0
    seen: int = 0
    pending: list[torch.Tensor] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(self, loss: torch.Tensor, size: int, bar: Any) -> None:
        self.step += 1
        self.pending.append(loss)
        self.sizes.append(size)
        if len(self.pending) >= self.check_every:
            self.flush()
            if bar is not None:
                bar.set_postfix(epoch=self.epoch, loss=f"{self.history.step_losses[-1]:.4f}", refresh=False)

    def flush(self) -> tuple[float, int]:
        """Check and record the pending losses; return the epoch's weighted loss sum and example count."""
        if self.pending:
            values, total, count = _check_finite(self.pending, self.sizes, self.step - len(self.pending), self.epoch,
                                                 self.n_steps)
            self.loss_sum, self.seen = self.loss_sum + total, self.seen + count
            self.history.step_losses += values
            self.pending, self.sizes = [], []
        return self.loss_sum, self.seen


def _validate(model: nn.Module, val_batches: Batches, loss_fn: LossFn, metrics: Mapping[str, Metric], amp: bool,
              epoch: int, train_loss: float) -> dict[str, float]:
    """The val_ values after an epoch (every process evaluates all of it: identical models, identical values)."""
    vals = evaluate(model, val_batches, loss_fn=loss_fn, metrics=metrics, amp=amp)
    if not math.isfinite(vals["loss"]):
        raise NonFiniteLossError(
            f"validation loss became {vals['loss']} after epoch {epoch} (training loss {train_loss:.4g}): the "
            f"model's outputs on val_data overflow or val_data holds NaN/inf; lower the learning rate or check it")
    return {f"val_{k}": v for k, v in vals.items()}


def _preflight(model: nn.Module, train_batches: Batches, val_batches: Batches | None, loss_fn: LossFn,
               metrics: Mapping[str, Metric], amp: bool) -> None:
    """Check the validation data on the model before the first step, changing nothing.

    The model runs in eval mode without gradients, and every random generator is restored, so the
    training that follows computes exactly what it would without this check. (The training data is
    checked on its first batch, before the first optimizer step.)
    """
    if val_batches is None:
        return
    device, was_training = device_of(model), model.training
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        model.eval()
        try:
            batch = next(iter(val_batches), None)
            if batch is None:
                raise ValueError("val_data yielded no batches; check its size")
            out, y = forward(model, batch, device, amp, "val_data", check=True)
            checks.first_batch_checks(out, y, loss_fn, metrics, "val_data")
            n_classes = out.shape[1] if out.dim() > 1 and not y.is_floating_point() else None
        finally:
            model.train(was_training)
    if n_classes is not None:
        checks.check_labels(train_batches, n_classes, "train_data")
        checks.check_labels(val_batches, n_classes, "val_data")


# ----------------------------------------------------------------------------- fit
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
        train_data: iterable of ``(x, y)`` batches, re-iterated each epoch (a ``DataLoader``,
            :class:`~course_utils.batches.TensorBatches` or ``MapBatches``), or a pair of tensors
            (batched with ``batch_size``, shuffled with seed 0).
        val_data: the same for validation (optional), evaluated after each epoch.
        loss_fn: ``loss_fn(output, target) -> 0-d tensor``, e.g. ``nn.CrossEntropyLoss()``.
        optimizer: an optimizer over the model's parameters.
        epochs: the total number of epochs (a resumed run continues up to it).
        metrics: ``{"acc": accuracy}``: recorded as ``train_acc`` and ``val_acc``; a metric returns
            a 0-d tensor (or a Python number) per batch.
        scheduler: a learning-rate scheduler stepped once per epoch (``ReduceLROnPlateau`` gets
            the monitored value).
        clip_grad_norm: clip the global gradient norm to this value.
        amp: mixed precision (float16 with gradient scaling on CUDA, bfloat16 on CPU).
        patience: stop when ``monitor`` has not improved for this many epochs; at the end, early
            stop or not, the model holds the best epoch's weights. ``monitor`` (default ``val_loss``,
            or ``train_loss`` without val_data) ends in ``loss`` (lower is better) or names a metric
            (higher is better), e.g. ``val_acc``.
        checkpoint: a file written atomically after every epoch (model, optimizer, scheduler,
            epoch, history, RNG and batch-order state; the last epoch's weights and the best ones
            separately). If it exists and ``resume`` is True, training continues from it exactly as
            if never interrupted, also to more epochs than first asked; a finished run returns at
            once. Use ``resume=False`` to start over.
        check_every: steps between checks of the loss for NaN/inf (each check is one host sync).
        compile: train through ``torch.compile(model)`` (the weights stay those of ``model``); the
            first steps are slow while it compiles, later ones can be faster, mostly on GPUs.
        progress: show a tqdm progress bar (default: yes, except when ``COURSE_HEADLESS=1``).
        verbose: print a line of metrics for up to ten epochs.

    Before any weight changes ``fit`` checks its arguments, that the optimizer holds this model's
    trainable parameters, the validation data against the model (without changing any state), the
    first training batch (what the model returns, the loss, the metrics) and every class label of
    in-memory data against the model's outputs. Each mistake raises an error that says what to
    change (see :mod:`course_utils.checks`).

    Under ``torch.distributed`` (a script launched with ``torchrun``), ``fit`` trains a
    DistributedDataParallel copy of ``model``: each process takes its share of every batch (so
    ``batch_size`` stays the global batch), losses and metrics are summed over processes, and only
    process 0 prints, shows progress and writes the checkpoint. See :mod:`course_utils.distributed`.

    Raises:
        NonFiniteLossError: the training or validation loss became NaN/inf (the message says where).
        ShapeMismatchError: the model output's shape cannot match the target's.
        CheckpointError: the checkpoint is unreadable or belongs to another model/optimizer.
    """
    checks.check_fit_arguments(model, loss_fn, optimizer, epochs, patience=patience, batch_size=batch_size,
                               check_every=check_every, clip_grad_norm=clip_grad_norm, metrics=metrics or {})
    metrics = dict(metrics or {})
    checks.check_optimizer_owns(model, optimizer)
    checks.check_data(train_data, "train_data")
    if val_data is not None:
        checks.check_data(val_data, "val_data")
    monitor = monitor or ("val_loss" if val_data is not None else "train_loss")
    checks.check_monitor(monitor, metrics, val_data is not None)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.is_dir():
        raise IsADirectoryError(f"checkpoint={str(ckpt)!r} is a folder; give a file name such as {str(ckpt / 'run.pt')!r}")
    device = device_of(model)
    train_batches = ddp.shard_batches(as_batches(train_data, batch_size, shuffle=True, device=device))
    val_batches = None if val_data is None else as_batches(val_data, max(batch_size, 1024), shuffle=False, device=device)
    _preflight(model, train_batches, val_batches, loss_fn, metrics, amp)

    net = ddp.wrap_model(model)
    if compile:
        net = cast(nn.Module, torch.compile(net))
    trainer = _Trainer(net, model, loss_fn, optimizer, metrics, device, amp,
                       clip_grad_norm, check_every,
                       torch.amp.GradScaler("cuda") if amp and device.type == "cuda" else None, train_batches)
    stopper = EarlyStopping(monitor, patience)
    run = RunState(model, optimizer, scheduler, trainer.scaler, train_batches, stopper)
    history, start = History(), 0
    if ckpt is not None and resume and ckpt.exists():
        history, start = run.resume(ckpt, epochs)
        if verbose and ddp.is_main_process():
            print(f"resumed from {ckpt} after epoch {start}/{epochs}")
    if not history.stopped_early:
        _train_epochs(trainer, run, history, val_batches, start, epochs, ckpt,
                      progress=progress, verbose=verbose and ddp.is_main_process())
    stopper.restore_best(model)  # early stop or not: the best epoch's weights (with patience)
    return history


def _train_epochs(trainer: _Trainer, run: RunState, history: History, val_batches: Batches | None,
                  start: int, epochs: int, ckpt: Path | None, *, progress: bool | None, verbose: bool) -> None:
    """Epochs ``start + 1 .. epochs``: train, validate, schedule, early-stop, log and save each."""
    try:
        n_steps: int | None = len(run.batches)
    except TypeError:
        n_steps = None
    show = progress if progress is not None else os.environ.get("COURSE_HEADLESS", "0") != "1"
    bar = _progress(n_steps * (epochs - start) if n_steps else None, "fit",
                    show and ddp.is_main_process() and epochs > start)
    log_every = max(1, epochs // 10)
    try:
        for epoch in range(start + 1, epochs + 1):
            t0 = time.perf_counter()
            ddp.set_epoch(run.batches, epoch)
            row: dict[str, float] = {"epoch": epoch, **trainer.epoch(run.batches, epoch, n_steps, bar, history)}
            if val_batches is not None:
                row.update(_validate(run.model, val_batches, trainer.loss_fn, trainer.metrics, trainer.amp,
                                     epoch, row["train_loss"]))
            row["lr"] = float(trainer.optimizer.param_groups[0]["lr"])
            row["time"] = time.perf_counter() - t0
            history.epochs.append(row)
            step_scheduler(run.scheduler, row[run.stopper.monitor])
            stop = run.stopper.update(row, run.model, history)
            if verbose and (epoch % log_every == 0 or epoch == epochs or stop or epoch == start + 1):
                log_epoch(row, epochs, stop, history.best_epoch)
            if ckpt is not None:
                if ddp.is_main_process():
                    run.save(ckpt, history, epoch)
                ddp.barrier()  # no process runs ahead of the checkpoint it may resume from
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
