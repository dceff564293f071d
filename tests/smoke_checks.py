"""What a chapter's smoke run must show, wherever it ran: its exercises as a drill, its recorded results.

``make test`` executes each chapter once in smoke mode: in JupyterLab in Chromium where the browser test
can run (``tests/test_browser.py``), else with papermill (``tests/test_notebooks.py``). Both run the same
drill copy (a plausible wrong answer before each solution) and apply these checks to what it saved.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from expectations import EXPECTATIONS, check

from course_utils.grade import CHECK_LINE, add_wrong_answers, output_text, scorecard
from course_utils.results import read_results

CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def browser_available() -> bool:
    """Whether tests/test_browser.py can run here (Chromium and Playwright installed)."""
    return CHROMIUM is not None and importlib.util.find_spec("playwright") is not None


def src(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def write_drill(path: Path, dest: Path) -> Path:
    """The chapter at ``path`` with a plausible wrong answer before each solution, written to ``dest``."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    dest.write_text(json.dumps(add_wrong_answers(nb)), encoding="utf-8")
    return dest


def check_drill(executed: dict) -> None:
    """Untouched exercises are not attempted, each wrong answer is rejected with a reason, each solution is correct."""
    learner = {**executed, "cells": [c for c in executed["cells"] if "wrong-answer" not in tags(c)]}
    assert {r.status for r in scorecard(learner)} <= {"not attempted"}, scorecard(learner)
    for cell in (c for c in executed["cells"] if "wrong-answer" in tags(c)):
        text = output_text(cell["outputs"])
        lines = CHECK_LINE.findall(text)
        assert lines and all(status == "Not yet:" and rest.strip() for _, status, rest in lines), (src(cell), text)
    card = scorecard(executed, with_solutions=True)
    assert len(card) >= 6 and all(r.status == "correct" for r in card), [r for r in card if r.status != "correct"]


def check_smoke_run(stem: str, executed: dict) -> None:
    """The drill passed, and every expected result was recorded in smoke mode within its smoke range."""
    check_drill(executed)
    results = read_results(executed)
    assert results, "a chapter records its results"
    assert all(r["smoke"] is True for r in results.values()), "smoke mode did not reach record()"
    for name, (smoke, _) in EXPECTATIONS[stem].items():
        assert name in results, f"smoke run did not record {name!r}"
        assert check(results[name]["value"], smoke), f"{name} = {results[name]['value']} outside {smoke}"
