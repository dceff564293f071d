"""Comparisons that survive another seed: each arm run over several seeds, a 95% interval per arm, and a
verdict that follows from the intervals.

A single run decides nothing: two models trained with different seeds differ by chance. :func:`compare`
runs both arms with the same seeds, reports each arm's mean and 95% confidence interval (Student's t on
the per-seed values), and says "A better" or "B better" only when the two intervals do not overlap;
overlapping intervals give "no clear difference", and fewer than two seeds give "undetermined". The rule
is conservative on purpose: what it calls a difference is one a learner can trust. When a seed moves both
arms together (the same data split, the same test set), ``paired=True`` decides from the interval of the
per-seed differences instead, which is sharper: a model behind on every split is then found behind.
:meth:`Comparison.figure` plots every seed's value with the means and intervals;
:meth:`Comparison.record` records ``<name>_seeds``, ``<name>_verdict`` and each arm's mean.

Introduced in README.md ("The helper package"); the chapters use it for their headline comparisons.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

__all__ = ["ArmSummary", "Comparison", "compare", "interval"]

VERDICTS = ("better", "no clear difference", "undetermined")


def interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its two-sided t confidence interval at ``level``.

    With one value the interval is ``(nan, nan)``: a single run says nothing about the spread.
    """
    from scipy import stats

    n = len(values)
    if n == 0:
        raise ValueError("interval() needs at least one value")
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class ArmSummary:
    """One arm of a comparison: its name, the value of each seed, the mean and the 95% interval."""
    name: str
    values: tuple[float, ...]
    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """Two arms run over the same seeds, and the verdict: ``"<name> better"``, ``"no clear difference"``
    or ``"undetermined"``."""
    metric: str
    a: ArmSummary
    b: ArmSummary
    seeds: tuple[int, ...]
    higher_is_better: bool
    verdict: str
    difference: ArmSummary | None = None   # paired: the per-seed differences a - b, their mean and interval

    def __str__(self) -> str:
        def arm(s: ArmSummary) -> str:
            spread = "" if math.isnan(s.low) else f" (95% interval {s.low:.4g} to {s.high:.4g})"
            return f"{s.name}: {self.metric} {s.mean:.4g}{spread}"
        paired = "" if self.difference is None else f"; {arm(self.difference)} (paired)"
        return f"{arm(self.a)}; {arm(self.b)}{paired}; over {len(self.seeds)} seed(s): {self.verdict}"

    def figure(self, title: str = "") -> Figure:
        """Each seed's value as a dot, each arm's mean as a bar with its 95% interval; returns the Figure."""
        from .plot import new_figure
        fig, axes = new_figure(size=(4.0, 3.0))
        ax = axes[0, 0]
        for x, s in enumerate((self.a, self.b)):
            ax.scatter([x] * len(s.values), s.values, color=f"C{x}", alpha=0.7, zorder=3, label="seeds" if x == 0 else None)
            if not math.isnan(s.low):
                ax.errorbar([x + 0.15], [s.mean], yerr=[[s.mean - s.low], [s.high - s.mean]], fmt="o", color="black",
                            capsize=5, label="mean, 95% interval" if x == 0 else None)
        ax.set_xticks([0, 1], [self.a.name, self.b.name])
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylabel(self.metric + (" (higher is better)" if self.higher_is_better else " (lower is better)"))
        ax.set_title(title or f"{self.verdict} ({len(self.seeds)} seeds)", fontsize="medium")
        ax.legend(fontsize="small")
        return fig

    def record(self, name: str) -> Comparison:
        """Record ``<name>_seeds``, ``<name>_verdict`` and ``<name>_<arm>_mean`` for both arms (and, paired,
        ``<name>_mean_difference``); returns self."""
        from .results import record
        record(f"{name}_seeds", len(self.seeds))
        record(f"{name}_verdict", self.verdict)
        for s in (self.a, self.b):
            record(f"{name}_{_key(s.name)}_mean", s.mean)
        if self.difference is not None:
            record(f"{name}_mean_difference", self.difference.mean)
        return self


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "arm"


def _verdict(a: ArmSummary, b: ArmSummary, higher_is_better: bool, difference: ArmSummary | None = None) -> str:
    if difference is not None:   # paired: does the interval of the differences a - b exclude zero?
        if math.isnan(difference.low):
            return "undetermined"
        if difference.low > 0 or difference.high < 0:
            return f"{a.name if (difference.low > 0) == higher_is_better else b.name} better"
        return "no clear difference"
    if any(math.isnan(v) for v in (a.low, a.high, b.low, b.high)):
        return "undetermined"
    if a.low > b.high or b.low > a.high:
        a_higher = a.low > b.high
        return f"{a.name if a_higher == higher_is_better else b.name} better"
    return "no clear difference"


def _run(arm: str, fn: Callable[[int], Any], seed: int) -> float:
    value = fn(seed)
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"arm {arm!r} returned {type(value).__name__} {value!r} for seed {seed}; it must return "
                        f"one number (the metric)") from None
    if not math.isfinite(number):
        raise ValueError(f"arm {arm!r} returned {number} for seed {seed}; a comparison needs finite values")
    return number


def compare(run_a: Callable[[int], Any], run_b: Callable[[int], Any], *, seeds: int | Sequence[int],
            names: tuple[str, str] = ("A", "B"), metric: str = "value", higher_is_better: bool = True,
            paired: bool = False, progress: bool = True) -> Comparison:
    """Run both arms for each seed and compare them.

    Args:
        run_a, run_b: functions ``seed -> number`` (e.g. train with that seed, return the test accuracy).
        seeds: how many seeds (0, 1, ...), or the seeds themselves; both arms get the same ones.
        names: the arms' names, used in the verdict; metric: what the number is, for the figure.
        higher_is_better: False for losses and errors.
        paired: the seed moves both arms together (same split, same test set): decide from the 95% interval of
            the per-seed differences ``a - b`` (a "better" only when it excludes zero).
        progress: a tqdm bar over the runs.
    Raises:
        ValueError: no seeds, repeated seeds, two arms with the same name, or a non-finite result;
        TypeError: an arm that is not callable or does not return a number.
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list or len(set(seed_list)) != len(seed_list):
        raise ValueError(f"seeds must be a positive count or distinct seeds, got {seeds!r}")
    if not (callable(run_a) and callable(run_b)):
        raise TypeError("run_a and run_b must be functions seed -> number")
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"names must be two different names, got {names!r}")
    from tqdm.auto import tqdm
    values: dict[str, list[float]] = {names[0]: [], names[1]: []}
    bar = tqdm(total=2 * len(seed_list), desc=f"{names[0]} vs {names[1]}", disable=not progress, leave=False)
    for seed in seed_list:
        for name, fn in zip(names, (run_a, run_b)):
            values[name].append(_run(name, fn, seed))
            bar.update()
    bar.close()
    a, b = (ArmSummary(n, tuple(values[n]), *interval(values[n])) for n in names)
    diffs = [x - y for x, y in zip(a.values, b.values)]
    difference = ArmSummary(f"{names[0]} - {names[1]}", tuple(diffs), *interval(diffs)) if paired else None
    return Comparison(metric, a, b, tuple(seed_list), higher_is_better, _verdict(a, b, higher_is_better, difference),
                      difference)
