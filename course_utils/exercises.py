"""Graded exercises: ``check_*`` functions that explain what is wrong and never break "Run all".

An exercise cell leaves ``None`` (or a function that returns ``None``) as the learner's answer.
Checking it then prints a hint and returns False instead of raising, so "Run all" still works.
A wrong answer gets a message that says how it is wrong (shape, dtype, which values). Solutions
sit in a collapsed cell tagged ``solution`` that runs ``assert check_...(solution)``, and the
tests execute every such cell.

Introduced in notebooks/00_getting_started.ipynb, exercises.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = ["check_value", "check_tensor", "check_function"]


def _report(ok: bool, name: str, message: str) -> bool:
    print(f"[{name}] " + ("Correct! " if ok else "Not yet: ") + message)
    return ok


def _not_attempted(name: str, hint: str) -> bool:
    print(f"[{name}] Not attempted yet. Hint: {hint}")
    return False


def check_value(answer: Any, expected: float | int | str, *, name: str, hint: str,
                rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Grade a single number or string answer.

    Args:
        answer: the learner's value (None means not attempted); a 0-d tensor is accepted.
        expected: the right value; numbers are compared with ``rtol``/``atol``.
        name: the exercise's name, shown in the message; hint: shown when not attempted.
    Returns:
        True when correct.
    """
    if answer is None:
        return _not_attempted(name, hint)
    if isinstance(expected, str):
        return _report(str(answer) == expected, name, f"expected {expected!r}, got {answer!r}"
                       if str(answer) != expected else f"{answer!r}")
    try:
        value = float(answer.item() if hasattr(answer, "item") else answer)
    except (TypeError, ValueError, RuntimeError):
        return _report(False, name, f"expected a number, got {type(answer).__name__} {answer!r}")
    ok = abs(value - expected) <= atol + rtol * abs(expected)
    return _report(ok, name, f"{value:.6g}" if ok else f"got {value:.6g}, expected {expected:.6g}")


def check_tensor(answer: Any, expected: torch.Tensor, *, name: str, hint: str,
                 rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Grade a tensor answer: type, shape, dtype kind, then values (reports the worst element)."""
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
        return _report(False, name, f"{int(bad.sum())} of {e.numel()} values differ; at index {idx} got "
                                    f"{a.flatten()[i]:.6g}, expected {e.flatten()[i]:.6g}")
    return _report(True, name, f"shape {tuple(answer.shape)}, all values match")


def check_function(fn: Callable[..., Any], reference: Callable[..., Any], inputs: Sequence[tuple[Any, ...]], *,
                   name: str, hint: str, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Grade a learner's function by comparing it with ``reference`` on each tuple of ``inputs``.

    A function that returns None on the first input counts as not attempted; one that raises is
    reported with the exception.
    """
    for args in inputs:
        try:
            got = fn(*args)
        except Exception as err:  # the learner's code may fail in any way; report it, don't crash
            return _report(False, name, f"raised {type(err).__name__}: {err}")
        if got is None:
            return _not_attempted(name, hint)
        want = reference(*args)
        if isinstance(want, torch.Tensor):
            if not isinstance(got, torch.Tensor) or got.shape != want.shape or not torch.allclose(
                    got.detach().double(), want.detach().double(), rtol=rtol, atol=atol):
                detail = (f"shape {tuple(got.shape)} vs expected {tuple(want.shape)}"
                          if isinstance(got, torch.Tensor) and got.shape != want.shape
                          else f"got {got!r}, expected {want!r}")
                return _report(False, name, f"wrong result for input shapes "
                                            f"{[tuple(a.shape) if hasattr(a, 'shape') else a for a in args]}: {detail}")
        elif got != want:
            return _report(False, name, f"for input {args!r} got {got!r}, expected {want!r}")
    return _report(True, name, f"matches the reference on {len(inputs)} input(s)")
