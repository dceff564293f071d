import random

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
