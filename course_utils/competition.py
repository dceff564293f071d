"""A small competition that runs offline: a held-out test set, a scorer and a local leaderboard file.

The test labels are split once, by a seed, into a *public* half, whose score a submission sees at once, and
a *private* half, which ranks the final standings, as on Kaggle. Choosing among many submissions by their
public score overfits the public half; the private half shows by how much. Offline nothing is truly
hidden (the labels are in the dataset), so this is an honour system: train on ``train``, tune on ``val``,
and look at the test set only through :meth:`Competition.submit`.

The leaderboard is a CSV file, one line per submission, only ever appended to: a failed or repeated
submission changes nothing, and a file that is not a leaderboard is refused, never overwritten.

Introduced in notebooks/13_next_steps.ipynb, section 13.2.
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["Competition", "Entry", "default_leaderboard"]

COLUMNS = ("team", "entry", "public", "private", "submitted", "predictions_sha256")


def default_leaderboard(name: str) -> Path:
    """Where a competition keeps its leaderboard unless told otherwise: ``$COURSE_CACHE_DIR/leaderboards/<name>.csv``."""
    cache = Path(os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "course_utils")
    return cache / "leaderboards" / f"{name}.csv"


@dataclass(frozen=True)
class Entry:
    """One scored submission: accuracy on the public and on the private half of the test set."""
    team: str
    entry: str
    public: float
    private: float

    def __str__(self) -> str:
        return f"{self.team} / {self.entry}: public {self.public:.4f}, private {self.private:.4f}"


class Competition:
    """Classification accuracy on ``test_y``, scored on a public and a private half.

    Args:
        name: names the leaderboard file; test_y: the held-out labels (N,); n_classes: how many classes;
        seed: which labels go to the public half; leaderboard: the CSV file (default :func:`default_leaderboard`).
    """

    def __init__(self, name: str, test_y: Any, n_classes: int, *, seed: int = 0, leaderboard: str | Path | None = None):
        if not isinstance(name, str) or not name.strip() or any(c in name for c in r'/\:'):
            raise ValueError(f"name must be a short word for the leaderboard file, got {name!r}")
        self.name, self.n_classes = name, int(n_classes)
        self._y = self._labels(test_y, "test_y")
        if len(self._y) < 2:
            raise ValueError(f"a competition needs at least 2 test labels (a public and a private one), got {len(self._y)}")
        order = np.random.default_rng(seed).permutation(len(self._y))
        self._public = np.zeros(len(self._y), dtype=bool)
        self._public[order[: len(order) // 2]] = True
        self.leaderboard_file = Path(leaderboard) if leaderboard is not None else default_leaderboard(name)

    def __len__(self) -> int:
        return len(self._y)

    def _labels(self, values: Any, what: str) -> np.ndarray:
        """``values`` as an int array of class indices, or an error that says how to fix it."""
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        try:
            arr = np.asarray(values)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{what} must be an array of class indices, got {type(values).__name__}") from err
        if arr.ndim == 2 and arr.shape[1] == self.n_classes:
            raise ValueError(f"{what} has shape {arr.shape}: a score per class, not a class per example; pass "
                             f"its argmax over classes, e.g. logits.argmax(1)")
        if arr.ndim != 1 or arr.dtype.kind not in "iub" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
            raise ValueError(f"{what} must be one whole-number class index per example (1-D), got shape {arr.shape} "
                             f"of {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_classes):
            raise ValueError(f"{what} holds classes outside 0..{self.n_classes - 1} (min {arr.min()}, max {arr.max()})")
        return arr.astype(np.int64)

    def public_mask(self) -> np.ndarray:
        """A boolean array (N,): True for the test examples of the public half."""
        return self._public.copy()

    def score(self, predictions: Any) -> tuple[float, float]:
        """``(public, private)`` accuracy of ``predictions`` (one class index per test example); saves nothing."""
        pred = self._labels(predictions, "predictions")
        if len(pred) != len(self._y):
            raise ValueError(f"predictions has {len(pred)} entries; the test set has {len(self._y)}: predict every "
                             f"test example, in the order given")
        right = pred == self._y
        return float(right[self._public].mean()), float(right[~self._public].mean())

    def submit(self, predictions: Any, *, team: str, entry: str) -> Entry:
        """Score ``predictions`` and append them to the leaderboard (the same predictions under the same team and
        entry name are recorded once); returns the :class:`Entry`."""
        for label, value in (("team", team), ("entry", entry)):
            if not isinstance(value, str) or not value.strip() or any(c in value for c in ",\n\r"):
                raise ValueError(f"{label} must be a non-empty name without commas or line breaks, got {value!r}")
        public, private = self.score(predictions)
        digest = hashlib.sha256(self._labels(predictions, "predictions").tobytes()).hexdigest()[:16]
        rows = self.rows()
        if not any(r["team"] == team and r["entry"] == entry and r["predictions_sha256"] == digest for r in rows):
            self.leaderboard_file.parent.mkdir(parents=True, exist_ok=True)
            new = not self.leaderboard_file.exists() or self.leaderboard_file.stat().st_size == 0
            with open(self.leaderboard_file, "a", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                if new:
                    writer.writerow(COLUMNS)
                writer.writerow([team, entry, f"{public:.6f}", f"{private:.6f}",
                                 datetime.now(timezone.utc).isoformat(timespec="seconds"), digest])
        return Entry(team, entry, public, private)

    def rows(self) -> list[dict[str, str]]:
        """Every line of the leaderboard file (none if it does not exist yet)."""
        path = self.leaderboard_file
        if not path.exists() or path.stat().st_size == 0:
            return []
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise ValueError(f"{path} is not a leaderboard of this course (its header is {reader.fieldnames}); "
                                 f"move it aside or pass another file as leaderboard=; it was left as it is")
            return list(reader)

    def standings(self, *, private: bool = False) -> Any:
        """The leaderboard as a pandas DataFrame, each team's best entry, ranked by the public score (or, at the
        end of a competition, by the private one)."""
        import pandas as pd
        table = pd.DataFrame(self.rows(), columns=list(COLUMNS))
        table[["public", "private"]] = table[["public", "private"]].astype(float)
        key = "private" if private else "public"
        best = table.sort_values([key, "submitted"], ascending=[False, True]).drop_duplicates("team")
        best = best.drop(columns="predictions_sha256").reset_index(drop=True)
        best.index = pd.RangeIndex(1, len(best) + 1, name="rank")
        return best
