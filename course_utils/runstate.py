"""What a training run keeps between epochs and across restarts: early stopping and checkpoints.

``EarlyStopping`` tracks the best monitored value, its epoch and weights; ``RunState`` writes
everything a run needs to continue (the last epoch's weights and the best ones separately, the
optimizer, scheduler, RNG and batch-order states) and restores it, refusing a checkpoint of
another model or optimizer, or one that holds more epochs than asked for, before anything loads.

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3 (used through ``fit``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import CheckpointError, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .history import History

__all__ = ["EarlyStopping", "RunState", "check_same_run", "step_scheduler", "log_epoch"]


# ----------------------------------------------------------------------------- early stopping
@dataclass
class EarlyStopping:
    """The best value of ``monitor`` so far, its epoch and weights, and the epochs since it improved."""
    monitor: str
    patience: int | None
    best_value: float = math.nan
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0

    def __post_init__(self) -> None:
        if math.isnan(self.best_value):
            self.best_value = math.inf if self.lower_is_better else -math.inf

    @property
    def lower_is_better(self) -> bool:
        return self.monitor.endswith("loss")

    def update(self, row: Mapping[str, float], model: nn.Module, history: History) -> bool:
        """Take one epoch's values; keep the best weights (with ``patience``); return True to stop."""
        value = row[self.monitor]
        if (value < self.best_value) if self.lower_is_better else (value > self.best_value):
            self.best_value, self.bad_epochs, history.best_epoch = value, 0, int(row["epoch"])
            if self.patience is not None:
                self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            self.bad_epochs += 1
        history.stopped_early = self.patience is not None and self.bad_epochs >= self.patience
        return history.stopped_early

    def restore_best(self, model: nn.Module) -> None:
        """Give ``model`` the best epoch's weights (only with ``patience``)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_state": self.best_state, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best_value, self.bad_epochs = float(state["best_value"]), int(state["bad_epochs"])
        self.best_state = state["best_state"]


# ----------------------------------------------------------------------------- checkpoints
@dataclass
class RunState:
    """Everything a checkpoint holds besides the epoch and history: what is restored on resume."""
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any
    batches: Any
    stopper: EarlyStopping

    def save(self, path: Path, history: History, epoch: int) -> None:
        """Write the checkpoint atomically: the last epoch's weights, and the best ones separately."""
        save_checkpoint(path, {
            "format": 2, "model_type": type(self.model).__name__, "optimizer_type": type(self.optimizer).__name__,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "batches": self.batches.state_dict() if hasattr(self.batches, "state_dict") else None,
            "rng": rng_state(), "history": history.to_dict(), "epoch": epoch, **self.stopper.state_dict(),
        })

    def resume(self, path: Path, epochs: int) -> tuple[History, int]:
        """Restore the run saved in ``path``; return its history and the last epoch it finished."""
        state = load_checkpoint(path, map_location="cpu")  # RNG states must stay on the CPU
        check_same_run(path, state, self.model, self.optimizer, epochs)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise CheckpointError(f"checkpoint {path} does not match this model/optimizer ({str(err).splitlines()[0]});"
                                  f" delete it or pass resume=False to start over") from None
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        if hasattr(self.batches, "load_state_dict") and state.get("batches") is not None:
            self.batches.load_state_dict(state["batches"])
        set_rng_state(state["rng"])
        self.stopper.load_state_dict(state)
        return History.from_dict(state["history"]), int(state["epoch"])


_CHECKPOINT_KEYS = ("model", "optimizer", "rng", "history", "epoch", "best_value", "best_state", "bad_epochs")


def check_same_run(path: Path, state: Mapping[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer,
                    epochs: int) -> None:
    """Refuse, before anything is loaded, a checkpoint of another run or one that holds more epochs."""
    missing = [k for k in _CHECKPOINT_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{path} is not a checkpoint written by fit (it lacks {missing}); "
                              f"pass resume=False to start over and overwrite it")
    for kind, saved, now in (("model", state.get("model_type"), type(model).__name__),
                             ("optimizer", state.get("optimizer_type"), type(optimizer).__name__)):
        if saved is not None and saved != now:
            raise CheckpointError(f"checkpoint {path} was made with the {kind} {saved}, but this run uses {now}: "
                                  f"use the same {kind} to continue it, or pass resume=False to start over")
    if int(state["epoch"]) > epochs:
        raise ValueError(f"checkpoint {path} already holds {state['epoch']} epochs, more than epochs={epochs}: "
                         f"pass epochs >= {state['epoch']} to continue it, or resume=False to start over")


def step_scheduler(scheduler: Any, value: float) -> None:
    """Step a learning-rate scheduler once per epoch (``ReduceLROnPlateau`` gets ``value``)."""
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(value)
    else:
        scheduler.step()


def log_epoch(row: Mapping[str, float], epochs: int, stop: bool, best_epoch: int | None) -> None:
    """Print one epoch's line: its values, its time, and the early stop if there was one."""
    shown = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "lr", "time"))
    print(f"epoch {int(row['epoch']):>3}/{epochs}  {shown}  ({row['time']:.1f}s)"
          + (f"  -> early stop, best epoch {best_epoch}" if stop else ""))
