"""Recording a chapter's headline results in the executed notebook.

``record(name, value, smoke=SMOKE)`` displays a result and stores it in that output's metadata under
``course_result`` as ``{"name": str, "value": number | str, "smoke": bool}``. This format is a
contract: tests, the run report and readers take results from executed notebooks with
:func:`read_results` without running them again.

Introduced in notebooks/00_getting_started.ipynb, section 0.5.
"""
from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

__all__ = ["record", "result_entry", "read_results", "RESULT_KEY"]

RESULT_KEY = "course_result"


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
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"result name {name!r} must be letters, digits and underscores")
    return {"name": name, "value": _plain(value), "smoke": bool(smoke)}


def record(name: str, value: Any, *, smoke: bool, unit: str = "") -> None:
    """Display a headline result and store it in the cell output's metadata.

    Args:
        name: a short identifier, e.g. ``"mlp_test_accuracy"`` (letters, digits, ``_``).
        value: a number (Python, NumPy or 0-d tensor) or a string.
        smoke: whether the notebook ran in smoke mode (pass the notebook's ``SMOKE``).
        unit: optional unit shown after the value (``"s"``, ``"%"``); not stored in the value.

    Returns None, so a ``record(...)`` at the end of a cell shows only the result line.
    """
    entry = result_entry(name, value, smoke=smoke)
    text = f"{name} = {_format(entry['value'])}{(' ' + unit) if unit else ''}" + ("  [smoke]" if smoke else "")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display({"text/plain": text, "text/markdown": f"**{name}** = `{_format(entry['value'])}`"
                 + (f" {unit}" if unit else "") + (" *(smoke)*" if smoke else "")},
                raw=True, metadata={RESULT_KEY: entry})


def read_results(notebook: str | Path | dict) -> dict[str, dict[str, Any]]:
    """Read every recorded result from an executed notebook, by name (the last one wins).

    Args:
        notebook: a path to an ``.ipynb`` file, or the notebook already loaded as a dict.
    Returns:
        ``{name: {"name", "value", "smoke"}}``.
    """
    nb = notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            entry = (out.get("metadata") or {}).get(RESULT_KEY)
            if entry is not None:
                found[entry["name"]] = entry
    return found
