"""What each chapter must record, and the range each recorded value must fall in.

``EXPECTATIONS[notebook][result] = (smoke_range, full_range)``; a range is ``(low, high)`` with
``None`` for no bound, or a set of allowed strings. Smoke ranges are loose sanity checks (a loss
that fell, a sane accuracy); full ranges are the chapter's stated results, checked against the
committed outputs of ``make execute``. Every chapter notebook needs an entry here.
"""
from __future__ import annotations

from typing import Any

Range = "tuple[float | None, float | None] | set[str]"

DEVICES = {"cpu", "cuda", "mps"}

EXPECTATIONS: dict[str, dict[str, tuple[Any, Any]]] = {
    "00_getting_started": {
        "device": (DEVICES, DEVICES),
        "seeded_draws_max_abs_diff": ((0, 0), (0, 0)),
        "matvec_max_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "autograd_max_abs_error": ((0, 1e-12), (0, 1e-12)),
        "finite_diff_max_abs_error": ((1e-9, 1e-6), (1e-9, 1e-6)),
        "finite_diff_best_h": ((1e-7, 1e-4), (1e-7, 1e-4)),
        "finite_diff_best_error": ((1e-12, 1e-8), (1e-12, 1e-8)),
        "die_max_freq_error": ((0, 0.025), (0, 0.0025)),
        "lln_slope": ((-0.6, -0.4), (-0.55, -0.45)),
        "lln_error_over_theory_at_n_max": ((0.6, 1.4), (0.8, 1.2)),
        "digits_max_class_freq_error": ((0, 0.03), (0, 0.03)),
        "cross_entropy_by_hand": ((2.03, 2.04), (2.03, 2.04)),
        "cross_entropy_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "matvec_loops_over_at": ((50, None), (50, None)),
        "matmul_device_speedup": ((0.3, None), (0.3, None)),
        "g_deepest_valley_x": ((-0.75, -0.65), (-0.75, -0.65)),
        "gd_final_x_lr_0p1": ((2.07, 2.09), (2.07, 2.09)),
        "gd_last_step_lr_0p9": ((0.1, None), (0.1, None)),
        "max_stable_lr": ((0.50, 0.52), (0.50, 0.52)),
    },
}


def check(value: Any, allowed: Any) -> bool:
    """Whether ``value`` lies in ``allowed`` (a (low, high) range or a set of strings)."""
    if isinstance(allowed, set):
        return value in allowed
    low, high = allowed
    if isinstance(value, str) or isinstance(value, bool):
        return False
    return (low is None or value >= low) and (high is None or value <= high)
