"""``History``: what ``fit`` measured, one dict per epoch plus the loss of every step.

A plain dataclass with no dependence on the training loop, so plotting (``course_utils.plot``)
and checkpoints can use it without importing ``train``.

Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.3.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["History"]


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
    def from_dict(cls, d: Mapping[str, Any]) -> History:
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
