"""Reproducibility, device selection and the environment report.

Introduced in notebooks/00_getting_started.ipynb, section 0.1.
"""
from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

__all__ = ["seed_everything", "get_device", "environment_report", "is_headless", "course_version", "DEVICE_ENV_VAR",
           "BLAS_THREADS_ENV_VAR", "limit_blas_threads"]

DEVICE_ENV_VAR = "COURSE_DEVICE"
"""Environment variable that overrides :func:`get_device` (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""

BLAS_THREADS_ENV_VAR = "COURSE_BLAS_THREADS"
"""Environment variable for :func:`limit_blas_threads`: a number of threads, or ``auto`` to leave BLAS alone."""


def limit_blas_threads() -> int | None:
    """Run NumPy's and SciPy's OpenBLAS on one thread (``COURSE_BLAS_THREADS`` chooses another number).

    ``import course_utils`` calls this. The chapters' NumPy and scikit-learn work (logistic regression on
    features, PCA, k-means) is small matrices, where a second BLAS thread costs more than it gives, and worse
    while PyTorch's own threads still spin after a tensor operation: on 2 cores chapter 01's smoke run took
    28.0 s with two BLAS threads and 18.5 s with one (``tests/test_repro.py`` checks the setting, the README
    gives the measurements). PyTorch's threads are not touched.

    Left alone when ``COURSE_BLAS_THREADS=auto``, or when ``OPENBLAS_NUM_THREADS`` is set and
    ``COURSE_BLAS_THREADS`` is not (a choice someone made). Returns the number of threads set, or None.
    """
    raw = os.environ.get(BLAS_THREADS_ENV_VAR, "").strip()
    if raw.lower() == "auto" or (not raw and "OPENBLAS_NUM_THREADS" in os.environ):
        return None
    try:
        threads = int(raw or "1")
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{BLAS_THREADS_ENV_VAR}={raw!r} is not a number of threads: use a whole number such as 1, "
                         "or auto to leave NumPy's and SciPy's BLAS as it starts")
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)   # OpenBLAS libraries loaded later read it (SciPy's)
    from threadpoolctl import ThreadpoolController
    for lib in ThreadpoolController().lib_controllers:   # those loaded already (NumPy's)
        if lib.internal_api == "openblas" and ("numpy" in lib.filepath or "scipy" in lib.filepath):
            lib.set_num_threads(threads)
    return threads


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and all CUDA devices) random generators.

    Args:
        seed: any integer in ``[0, 2**32)``.
        deterministic: also ask PyTorch for deterministic kernels (slower on GPU; errors on
            operations that have no deterministic implementation).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be a whole number such as 0, got {seed!r} ({type(seed).__name__})")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(override: str | None = None) -> torch.device:
    """Pick the device to train on: CUDA, then Apple MPS, then CPU.

    ``override`` (or, when it is None, the ``COURSE_DEVICE`` environment variable) forces a
    device. Asking for a device that is not available raises instead of silently using another.

    Returns:
        a ``torch.device``.
    """
    wanted = override if override is not None else os.environ.get(DEVICE_ENV_VAR, "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as err:
            raise ValueError(
                f"{DEVICE_ENV_VAR}={wanted!r} is not a device name; use cpu, cuda, cuda:N or mps"
            ) from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"device {wanted!r} was requested but this PyTorch sees no CUDA GPU "
                f"(torch {torch.__version__}); unset {DEVICE_ENV_VAR} or install a CUDA build"
            )
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {wanted!r} was requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"device {wanted!r} was requested but Apple MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _git_describe(folder: Path) -> str | None:
    """``git describe --always --dirty`` of the checkout holding ``folder``, or None outside one."""
    try:
        out = subprocess.run(["git", "-C", str(folder), "describe", "--always", "--dirty", "--abbrev=10"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def course_version() -> str:
    """``course_utils``'s version and the commit it came from, e.g. ``0.1.0 (commit 1a2b3c4d5e)``.

    The commit is the one pip recorded when installing from git (as the Colab setup cells do), or that
    of the checkout the package is imported from (``-dirty`` when it has uncommitted changes).
    """
    from importlib import metadata

    try:
        dist = metadata.distribution("course_utils")
        version = dist.version
        url = json.loads(dist.read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        version, url = "unknown", {}
    commit = (url.get("vcs_info") or {}).get("commit_id") if isinstance(url, dict) else None
    commit = commit[:10] if commit else _git_describe(Path(__file__).resolve().parent)
    return f"{version} (commit {commit or 'unknown'})"


def environment_report(device: torch.device | None = None) -> str:
    """A few lines describing where the notebook runs: Python, PyTorch, device, CPU threads.

    Args:
        device: the device in use (default: :func:`get_device`).
    """
    device = device if device is not None else get_device()
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        dev = f"{device} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    else:
        dev = str(device)
    in_colab = "google.colab" in sys.modules
    lines = [
        f"Python   {platform.python_version()} ({platform.system()} {platform.machine()})"
        + (" on Colab" if in_colab else ""),
        f"PyTorch  {torch.__version__}",
        f"NumPy    {np.__version__}",
        f"Device   {dev}",
        f"Threads  {torch.get_num_threads()} intra-op threads, {os.cpu_count()} CPU cores",
        f"Course   course_utils {course_version()}",
    ]
    return "\n".join(lines)


def is_headless() -> bool:
    """True when no person is watching: ``COURSE_HEADLESS=1`` (set by the runner and the tests)
    or outside a Jupyter kernel (Jupyter's own or a subclass of it, such as Colab's). Progress bars and
    widgets are then replaced by static output."""
    if os.environ.get("COURSE_HEADLESS", "0") == "1":
        return True
    try:
        from IPython import get_ipython
    except ImportError:
        return True
    shell = get_ipython()
    if shell is None:
        return True
    try:
        from ipykernel.zmqshell import ZMQInteractiveShell
    except ImportError:  # IPython without a kernel package: a terminal, nobody sees widgets
        return True
    # a subclass counts too: Colab's shell is google.colab._shell.Shell(ZMQInteractiveShell)
    return not isinstance(shell, ZMQInteractiveShell)
