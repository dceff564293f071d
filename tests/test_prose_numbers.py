"""Prose that shows its numbers (issue 22, item 3), checked on every committed chapter.

A reader wants "the CNN reaches 90.6%", not "compare `cnn_test_accuracy` with ...", and a number typed by
hand drifts from the run that made it. So, in every chapter:

- no markdown cell (and no ``prose()`` template) names a recorded result in backticks;
- a decimal number in a markdown cell or in the literal text of a ``prose()`` template is either rendered
  from a recorded result (a ``{field}`` of a prose cell) or declared a fixed fact in the notebook's
  ``metadata.course.facts`` (``{"0.5": "the decision threshold"}``: a constant of the method, a dataset
  size, a goal, a published result of another course), and every declared fact occurs in the chapter;
- a prose cell is a code cell tagged ``prose`` whose first line is ``PROSE_TITLE`` (a Colab form title),
  with its source hidden, and the committed run rendered it as Markdown.

Code spans, fenced code, link targets, headings and section references ("section 4.2") are not claims.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from course_utils.prose import PROSE_TITLE
from course_utils.results import read_results

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
NUMBER = re.compile(r"(?<![\w.])\d*\.\d+(?!\w|\.\d)")
REFERENCE = re.compile(r"(?:[Ss]ections?|§|[Cc]hapters?|[Ee]xercises?|[Ff]igures?|[Tt]ables?)\s+\d+[a-z]?\.\d+"
                       r"(?:(?:,\s*|\s+and\s+|\s+or\s+|\s+to\s+|[-–])\d+[a-z]?\.\d+)*")
BACKTICKED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def _claims(text: str) -> str:
    """``text`` without what is not a claim: code, link targets, URLs, headings, section references."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", "", text)
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    return REFERENCE.sub("", text)


def _is_prose_cell(cell: dict) -> bool:
    return cell["cell_type"] == "code" and "".join(cell["source"]).startswith(PROSE_TITLE)


def _templates(source: str) -> list[str]:
    """The literal text of every string given to ``prose(...)`` in a prose cell, fields removed."""
    texts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "prose" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                texts.append(re.sub(r"\{[^{}]*\}", " ", arg.value.replace("{{", "(").replace("}}", ")")))
    return texts


def prose_problems(nb: dict, recorded: set[str]) -> list[str]:
    """Everything in ``nb`` that breaks the rules in this module's docstring, one line each."""
    facts = (nb.get("metadata", {}).get("course", {}) or {}).get("facts", {})
    problems = [f"facts: {k!r} must be a decimal number declared with a reason" for k, v in facts.items()
                if not (NUMBER.fullmatch(k) and isinstance(v, str) and v.strip())]
    seen: set[str] = set()
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            texts = ["".join(cell["source"])]
        elif _is_prose_cell(cell):
            texts = _templates("".join(cell["source"]))
            meta = cell.get("metadata", {})
            if "prose" not in meta.get("tags", []) or meta.get("cellView") != "form" or \
                    not meta.get("jupyter", {}).get("source_hidden"):
                problems.append(f"cell {i}: a prose cell needs tag 'prose', cellView 'form' and jupyter.source_hidden")
            if not any("text/markdown" in out.get("data", {}) for out in cell.get("outputs", [])):
                problems.append(f"cell {i}: prose cell has no rendered Markdown output; re-execute the chapter")
        else:
            continue
        for text in texts:
            problems += [f"cell {i}: names the recorded result `{name}` where the reader wants its value; render "
                         f"it in a prose cell" for name in BACKTICKED.findall(text) if name in recorded]
            for number in NUMBER.findall(_claims(text)):
                seen.add(number)
                if number not in facts:
                    problems.append(f"cell {i}: states {number} by hand; render it from a recorded result or "
                                    f"declare it in metadata.course.facts with the reason it is fixed")
    problems += [f"facts: {k!r} is declared but never stated; remove it" for k in facts if k not in seen]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_states_numbers_not_names(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = prose_problems(nb, set(read_results(nb)))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def _nb(*cells, facts=None):
    return {"metadata": {"course": {"facts": facts or {}}}, "cells": list(cells)}


def _md(text):
    return {"cell_type": "markdown", "source": [text], "metadata": {}}


def _prose(template, tags=("prose",), rendered=True):
    return {"cell_type": "code", "source": [f'{PROSE_TITLE}\nprose("""{template}""")'],
            "metadata": {"tags": list(tags), "cellView": "form", "jupyter": {"source_hidden": True}},
            "outputs": [{"output_type": "display_data", "data": {"text/markdown": "x"}}] if rendered else []}


def test_the_rules_catch_each_kind_of_problem():
    recorded = {"cnn_acc"}
    good = _nb(_md("## 4.2 Pooling\nSee section 4.1 and 4.3, `lr=0.01`, [paper](https://arxiv.org/abs/1706.03762)."),
               _md("Threshold 0.5 everywhere."), _prose("The CNN reaches {cnn_acc:.1%}; chance is 0.5."),
               facts={"0.5": "the decision threshold"})
    assert prose_problems(good, recorded) == []
    cases = {
        "names the recorded result `cnn_acc`": _nb(_md("Compare `cnn_acc` with the MLP.")),
        "states 0.91 by hand": _nb(_md("The CNN reaches 0.91.")),
        "states 0.12 by hand": _nb(_prose("{cnn_acc:.2f} beats 0.12.")),
        "tag 'prose'": _nb(_prose("{cnn_acc}", tags=())),
        "no rendered Markdown output": _nb(_prose("{cnn_acc}", rendered=False)),
        "declared but never stated": _nb(_md("nothing"), facts={"0.3": "a rate"}),
        "must be a decimal number": _nb(_md("0.3"), facts={"0.3": "", "abc": "x"}),
    }
    for message, nb in cases.items():
        assert any(message in p for p in prose_problems(nb, recorded)), message
