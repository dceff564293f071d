"""Skipping the part of a chapter that needs something this machine lacks, instead of failing.

Some sections need a program or a system package that not every platform has (chapter 09b's
speech synthesiser espeak-ng, Debian's recordings in pocketsphinx-testdata). Such a chapter calls
:func:`skip_unless` once, and starts each cell of the section with the same marker comment::

    SPEECH = skip_unless("# needs espeak-ng", shutil.which("espeak-ng") is not None, "espeak-ng",
                         install="sudo apt-get install espeak-ng (Debian/Ubuntu), brew install espeak-ng (macOS)")

    # needs espeak-ng                       <- first line of every cell of the section
    seven = espeak("seven")

When the requirement is missing, the note says what to install, and each marked cell prints one line
instead of running (an IPython input transformer replaces its code), so Run All goes on to the
sections that can run. When it is present, nothing changes.

Introduced in notebooks/09b_speech_and_healthcare.ipynb, section 9.1.
"""
from __future__ import annotations

from typing import Any

__all__ = ["skip_unless"]

_MISSING: dict[str, str] = {}   # marker -> what is missing, for every requirement not met in this kernel


def _skip_marked_cells(lines: list[str]) -> list[str]:
    """IPython input transformer: a cell whose first line is a missing requirement's marker only prints a note.

    A cell that starts with a Colab form title (``# @title ...``, as solution cells do) may carry the marker
    on its second line."""
    heads = [line.strip() for line in lines[:2]]
    first = heads[1] if len(heads) == 2 and heads[0].startswith("# @title") else (heads[0] if heads else "")
    if first in _MISSING:
        return [f"print({f'skipped: this cell needs {_MISSING[first]}, which is not available (see the note above)'!r})\n"]
    return lines


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def skip_unless(marker: str, available: bool, what: str, install: str) -> bool:
    """Run the cells that start with ``marker`` only when ``available``; return ``available``.

    Args:
        marker: a comment line, e.g. ``"# needs espeak-ng"``, that starts every cell of the section.
        available: whether the requirement is met on this machine.
        what: the requirement in words, e.g. ``"espeak-ng"``.
        install: how to get it on each platform (printed when it is missing).

    Raises:
        ValueError: ``marker`` is not a single comment line.
    """
    if not marker.startswith("#") or "\n" in marker or not marker[1:].strip():
        raise ValueError(f"marker must be one comment line such as '# needs espeak-ng', got {marker!r}")
    marker = marker.strip()
    shell = _shell()
    if shell is not None and _skip_marked_cells not in shell.input_transformers_post:
        shell.input_transformers_post.append(_skip_marked_cells)
    if available:
        _MISSING.pop(marker, None)
        return True
    _MISSING[marker] = what
    where = ("the cells that start with " + repr(marker) + " print a note instead of running" if shell is not None
             else "outside IPython the cells cannot be skipped: do not run those that start with " + repr(marker))
    print(f"NOTE: {what} is not available, so {where}. To get it: {install}. Then restart the kernel and run "
          f"the notebook again.")
    return False
