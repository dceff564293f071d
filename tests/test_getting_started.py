"""The README's "Getting started" against what CI runs, without installing anything.

``tools/pip_path.sh`` (``make test-pip``) executes the README's Linux plain-pip steps in a fresh virtual
environment; these tests keep the two from drifting apart: the script's ``pip_install`` lines must be
the README's ``pip install`` lines, in order, and the Windows block, the Makefile's setup and the
README's runner example must agree with them.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from course_utils.runner import _parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCRIPT = (ROOT / "tools" / "pip_path.sh").read_text(encoding="utf-8")
MARKER = "<!-- getting-started:linux-pip"


def section(text: str, title: str) -> str:
    """The body of the README section ``## title`` (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, f"README.md has no section '## {title}'"
    return match.group(1)


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Every fenced code block as (language, lines)."""
    return [(m.group(1), m.group(2).splitlines()) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]


def pip_args(lines: list[str], prefix: str = "python -m pip install ") -> list[list[str]]:
    """The arguments of each line that starts with ``prefix`` (after ``.venv\\Scripts\\`` or not)."""
    return [shlex.split(line.strip()[len(prefix):]) for line in lines if line.strip().startswith(prefix)]


def linux_block() -> list[str]:
    start = README.find(MARKER)
    assert start >= 0, f"README.md lost its marker {MARKER!r} before the Linux plain-pip block"
    blocks = fenced_blocks(README[README.index("-->", start) + 3:])
    assert blocks and blocks[0][0] == "bash", "the marker must be followed by a ```bash block"
    return blocks[0][1]


def script_steps() -> list[str]:
    begin, end = "# --- the README's Linux plain-pip steps", "# --- end of the README's steps ---"
    assert begin in SCRIPT and end in SCRIPT, "tools/pip_path.sh lost the markers around the README's steps"
    body = SCRIPT[SCRIPT.index(begin):SCRIPT.index(end)].splitlines()[1:]
    return [line for line in body if line.strip() and not line.lstrip().startswith("#")]


def test_script_runs_exactly_the_readmes_pip_lines():
    readme = pip_args(linux_block())
    steps = script_steps()
    assert all(s.startswith("pip_install ") for s in steps), f"only pip_install lines between the markers: {steps}"
    script = [shlex.split(s[len("pip_install "):]) for s in steps]
    assert len(readme) == 3, f"expected the three pip lines of the Makefile's setup, found {readme}"
    assert script == readme, f"tools/pip_path.sh runs {script}, the README says {readme}"


def test_script_pip_install_adds_only_quiet_and_local_wheels():
    """``pip_install`` is ``python -m pip install`` plus output and wheel-location flags, nothing that changes what is installed."""
    body = re.search(r"^pip_install\(\) \{\n(.*?)^\}", SCRIPT, re.M | re.S)
    assert body, "tools/pip_path.sh lost its pip_install function"
    call = body.group(1).split("||")[0].split()
    assert call[:4] == ["python", "-m", "pip", "install"], call
    assert set(call[4:]) <= {"-q", "--disable-pip-version-check", '${find_links[@]+"${find_links[@]}"}', '"$@"'}, call
    assert re.search(r"^if \[ -d /opt/wheels \]; then find_links=\(--find-links /opt/wheels\); fi$", SCRIPT, re.M)


def test_script_makes_a_fresh_venv_outside_the_repo_and_activates_it():
    linux = linux_block()
    assert "python3 -m venv .venv" in linux and "source .venv/bin/activate" in linux
    assert re.search(r'^PYTHON=\$\{PYTHON:-python3\}$', SCRIPT, re.M)
    assert re.search(r'^tmp=\$\(mktemp -d "\$\{TMPDIR:-/tmp\}/', SCRIPT, re.M), "the venv must live in a fresh temp folder"
    assert '"$PYTHON" -m venv "$tmp/venv"' in SCRIPT and 'source "$tmp/venv/bin/activate"' in SCRIPT
    assert re.search(r"^set -euo pipefail$", SCRIPT, re.M), "the script must stop at the first failure"
    assert "python -m course_utils.runner --smoke" in SCRIPT


def test_windows_block_has_the_same_pip_lines():
    blocks = [lines for lang, lines in fenced_blocks(section(README, "Getting started")) if lang == "bat"]
    assert len(blocks) == 1, "expected one ```bat block (Windows) in Getting started"
    windows = blocks[0]
    assert "py -3.11 -m venv .venv" in windows and ".venv\\Scripts\\activate" in windows
    assert pip_args(windows) == pip_args(linux_block())


def test_makefile_setup_installs_what_the_readme_says():
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert recipe, "the Makefile lost its $(STAMP) setup recipe"
    make = [[a for a in shlex.split(line.split("install", 1)[1]) if a not in ("-q", "$(FIND_LINKS)")]
            for line in recipe.group(1).splitlines() if line.strip().startswith("$(PIP) install")]
    assert make == pip_args(linux_block())


def test_make_test_pip_runs_the_script_and_ci_calls_it():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test-pip:\n\t.*bash tools/pip_path.sh$", makefile, re.M)
    assert re.search(r"^\.PHONY:.*\btest-pip\b", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "make test" in ci and "make test-colab || colab_rc=$?" in ci
    # test-pip runs in the background, beside make test, in a clone of its own (both install with -e .)
    pip = [line for line in ci if "make test-pip" in line and not line.lstrip().startswith("#")]
    assert pip and re.search(r'cd "\$pip_src/repo" && make test-pip\).*&$', pip[0]), pip
    assert any(line.startswith('wait "$pip_pid"') for line in ci), "CI must wait for test-pip and use its exit code"


@pytest.mark.parametrize("line", [ln for lang, lines in fenced_blocks(section(README, "Getting started"))
                                  for ln in lines if "course_utils.runner" in ln])
def test_readme_runner_examples_parse(line):
    args = _parser().parse_args(shlex.split(line.split("course_utils.runner", 1)[1].replace("\\", "/")))
    for nb in args.notebooks:
        assert (ROOT / nb).is_file(), f"the README's example names a missing notebook: {nb}"
