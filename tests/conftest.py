"""Shared fixtures: tests run headless, offline and on the CPU."""
import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # tests/expectations.py
os.environ.setdefault("COURSE_HEADLESS", "1")
os.environ.setdefault("COURSE_OFFLINE", "1")   # nothing downloads in tests; tests of the download fallback use file:// URLs


@pytest.fixture(autouse=True)
def _cpu_and_tmp_cache(tmp_path_factory, monkeypatch):
    """Keep each test on the CPU and off the learner's real cache folder."""
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    torch.set_num_threads(1)
