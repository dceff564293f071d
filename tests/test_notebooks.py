"""Every chapter notebook: its anatomy, its committed full-mode outputs, and a smoke run with papermill.

(nbval runs every notebook as well: ``pytest --nbval-lax notebooks`` in ``make test``.)
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib
from expectations import EXPECTATIONS, check

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


def src(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


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
    solutions = [c for c in cells if "solution" in tags(c)]
    assert solutions, "chapters end with graded exercises and hidden solutions"
    for c in solutions:
        assert c["metadata"].get("jupyter", {}).get("source_hidden") is True
        assert re.search(r"assert check_\w+\(", src(c)), "a solution cell asserts its check"
    assert sum("Exercise" in src(c) for c in cells if c["cell_type"] == "markdown") >= 1


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
    results = read_results(nb)
    for name, (_, full) in EXPECTATIONS[path.stem].items():
        assert name in results, f"{path.name} does not record {name!r}"
        assert results[name]["smoke"] is False
        assert check(results[name]["value"], full), f"{name} = {results[name]['value']} outside {full}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run_with_papermill(path, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"          # the kernel's temporary folder: a chapter leaves nothing there
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    run = execute_notebook(path, tmp_path / path.name, smoke=True, timeout=300)
    assert not list(scratch.glob("ddp_*")), f"{path.name} left temporary folders: {list(scratch.iterdir())}"
    assert run.error is None, run.error
    assert run.results, "a chapter records its results"
    assert all(r["smoke"] is True for r in run.results.values()), "SMOKE=True did not reach record()"
    for name, (smoke, _) in EXPECTATIONS[path.stem].items():
        assert name in run.results, f"smoke run did not record {name!r}"
        assert check(run.results[name]["value"], smoke), f"{name} = {run.results[name]['value']} outside {smoke}"


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
