"""Every chapter notebook: its anatomy, its committed full-mode outputs, and its smoke run.

The smoke run (a drill copy with a wrong answer before each solution, executed once) happens in JupyterLab in
Chromium where ``tests/test_browser.py`` can run, else here with papermill; ``tests/smoke_checks.py`` holds the
checks both apply. ``make test`` also runs nbval on chapter 00, to prove ``pytest --nbval-lax notebooks/X.ipynb``
works for a maintainer.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib
from expectations import EXPECTATIONS, check
from smoke_checks import browser_available, check_smoke_run, src, tags, write_drill

from course_utils.exercises import SOLUTION_TITLE
from course_utils.grade import scorecard
from course_utils.results import read_results
from course_utils.runner import code_hash, execute_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
COURSE = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["course"]
REPO, REF = COURSE["repository"], COURSE["ref"]
PARAMS_LINE = "SMOKE = False"   # a literal, so papermill parses it (no "Unable to parse line 1")
COMBINE_LINE = "SMOKE = use_smoke_mode(SMOKE)"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_course_has_its_first_chapters():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:2] == ["00_getting_started", "01_what_is_deep_learning"], names
    assert set(names) == set(EXPECTATIONS), "every notebook needs its expected results in tests/expectations.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_anatomy(path):
    nb = load(path)
    cells = nb["cells"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    title = src(cells[0])
    assert cells[0]["cell_type"] == "markdown" and title.startswith(f"# {path.stem[:2]}")
    assert f"colab.research.google.com/github/{REPO.split('github.com/')[1]}/blob/{REF}/notebooks/{path.name}" in title
    for heading in ("You will learn", "Prerequisites", "Runtime"):
        assert heading in title, f"title cell lacks **{heading}**"
    code = [c for c in cells if c["cell_type"] == "code"]
    assert 'if "google.colab" in sys.modules:' in src(code[0]) and REPO.split("//")[1] in src(code[0])
    params = [i for i, c in enumerate(cells) if "parameters" in tags(c)]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert src(cells[params[0]]).strip() == PARAMS_LINE, (
        "the parameters cell holds only the SMOKE line; papermill injects -p values after it, so sizes "
        "derived there keep their defaults")
    assert COMBINE_LINE in src(cells[params[0] + 1]), (
        "the cell after the parameters cell combines SMOKE with COURSE_SMOKE once (use_smoke_mode) and derives "
        "the sizes")
    assert not any("smoke=SMOKE" in src(c) for c in cells if c["cell_type"] == "code"), \
        "record() takes the mode from use_smoke_mode; drop smoke=SMOKE"
    for i, c in enumerate(code):
        s = src(c)
        assert len(s.splitlines()) <= 25, f"code cell {i} has {len(s.splitlines())} lines (max 25)"
        assert "plt.show(" not in s, f"code cell {i} calls plt.show(); end the cell with the figure"
        assert not re.search(r"^\s*!", s, re.M), f"code cell {i} runs a shell command; use subprocess in the Colab cell"
    check_exercises(cells)


def check_names(cell: dict) -> set[str]:
    return set(re.findall(r"""\bname=["']([^"']+)["']""", src(cell)))


def check_exercises(cells: list[dict]) -> None:
    """At least 6 exercises, 2 of them predictions inside the chapter, 1 a project; each with a hidden,
    Colab-form solution that asserts its check and describes a plausible wrong answer; a scorecard at the end."""
    body_end = next(i for i, c in enumerate(cells)
                    if c["cell_type"] == "markdown" and re.search(r"^## (\d+\.\d+ )?Summary", src(c), re.M))
    exercises = [c for c in cells if "exercise" in tags(c)]
    assert len(exercises) >= 6, f"{len(exercises)} cells tagged 'exercise'; a chapter has at least 6"
    predicts = [i for i, c in enumerate(cells) if "predict" in tags(c)]
    assert all("exercise" in tags(cells[i]) for i in predicts)
    assert len([i for i in predicts if i < body_end]) >= 2, "at least 2 'predict' exercises before the Summary"
    assert any("project" in tags(c) for c in exercises), "at least 1 exercise tagged 'project'"
    solved: set[str] = set()
    for c in (c for c in cells if "solution" in tags(c)):
        first = src(c).splitlines()[0]
        assert first.startswith(SOLUTION_TITLE) and 'display-mode: "form"' in first, first
        assert c["metadata"].get("cellView") == "form" and c["metadata"]["jupyter"]["source_hidden"] is True
        assert re.search(r"assert check_\w+\(", src(c)), "a solution cell asserts its check"
        wrong = c["metadata"].get("wrong_answer") or {}
        assert wrong.get("why") and wrong.get("replace"), f"solution {first!r} lacks metadata.wrong_answer"
        solved |= check_names(c)
    names = set().union(*(check_names(c) for c in exercises))
    assert len(names) >= 6 and names <= solved, f"exercises without a solution: {sorted(names - solved)}"
    last = [c for c in cells if c["cell_type"] == "code"][-1]
    assert "scorecard" in tags(last) and "show_scorecard()" in src(last), "the last code cell shows the scorecard"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_are_fresh_full_mode_results(path):
    nb = load(path)
    assert nb["metadata"].get("papermill", {}).get("parameters", {}).get("SMOKE") is False, \
        "commit the outputs of a full-mode run: make execute"
    stamped = nb["metadata"].get("course", {}).get("code_sha256")
    assert stamped == code_hash(nb), f"{path.name}: code changed after its outputs were made; run make execute"
    assert not any(src(c).startswith("# Parameters") for c in nb["cells"]), "injected parameters cell committed"
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code":
            assert c.get("execution_count") is not None, f"cell {i} was not executed"
            assert not [o for o in c["outputs"] if o["output_type"] == "error"], f"cell {i} has an error output"
            if "solution" in tags(c):
                assert c["outputs"] == [], f"cell {i} is a solution: commit it without outputs (they show the answer)"
    card = scorecard(nb)
    assert not [r for r in card if r.status in ("correct", "error")], "the committed chapter's scorecard is 0 correct"
    assert {r.name for r in card} >= set().union(*(check_names(c) for c in nb["cells"] if "exercise" in tags(c)))
    results = read_results(nb)
    for name, (_, full) in EXPECTATIONS[path.stem].items():
        assert name in results, f"{path.name} does not record {name!r}"
        assert results[name]["smoke"] is False
        assert check(results[name]["value"], full), f"{name} = {results[name]['value']} outside {full}"


# Each chapter is executed once in smoke mode: in JupyterLab in Chromium where tests/test_browser.py can run
# (it applies these same checks), else here. Chapter 00 always runs here too, to prove papermill's parameter
# injection (-p SMOKE True) on a chapter; `make test-colab` runs every chapter with papermill on Colab's stack.
PAPERMILL = [p for p in NOTEBOOKS if not browser_available() or p.stem == "00_getting_started"]


@pytest.mark.parametrize("path", PAPERMILL, ids=lambda p: p.stem)
def test_smoke_run_with_papermill(path, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"          # the kernel's temporary folder: a chapter leaves nothing there
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    (tmp_path / "drill").mkdir()
    drill = write_drill(path, tmp_path / "drill" / path.name)
    run = execute_notebook(drill, tmp_path / path.name, smoke=True, timeout=300)
    assert not list(scratch.glob("ddp_*")), f"{path.name} left temporary folders: {list(scratch.iterdir())}"
    assert run.error is None, run.error
    check_smoke_run(path.stem, load(tmp_path / path.name))


PLUMBING = {"nn.Module", "nn.Sequential", "nn.ModuleList", "nn.ModuleDict", "nn.Parameter", "nn.ParameterList",
            "nn.Identity", "nn.Flatten", "nn.Unflatten"}   # containers and reshapes, not layers to teach


def layers_used(nb: dict) -> set[str]:
    """The ``nn.`` layers and ``F.`` operations a notebook's code cells call."""
    code = "\n".join(src(c) for c in nb["cells"] if c["cell_type"] == "code")
    return {f"nn.{n}" for n in re.findall(r"\bnn\.([A-Z]\w*)", code)} | {f"F.{n}" for n in re.findall(r"\bF\.([a-z_]\w*)", code)}


def mentioned(name: str, prose: str) -> bool:
    """``nn.MaxPool2d`` counts as mentioned by "max-pool", ``nn.CrossEntropyLoss`` by "cross-entropy"."""
    key = re.sub(r"[^a-z0-9]", "", name.split(".", 1)[1].lower())
    for suffix in ("loss", "2d", "1d"):
        key = key[:-len(suffix)] if key.endswith(suffix) and len(key) > len(suffix) + 2 else key
    return key in re.sub(r"[^a-z0-9]", "", prose.lower())


def teaching_problems(chapters: list[tuple[str, dict]]) -> list[str]:
    """What breaks "teach before use" in ``chapters`` (name, notebook), in course order."""
    taught: set[str] = set()
    problems = []
    for name, nb in chapters:
        introduces = set(nb["metadata"].get("course", {}).get("introduces", []))
        prose = "\n".join(src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        early = layers_used(nb) - taught - introduces - PLUMBING
        if early:
            problems.append(f"{name} uses {sorted(early)} before a chapter teaches them: teach a short version here "
                            f"and add them to metadata.course.introduces, or point back to where they are taught")
        unnamed = sorted(n for n in introduces if not mentioned(n, prose))
        if unnamed:
            problems.append(f"{name} introduces {unnamed} without naming them in its prose")
        taught |= introduces
    return problems


def test_no_layer_before_it_is_taught():
    """Each chapter lists in metadata.course.introduces the layers and operations it teaches, its prose names
    each, and its code uses none that neither it nor an earlier chapter introduces."""
    assert teaching_problems([(p.name, load(p)) for p in NOTEBOOKS]) == []


def test_a_layer_used_early_is_caught():
    def nb(code, prose, introduces):
        return {"metadata": {"course": {"introduces": introduces}},
                "cells": [{"cell_type": "markdown", "source": prose}, {"cell_type": "code", "source": code}]}
    first = nb("nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU())", "A convolution, then a ReLU.", ["nn.Conv2d", "nn.ReLU"])
    later = nb("nn.BatchNorm2d(8); F.max_pool2d(x, 2)", "Max pooling.", ["F.max_pool2d"])
    assert teaching_problems([("a", first), ("b", later)]) == [
        "b uses ['nn.BatchNorm2d'] before a chapter teaches them: teach a short version here and add them to "
        "metadata.course.introduces, or point back to where they are taught"]
    assert teaching_problems([("a", nb("nn.GELU()", "An MLP.", ["nn.GELU"]))]) == [
        "a introduces ['nn.GELU'] without naming them in its prose"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stray_booleans_in_outputs(path):
    """A check_* call that ends a cell must end with ';', or the learner sees a stray True/False."""
    for i, cell in enumerate(load(path)["cells"]):
        for out in cell.get("outputs", []):
            if out["output_type"] == "execute_result":
                text = "".join(out["data"].get("text/plain", ""))
                assert text not in ("True", "False"), f"cell {i} displays {text}: end its last line with ';'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_second_copy_of_a_recorded_value(path):
    """record() returns its value: a cell ending in record(...) ends with ';' so the value is shown once."""
    for i, cell in enumerate(load(path)["cells"]):
        lines = [ln for ln in src(cell).splitlines() if ln.strip()] if cell["cell_type"] == "code" else []
        if lines and lines[-1].startswith("record(") and not lines[-1].split("#")[0].rstrip().endswith(";"):
            pytest.fail(f"cell {i} ends with record(...) without ';': its value would show twice")
