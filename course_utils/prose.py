"""Prose that shows its numbers: a paragraph rendered from a template with the results recorded above it.

A sentence such as "the CNN reaches {mnist_cnn_test_accuracy:.1%}" must carry the number of this very
run, not the name of a variable and not a number typed by hand that drifts when the code changes. A
chapter writes such a paragraph in a code cell tagged ``prose`` whose source is hidden (the first line
is :data:`PROSE_TITLE`, a Colab form title; JupyterLab's ``source_hidden``; the book removes the input)::

    # @title The measured numbers, in words { display-mode: "form" }
    prose(\"\"\"The CNN classifies {mnist_cnn_test_accuracy:.2%} of the test digits correctly, the MLP
    {mnist_mlp_test_accuracy:.2%}.\"\"\")

The output is Markdown, so it reads as prose in JupyterLab, Colab, GitHub's notebook view and the book.
A name that has not been recorded yet is an error that says which cell to run.

Introduced in README.md ("The helper package"); the chapters use it wherever prose states a measured number.
"""
from __future__ import annotations

import string
import textwrap
from typing import Any

from .results import recorded

__all__ = ["prose", "PROSE_TITLE", "render"]

PROSE_TITLE = '# @title The measured numbers, in words { display-mode: "form" }'


def render(template: str, **values: Any) -> str:
    """The Markdown text of ``template`` with each ``{name}`` or ``{name:spec}`` filled in from the results
    recorded in this kernel (:func:`course_utils.results.recorded`) and from ``values`` (which win).

    Raises:
        ValueError: a field names nothing recorded or given, or its format does not fit the value.
    """
    if not isinstance(template, str):
        raise TypeError(f"prose() takes the paragraph as a string, got {type(template).__name__}")
    text = textwrap.dedent(template).strip()
    known = {**recorded(), **values}
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as err:
        raise ValueError(f"prose(): the template is not a valid format string ({err}); write a literal "
                         f"brace as {{{{ or }}}}") from None
    for field in fields:
        name = field.split(".")[0].split("[")[0]
        if not name or name not in known:
            so_far = ", ".join(sorted(known)) or "none"
            raise ValueError(f"prose(): no result named {name!r} has been recorded in this kernel yet; run the cell "
                             f"that records it (record({name!r}, ...)) first. Recorded so far: {so_far}")
    try:
        return text.format_map(known)
    except (ValueError, TypeError) as err:
        raise ValueError(f"prose(): a field's format does not fit its value ({err})") from None


def prose(template: str, **values: Any) -> None:
    """Display ``template`` rendered by :func:`render` as Markdown (printed outside IPython)."""
    text = render(template, **values)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display({"text/markdown": text, "text/plain": text}, raw=True)
