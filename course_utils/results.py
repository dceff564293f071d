"""Recording a chapter's headline results in the executed notebook, and the course's smoke mode.

A chapter's ``parameters`` cell holds ``SMOKE = False``; the next cell calls
``SMOKE = use_smoke_mode(SMOKE)``, which also honours ``COURSE_SMOKE=1`` (how the tests run) and
sets the mode once. ``record(name, value)`` then displays a result and stores it in that output's
metadata under ``course_result`` as ``{"name": str, "value": number | str, "smoke": bool}``. This
format is a contract: tests, the run report and readers take results from executed notebooks with
:func:`read_results` without running them again.

Introduced in notebooks/00_getting_started.ipynb, section 0.5.
"""
from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

__all__ = ["record", "recorded", "result_entry", "read_results", "use_smoke_mode", "smoke_mode", "RESULT_KEY",
           "SMOKE_ENV_VAR"]

RESULT_KEY = "course_result"
SMOKE_ENV_VAR = "COURSE_SMOKE"
"""Environment variable that turns on smoke mode (``1``) whatever the ``parameters`` cell says."""

_mode: dict[str, bool] = {}  # {"smoke": bool} once a chapter has called use_smoke_mode
_recorded: dict[str, float | int | str | bool] = {}   # name -> value of every result recorded in this kernel


def _env_smoke() -> bool:
    return os.environ.get(SMOKE_ENV_VAR, "0").strip().lower() in ("1", "true", "yes")


def use_smoke_mode(smoke: bool) -> bool:
    """Set the course's mode for this kernel from a chapter's ``SMOKE`` and ``COURSE_SMOKE``; return it.

    Smoke mode is on when ``smoke`` is True (papermill's ``-p SMOKE True``) or the environment
    variable ``COURSE_SMOKE`` is ``1`` (nbval and the tests). :func:`record` labels every result
    with this mode.
    """
    if not isinstance(smoke, bool):
        raise TypeError(f"SMOKE must be True or False, got {smoke!r} ({type(smoke).__name__})")
    _mode["smoke"] = smoke or _env_smoke()
    return _mode["smoke"]


def smoke_mode() -> bool:
    """The mode set by :func:`use_smoke_mode`; before any call, ``COURSE_SMOKE`` decides."""
    return _mode.get("smoke", _env_smoke())


def _plain(value: Any) -> float | int | str | bool:
    """Turn a tensor/NumPy scalar into a JSON-friendly Python value."""
    if hasattr(value, "item") and callable(value.item):
        count = value.numel() if callable(getattr(value, "numel", None)) else getattr(value, "size", 1)
        if count != 1:
            raise ValueError(f"record() takes a single number or a string, got an array of shape "
                             f"{tuple(getattr(value, 'shape', ()))}")
        value = value.item()
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"record() got a non-finite value {value}; a result must be a real number")
        return value
    raise TypeError(f"record() takes a number or a string, got {type(value).__name__}")


def _format(value: float | int | str | bool) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def result_entry(name: str, value: Any, *, smoke: bool) -> dict[str, Any]:
    """The stored form of a result, ``{"name", "value", "smoke"}``, after checking name and value."""
    if not isinstance(name, str):
        raise TypeError(f"a result name must be a string such as 'test_accuracy', got {type(name).__name__} "
                        f"{name!r}: record(name, value), name first")
    if not name or not name.isascii() or not name.replace("_", "").isalnum() or name[0].isdigit():
        raise ValueError(f"result name {name!r} must be letters, digits and underscores, not starting with a digit")
    return {"name": name, "value": _plain(value), "smoke": bool(smoke)}


def record(name: str, value: Any, *, unit: str = "", smoke: bool | None = None) -> Any:
    """Display a headline result, store it in the cell output's metadata, and return ``value``.

    Args:
        name: a short identifier, e.g. ``"mlp_test_accuracy"`` (letters, digits, ``_``).
        value: a number (Python, NumPy or 0-d tensor) or a string.
        unit: optional unit shown after the value (``"s"``, ``"%"``); not stored in the value.
        smoke: label the result as a smoke-mode one; default: the mode set by :func:`use_smoke_mode`.

    Returns ``value`` unchanged, so ``acc = record("test_accuracy", evaluate(...)["acc"])`` works;
    end a cell's last ``record(...)`` with ``;`` to show only the result line.
    """
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string such as 's' or '%', got {type(unit).__name__}")
    smoke = smoke_mode() if smoke is None else smoke
    entry = result_entry(name, value, smoke=smoke)
    _recorded[name] = entry["value"]
    text = f"{name} = {_format(entry['value'])}{(' ' + unit) if unit else ''}" + ("  [smoke]" if smoke else "")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython
        print(text)
        return value
    if get_ipython() is None:
        print(text)
    else:
        display({"text/plain": text, "text/markdown": f"**{name}** = `{_format(entry['value'])}`"
                 + (f" {unit}" if unit else "") + (" *(smoke)*" if smoke else "")},
                raw=True, metadata={RESULT_KEY: entry})
    return value


def recorded() -> dict[str, float | int | str | bool]:
    """Every result recorded in this kernel so far, ``{name: value}`` (the last value of each name)."""
    return dict(_recorded)


def read_results(notebook: str | Path | dict) -> dict[str, dict[str, Any]]:
    """Read every recorded result from an executed notebook, by name (the last one wins).

    Args:
        notebook: a path to an ``.ipynb`` file, or the notebook already loaded as a dict.
    Returns:
        ``{name: {"name", "value", "smoke"}}``.
    """
    nb = notebook if isinstance(notebook, dict) else _load_notebook(notebook)
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise ValueError(f"{'the dict given' if isinstance(notebook, dict) else notebook} is not a Jupyter "
                         f"notebook (it has no list of cells)")
    found: dict[str, dict[str, Any]] = {}
    for cell in cells:
        for out in (cell.get("outputs") or []) if isinstance(cell, dict) else []:
            entry = (out.get("metadata") or {}).get(RESULT_KEY) if isinstance(out, dict) else None
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and "value" in entry:
                found[entry["name"]] = entry
    return found


def _load_notebook(path: str | Path) -> dict[str, Any]:
    """The JSON of an ``.ipynb`` file, or an error that names the file and says what is wrong."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"read_results takes a notebook path or a loaded notebook dict, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook file")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a Jupyter notebook (not valid notebook JSON: {err})") from None
    if not isinstance(nb, dict):
        raise ValueError(f"{path} is not a Jupyter notebook (its JSON is a {type(nb).__name__}, not an object)")
    return nb
