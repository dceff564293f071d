"""Graded exercises: ``check_*`` functions that explain what is wrong and never break "Run all".

Three kinds of exercise, each checked by one call that prints one line ``[name] Correct! ...``,
``[name] Not yet: ...`` or ``[name] Not attempted yet. Hint: ...`` (the grader,
:mod:`course_utils.grade`, reads these lines):

- *write it*: :func:`check_value`, :func:`check_tensor`, :func:`check_function` compare the learner's
  answer with a reference and say how it is wrong (shape, dtype, which values, too high or too low)
  without printing the expected value;
- *predict, then run*: :func:`note_prediction` before a measuring cell, :func:`check_prediction` after
  it, which says how far off the prediction was and why;
- *a mini-project*: :func:`check_project` runs the learner's training function itself, measures the
  model on held-out data, times it, and reports each measurement against its goal.

An exercise cell leaves ``None`` (or a function that returns ``None``) as the learner's answer: the
check prints a hint and returns False instead of raising, so "Run all" still works. Solutions sit in
cells tagged ``solution`` whose first line is ``# @title Solution ... { display-mode: "form" }`` (Colab
shows only the title); checks run from those cells are left off :func:`show_scorecard`, the
learner's own scorecard at the end of each chapter.

Introduced in notebooks/00_getting_started.ipynb, exercises.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

__all__ = ["check_value", "check_tensor", "check_function", "note_prediction", "check_prediction", "check_project",
           "show_scorecard", "SOLUTION_TITLE"]

SOLUTION_TITLE = "# @title Solution"   # the first line of every solution cell
_RESULTS: dict[str, tuple[str, str]] = {}   # name -> (status, message): the learner's checks in this kernel
_STATE = {"in_solution": False}


def _record(name: str, status: str, message: str) -> None:
    if not _STATE["in_solution"]:
        _RESULTS[name] = (status, message)


def _report(ok: bool, name: str, message: str) -> bool:
    print(f"[{name}] " + ("Correct! " if ok else "Not yet: ") + message)
    _record(name, "correct" if ok else "not yet", message)
    return ok


def _not_attempted(name: str, hint: str) -> bool:
    print(f"[{name}] Not attempted yet. Hint: {hint}")
    _record(name, "not attempted", f"Hint: {hint}")
    return False


def _watch_solution_cells() -> None:
    """In IPython, mark the time a solution cell runs, so that its checks stay off the learner's scorecard."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_course_watches_solutions", False):
        return

    def before(info: Any) -> None:
        _STATE["in_solution"] = (getattr(info, "raw_cell", "") or "").lstrip().startswith(SOLUTION_TITLE)

    def after(result: Any) -> None:
        _STATE["in_solution"] = False

    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
    shell._course_watches_solutions = True


_watch_solution_cells()


def _how_far(value: float, expected: float) -> str:
    """How a number is wrong, without giving the answer away: the direction and the rough size."""
    if math.isnan(value):
        return "got nan (not a number)"
    if expected == 0 or value == 0:
        return f"got {value:.6g}, which is too {'high' if value > expected else 'low'}"
    if value != 0 and (value > 0) != (expected > 0):
        return f"got {value:.6g}, which has the wrong sign"
    rel = (value - expected) / abs(expected)
    if abs(rel) >= 1:
        return f"got {value:.6g}, about {value / expected:.2g} times the answer"
    size = "less than 1%" if abs(rel) < 0.01 else f"about {abs(rel):.0%}"
    return f"got {value:.6g}, which is too {'high' if rel > 0 else 'low'} by {size}"


def check_value(answer: Any, expected: float | int | str, *, name: str, hint: str,
                rtol: float | None = None, atol: float | None = None) -> bool:
    """Grade a single number or string answer.

    Args:
        answer: the learner's value (None means not attempted); a 0-d tensor is accepted.
        expected: the right value; a whole number (``int``) must be matched exactly, a float within
            ``rtol``/``atol`` (default 1e-4 relative, 1e-6 absolute).
        name: the exercise's name, shown in the message; hint: shown when not attempted.
    Returns:
        True when correct. Neither message shows ``expected``; a wrong number is said to be too
        high or too low, and by roughly how much.
    """
    if answer is None:
        return _not_attempted(name, hint)
    if isinstance(expected, str):
        ok = str(answer).strip().casefold() == expected.strip().casefold()
        return _report(ok, name, "that is it" if ok else f"{answer!r} is not it. Hint: {hint}")
    try:
        value = float(answer.item() if hasattr(answer, "item") else answer)
    except (TypeError, ValueError, RuntimeError):
        return _report(False, name, f"expected a number, got {type(answer).__name__} {answer!r}")
    exact = isinstance(expected, int) and not isinstance(expected, bool)
    rtol = (0.0 if exact else 1e-4) if rtol is None else rtol
    atol = (0.0 if exact else 1e-6) if atol is None else atol
    ok = abs(value - expected) <= atol + rtol * abs(expected)
    return _report(ok, name, "your value matches" if ok else _how_far(value, float(expected)))


def check_tensor(answer: Any, expected: torch.Tensor, *, name: str, hint: str,
                 rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Grade a tensor answer: type, shape, dtype kind, then values (says where the first wrong one is)."""
    if answer is None:
        return _not_attempted(name, hint)
    if not isinstance(answer, torch.Tensor):
        return _report(False, name, f"expected a torch.Tensor, got {type(answer).__name__}")
    if answer.shape != expected.shape:
        return _report(False, name, f"shape {tuple(answer.shape)} but expected {tuple(expected.shape)}")
    if answer.is_floating_point() != expected.is_floating_point():
        return _report(False, name, f"dtype {answer.dtype} but expected {expected.dtype}")
    a, e = answer.detach().cpu().double(), expected.detach().cpu().double()
    bad = ~torch.isclose(a, e, rtol=rtol, atol=atol)
    if bad.any():
        i = int(bad.flatten().nonzero()[0])
        idx = tuple(int(v) for v in torch.unravel_index(torch.tensor(i), e.shape)) if e.dim() else ()
        return _report(False, name, f"{int(bad.sum())} of {e.numel()} values differ; at index {idx} you "
                                    + _how_far(float(a.flatten()[i]), float(e.flatten()[i])))
    return _report(True, name, f"shape {tuple(answer.shape)}, all values match")


def check_function(fn: Callable[..., Any], reference: Callable[..., Any], inputs: Sequence[tuple[Any, ...]], *,
                   name: str, hint: str, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Grade a learner's function by comparing it with ``reference`` on each tuple of ``inputs``.

    A function that returns None on the first input counts as not attempted; one that raises is
    reported with the exception.
    """
    if fn is None:
        return _not_attempted(name, hint)
    for args in inputs:
        try:
            got = fn(*args)
        except Exception as err:  # the learner's code may fail in any way; report it, don't crash
            return _report(False, name, f"raised {type(err).__name__}: {err}")
        if got is None:
            return _not_attempted(name, hint)
        wrong = _function_result_wrong(got, reference(*args), rtol, atol)
        if wrong:
            shown = [tuple(a.shape) if hasattr(a, "shape") else a for a in args]
            return _report(False, name, f"for inputs {shown}: {wrong}")
    return _report(True, name, f"matches the reference on {len(inputs)} input(s)")


def _function_result_wrong(got: Any, want: Any, rtol: float, atol: float) -> str:
    """How ``got`` differs from ``want`` (type, shape, the first differing value), without showing ``want``;
    "" when they match."""
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"returned a {type(got).__name__}, expected a tensor"
        if got.shape != want.shape:
            return f"shape {tuple(got.shape)} but expected {tuple(want.shape)}"
        a, e = got.detach().cpu().double(), want.detach().cpu().double()
        bad = ~torch.isclose(a, e, rtol=rtol, atol=atol)
        if not bad.any():
            return ""
        i = int(bad.flatten().nonzero()[0])
        idx = tuple(int(v) for v in torch.unravel_index(torch.tensor(i), e.shape)) if e.dim() else ()
        return (f"{int(bad.sum())} of {e.numel()} values differ; at index {idx} you "
                + _how_far(float(a.flatten()[i]), float(e.flatten()[i])))
    if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(got, (int, float)):
        return "" if abs(got - want) <= atol + rtol * abs(want) else _how_far(float(got), float(want))
    return "" if got == want else f"returned {got!r}, which is not it"


def note_prediction(prediction: Any, *, name: str, hint: str) -> bool:
    """The learner's prediction, written down before the cell that measures it; True once there is one.

    Prints ``Not attempted yet`` with ``hint`` while ``prediction`` is None, else ``Noted: ...``;
    :func:`check_prediction`, after the measurement, says how close it was.
    """
    if prediction is None:
        return _not_attempted(name, hint)
    print(f"[{name}] Noted: you predict {prediction!r}. Run the cells below; the check after the measurement "
          f"says how close you were.")
    _record(name, "noted", f"you predict {prediction!r}")
    return True


def _prediction_error(prediction: Any, measured: Any, within: float | None, factor: float | None) -> tuple[bool, str]:
    if isinstance(measured, str):
        ok = str(prediction).strip().casefold() == measured.strip().casefold()
        return ok, f"you predicted {prediction!r}; the measurement says {measured!r}"
    if isinstance(measured, (tuple, list, torch.Size)):
        ok = isinstance(prediction, (tuple, list, torch.Size)) and tuple(prediction) == tuple(measured)
        return ok, f"you predicted {prediction!r}; measured {tuple(measured)!r}"
    if isinstance(measured, bool):
        return prediction is measured, f"you predicted {prediction!r}; measured {measured!r}"
    try:
        p, m = float(prediction), float(measured)
    except (TypeError, ValueError):
        return False, f"expected a number, got {type(prediction).__name__} {prediction!r}"
    text = f"you predicted {_fmt(p)}; measured {_fmt(m)}"
    if within is not None:
        off = abs(p - m)
        return off <= within, f"{text}: off by {off:.3g} ({'within' if off <= within else 'more than'} {within:g})"
    assert factor is not None
    ratio = max(p / m, m / p) if p > 0 and m > 0 else math.inf
    return ratio <= factor, f"{text}: a factor of {ratio:.3g} apart ({'within' if ratio <= factor else 'more than'} {factor:g})"


def check_prediction(prediction: Any, measured: Any, *, name: str, hint: str, why: str,
                     within: float | None = None, factor: float | None = None) -> bool:
    """Grade a prediction against what a cell measured: how far off it was, and why the result is what it is.

    Args:
        prediction: the learner's prediction (None means not attempted): a number, a string (one of the
            choices, compared without case), a shape tuple, or a bool, like ``measured``.
        measured: what the chapter measured.
        within: for numbers, the largest absolute difference counted as right, or
        factor: for positive numbers, the largest ratio (e.g. 2 for "within a factor of two").
        why: one or two sentences that explain the measured result, shown with every verdict.
    Raises:
        ValueError: a number is measured but neither ``within`` nor ``factor`` is given (or both are).
    """
    numeric = not isinstance(measured, (str, tuple, list, torch.Size, bool))
    if numeric and (within is None) == (factor is None):
        raise ValueError(f"check_prediction({name!r}): give exactly one of within= (an absolute tolerance) or "
                         f"factor= (a ratio), got within={within!r}, factor={factor!r}")
    if prediction is None:
        return _not_attempted(name, hint)
    ok, text = _prediction_error(prediction, measured, within, factor)
    return _report(ok, name, f"{text}. Why: {why}")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:.4g}"


def check_project(build: Callable[[], Any] | None, measure: Callable[[Any], Mapping[str, float]],
                  goals: Mapping[str, tuple[str, float | None]], *, name: str, hint: str) -> bool:
    """Grade a mini-project: run the learner's ``build``, measure what it returns, compare with the goals.

    Args:
        build: the learner's function without arguments that trains and returns a model (None, or a
            function that returns None, means not attempted). Its wall-clock time is measured as ``seconds``.
        measure: the checker's own function, model -> {measurement: number}, on data ``build`` did not
            train on (e.g. ``{"test accuracy": ..., "parameters": ...}``).
        goals: measurement -> (``">="`` or ``"<="``, target); a target of None reports the measurement only.
    Raises:
        ValueError: a goal has an unknown comparison (a mistake in the chapter, not the learner's).
    """
    for key, (op, _) in goals.items():
        if op not in (">=", "<="):
            raise ValueError(f"check_project({name!r}): goal {key!r} compares with {op!r}; use '>=' or '<='")
    if build is None:
        return _not_attempted(name, hint)
    start = time.perf_counter()
    try:
        model = build()
    except Exception as err:  # the learner's training code may fail in any way: say how, don't crash
        return _report(False, name, f"your build() raised {type(err).__name__}: {err}")
    seconds = time.perf_counter() - start
    if model is None:
        return _not_attempted(name, hint)
    try:
        measured = {**dict(measure(model)), "seconds": seconds}
    except Exception as err:  # a model of the wrong shape or type fails here
        return _report(False, name, f"measuring what build() returned raised {type(err).__name__}: {err}")
    parts, missed = [], []
    for key, (op, target) in goals.items():
        if key not in measured:
            raise ValueError(f"check_project({name!r}): goal {key!r} is not measured; measured: {sorted(measured)}")
        value = float(measured[key])
        if target is None:
            parts.append(f"{key} {_fmt(value)}")
            continue
        met = value >= target if op == ">=" else value <= target
        parts.append(f"{key} {_fmt(value)} (goal {op} {_fmt(target)}{'' if met else ': missed'})")
        missed += [] if met else [f"{key} ({'too low' if op == '>=' else 'too high'})"]
    parts += [f"{key} {_fmt(float(v))}" for key, v in measured.items() if key not in goals]
    verdict = "; ".join(parts)
    return _report(not missed, name, verdict if not missed else f"missed the goal for {', '.join(missed)}. {verdict}")


def show_scorecard() -> None:
    """Print the learner's scorecard for this kernel: every exercise checked so far, solutions' checks left out.

    The same card, from a headless run: ``python -m course_utils.grade NOTEBOOK``.
    """
    from .grade import ExerciseResult, format_scorecard
    results = [ExerciseResult(name, status, message) for name, (status, message) in _RESULTS.items()]
    print(format_scorecard(results, "your answers in this notebook"))
    if not results:
        print("No exercise has been checked yet in this kernel: run the exercise cells above, then this cell again.")
