import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from course_utils import environment_report, get_device, seed_everything


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seed_everything_repeats_all_generators():
    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert draw() != first


def test_seed_out_of_range():
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


def test_get_device_override_and_env(monkeypatch):
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device().type == expected


def test_get_device_refuses_unavailable_or_bad(monkeypatch):
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            get_device("cuda")
    monkeypatch.setenv("COURSE_DEVICE", "tpu-please")
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        get_device()


def test_environment_report_names_versions():
    report = environment_report(torch.device("cpu"))
    assert torch.__version__ in report and "Device   cpu" in report and "Threads" in report


def test_is_headless_knows_colabs_kernel_shell(monkeypatch):
    """Colab's shell subclasses ZMQInteractiveShell under another name; it is interactive all the same."""
    from unittest import mock

    import IPython
    from ipykernel.zmqshell import ZMQInteractiveShell
    from IPython.terminal.interactiveshell import TerminalInteractiveShell

    from course_utils import is_headless

    class Shell(ZMQInteractiveShell):   # the name google.colab._shell uses
        pass

    monkeypatch.setenv("COURSE_HEADLESS", "0")
    for shell, headless in ((mock.Mock(spec=Shell), False), (mock.Mock(spec=ZMQInteractiveShell), False),
                            (mock.Mock(spec=TerminalInteractiveShell), True), (None, True)):
        monkeypatch.setattr(IPython, "get_ipython", lambda shell=shell: shell)
        assert is_headless() is headless, shell
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    monkeypatch.setattr(IPython, "get_ipython", lambda: mock.Mock(spec=Shell))
    assert is_headless() is True


def test_course_version_names_the_commit(monkeypatch):
    import json
    from importlib import metadata

    import course_utils
    from course_utils import course_version

    here = course_version()            # this checkout: the commit git describes
    assert here.startswith(course_utils.__version__ + " (commit ") and "unknown" not in here

    class Installed:                   # what pip records for `pip install git+https://...@<ref>` (Colab)
        version = "0.1.0"

        def read_text(self, name):
            return json.dumps({"url": "https://github.com/x/y", "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef"}})
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed())
    assert course_version() == "0.1.0 (commit 0123456789)"


# --- NumPy's and SciPy's BLAS threads, set when course_utils is imported (fresh interpreters) ---------------

BLAS_PROBE = """
import json, sys
if sys.argv[1] == "course": import course_utils
import numpy, scipy.linalg, torch
from threadpoolctl import threadpool_info
blas = {i["filepath"]: i["num_threads"] for i in threadpool_info()
        if i["internal_api"] == "openblas" and ("numpy" in i["filepath"] or "scipy" in i["filepath"])}
print(json.dumps({"blas": sorted(blas.values()), "torch": torch.get_num_threads()}))
"""


def blas_threads(with_course: bool, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "COURSE_BLAS_THREADS")}
    done = subprocess.run([sys.executable, "-c", BLAS_PROBE, "course" if with_course else "plain"],
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_course_puts_numpy_and_scipy_blas_on_one_thread_and_leaves_torch_alone():
    plain, course = blas_threads(False), blas_threads(True)
    assert plain["blas"] and course["blas"] == [1] * len(plain["blas"]), (plain, course)   # both libraries found
    assert course["torch"] == plain["torch"]
    assert blas_threads(True, COURSE_BLAS_THREADS="auto") == plain
    two = blas_threads(False, OPENBLAS_NUM_THREADS="2")
    assert blas_threads(True, OPENBLAS_NUM_THREADS="2") == two                                      # their choice
    assert blas_threads(True, COURSE_BLAS_THREADS="2", OPENBLAS_NUM_THREADS="1")["blas"] == two["blas"]  # ours, when set


def test_a_bad_blas_thread_count_stops_the_import_with_what_to_write():
    done = subprocess.run([sys.executable, "-c", "import course_utils"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COURSE_BLAS_THREADS": "two"})
    assert done.returncode != 0 and "COURSE_BLAS_THREADS='two' is not a number of threads" in done.stderr
