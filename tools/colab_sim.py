"""Run every chapter the way Google Colab runs it: ``make test-colab`` (CI) and ``make test-colab-exact``.

1. Colab's packages. A virtual environment (``--venv``) holds what Colab has preinstalled and the
   course uses (``colab/requirements.txt``) at Colab's versions (``colab/constraints.txt``, generated
   from Colab's published ``pip freeze`` by ``tools/colab_constraints.py``), and not the course.
   torch comes apart (``--torch``): CI takes the CPU build for Python 3.11 without its dependencies
   (they stay at Colab's versions), the exact stack Colab's version from PyPI. The venv is rebuilt
   when those files or options change, and never changed by a run: each runtime is a copy of it.
2. Colab's kernel. The kernel runs a copy of that venv's Python with ``google.colab`` importable (a
   stand-in, ``colab/sim/google/colab``) and loaded at start through Colab's kernel class, whose
   shell subclasses ipykernel's: the notebooks' setup cells run, and explorers build their widgets.
3. Colab's setup cells, for real. ``[tool.course] repository`` (pyproject.toml) is redirected by git
   (``url.<clone>.insteadOf``) to a temporary clone of the working tree as it is now, committed and
   tagged ``[tool.course] ref``: pip installs course_utils from git, non-editable, and the data
   packages from PyPI; 09b's cell runs apt-get (outside root, a stand-in that checks the packages).
4. Colab's data. Debian's datasets under /usr/share/datasets count as absent
   (``COURSE_HIDE_PATHS``); Fashion-MNIST is downloaded from a ``file://`` mirror of them
   (``COURSE_DOWNLOAD_MIRROR``), checksum-verified as from its real address.
5. A fresh runtime per chapter. Each notebook is copied into an empty folder outside the repository
   (its working directory, as Colab's ``/content``), with an empty data cache, and starts from Colab's
   preinstalled packages only: what an earlier chapter's setup cell installed is uninstalled first,
   and a setup cell that changes one of Colab's own packages fails the chapter.

Each notebook is executed in smoke mode by ``course_utils.runner`` (papermill), ``--jobs`` at a time,
into ``--out``; one line per notebook says ok or FAILED with the cell and the error, and
``<out>/report.md`` lists them with the venv's differences from Colab's versions. Exits 1 when a
notebook failed, 2 when the simulation could not be built. Run it with a Python that has papermill
and course_utils (the main ``.venv``); the kernels never see that environment.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from course_utils.report import NotebookRun, status_line, write_atomic
from course_utils.runner import execute_notebook

ROOT = Path(__file__).resolve().parents[1]
COLAB = ROOT / "colab"
CONSTRAINTS = COLAB / "constraints.txt"
REQUIREMENTS = COLAB / "requirements.txt"
FAKE_COLAB = COLAB / "sim"                   # holds google/colab/
KERNEL = "colab-sim"
KERNEL_CLASS = "google.colab._kernel.Kernel"
NOT_ON_COLAB = ("jedi",)                     # IPython 7.34 asks for it, Colab's freeze has none
HIDDEN = "/usr/share/datasets"               # Debian's dataset packages: Colab has none
MIRROR = "file:///usr/share/datasets/fashion-mnist/"
STAMP = ".colab-sim.json"
# the driver's environment that must not reach Colab's kernel (the kernel inherits it), besides COURSE_*
SCRUB = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "MPLBACKEND", "JUPYTER_PATH")


class SimError(Exception):
    """The simulation could not be built (a pip, venv or git step failed)."""


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def course_config(pyproject: Path = ROOT / "pyproject.toml") -> tuple[str, str | None]:
    """``[tool.course]`` repository and ref (None when the setup cells pin no ref)."""
    course = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["course"]
    return str(course["repository"]).rstrip("/"), course.get("ref")


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; SimError with ``what`` and the end of its output when it fails."""
    try:
        done = subprocess.run(cmd, text=True, capture_output=True, check=False)
    except OSError as err:
        raise SimError(f"{what}: {err}") from err
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise SimError(f"{what} failed (exit {done.returncode}):\n  " + "\n  ".join(tail))
    return done


def _pip(venv: Path, *args: str) -> None:
    _run([str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q", *args],
         f"pip {' '.join(args)}")


# --- 1. the venv with Colab's packages -------------------------------------------------------------

def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def build_venv(venv: Path, python: str, torch: str, *, torch_deps: bool, find_links: list[str]) -> bool:
    """Create ``venv`` with Colab's packages unless it is up to date; True when it was (re)built.

    torch is installed after the rest: with ``torch_deps`` under Colab's constraints (the exact
    stack), else without its dependencies, which then stay at Colab's versions.
    """
    wanted = {"constraints": _digest(CONSTRAINTS), "requirements": _digest(REQUIREMENTS), "python": python,
              "torch": torch, "torch_deps": torch_deps, "find_links": find_links}
    stamp = venv / STAMP
    try:
        if json.loads(stamp.read_text()) == wanted:
            return False
    except (OSError, ValueError):
        pass
    print(f"colab-sim: building {venv} with Colab's versions ({python}, {torch})", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    _run([python, "-m", "venv", str(venv)], f"{python} -m venv {venv}")
    links = [a for d in find_links for a in ("--find-links", d)]
    c = ["-c", str(CONSTRAINTS)]
    _pip(venv, "install", *c, "pip")           # Colab's pip installs the rest
    _pip(venv, "install", *c, "-r", str(REQUIREMENTS))
    _pip(venv, "install", *links, *(c if torch_deps else ["--no-deps"]), torch)
    _pip(venv, "uninstall", "-y", *NOT_ON_COLAB)
    stamp.write_text(json.dumps(wanted, indent=1) + "\n")
    return True


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    if not found:
        raise SimError(f"{venv} has no lib/python3*/site-packages")
    return found[0]


def installed(venv: Path) -> dict[str, str]:
    """Canonical name -> version of every distribution in the venv (from its ``*.dist-info`` folders)."""
    out = {}
    for info in site_packages(venv).glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        out[canonical(name)] = version
    return out


def colab_versions(constraints: Path = CONSTRAINTS) -> dict[str, str]:
    """Canonical name -> Colab's version, from the constraints file (torch from its header)."""
    return colab_versions_from(constraints.read_text(encoding="utf-8"))


def colab_versions_from(text: str) -> dict[str, str]:
    """Canonical name -> Colab's version, from the text of a constraints file."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        url = re.match(r"#\s+removed: (\S+) @ .*\(Colab's build (\S+)\)$", line)
        if url:
            out[canonical(url.group(1))] = url.group(2)
        pin = re.match(r"(?:#\s+removed: )?([A-Za-z0-9][\w.-]*)==([^\s;]+)", line)
        if pin and "< \"3.12\"" not in line:
            out[canonical(pin.group(1))] = pin.group(2)
    return out


def differences(have: dict[str, str], colab: dict[str, str]) -> list[str]:
    """Each installed distribution whose version is not Colab's, or that Colab does not have."""
    out = []
    for name, version in sorted(have.items()):
        if name not in colab:
            out.append(f"{name} {version} (not on Colab)")
        elif colab[name] != version:
            out.append(f"{name} {version} (Colab: {colab[name]})")
    return out


# --- 2. and 3. Colab's kernel, and the repository it installs from ---------------------------------

def snapshot(dest: Path, ref: str | None, root: Path = ROOT) -> str:
    """A git repository at ``dest`` holding the working tree of ``root`` as it is now (tracked files, and
    untracked ones git does not ignore) in one commit, tagged ``ref``; returns the commit id."""
    listed = _run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  "git ls-files").stdout.split("\0")
    dest.mkdir(parents=True)
    for rel in filter(None, dict.fromkeys(listed)):
        src = root / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    git = ["git", "-C", str(dest), "-c", "user.name=colab-sim", "-c", "user.email=colab-sim@localhost",
           "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
    _run(git + ["init", "-q", "-b", "main"], "git init")
    _run(git + ["add", "-A"], "git add")
    _run(git + ["commit", "-q", "-m", "the working tree, for the Colab simulation"], "git commit")
    if ref:
        _run(git + ["tag", ref], f"git tag {ref}")
    return _run(git + ["rev-parse", "HEAD"], "git rev-parse").stdout.strip()


def kernel_env(site: Path, repository: str, clone: Path) -> dict[str, str]:
    """What Colab's kernel gets on top of the driver's (scrubbed) environment, besides its PATH."""
    return {
        "PYTHONPATH": str(site),                              # google.colab
        "GIT_CONFIG_COUNT": "1",                              # the GitHub address -> the local clone
        "GIT_CONFIG_KEY_0": f"url.{clone.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": repository,
        "COURSE_HIDE_PATHS": HIDDEN,
        "COURSE_DOWNLOAD_MIRROR": MIRROR,
    }


def install_kernel(jupyter: Path, venv: Path, env: dict[str, str], name: str = KERNEL) -> None:
    """Write the kernelspec ``name`` under ``jupyter/kernels``: the venv's Python started with Colab's
    kernel class, with ``env`` added to its environment."""
    spec = jupyter / "kernels" / name
    spec.mkdir(parents=True)
    argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}",
            f"--IPKernelApp.kernel_class={KERNEL_CLASS}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3 (Colab simulation)",
                                                  "language": "python", "env": env}, indent=1))


def apt_shim(folder: Path) -> Path:
    """Outside root, an ``apt-get`` that only checks that the packages asked for are installed
    (``update`` does nothing): a setup cell's apt-get line then runs where Colab's root is missing."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "apt-get"
    shim.write_text("#!/bin/sh\n# colab-sim: not root, so apt-get only checks that the packages are installed\n"
                    "[ \"$1\" = update ] && exit 0\nshift\nfor p in \"$@\"; do case \"$p\" in -*) ;; *)\n"
                    "  dpkg -s \"$p\" >/dev/null 2>&1 || { echo \"colab-sim: $p is not installed (as root: "
                    "apt-get install $p)\" >&2; exit 100; } ;; esac; done\n")
    shim.chmod(0o755)
    return folder


# --- 4. and 5. runtimes: copies of the venv, one chapter at a time each -----------------------------

def copy_venv(src: Path, dst: Path) -> None:
    """``dst``: a copy of the venv ``src`` (hard links where the file system allows: nothing in a venv
    is changed in place), its scripts pointed at its own Python."""
    shutil.rmtree(dst, ignore_errors=True)
    if subprocess.run(["cp", "-al", str(src), str(dst)], capture_output=True, check=False).returncode != 0:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)
    old, new = f"#!{src / 'bin'}/".encode(), f"#!{dst / 'bin'}/".encode()
    for script in (dst / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if text.startswith(old):
                tmp = script.with_name(f".{script.name}.tmp")
                tmp.write_bytes(new + text[len(old):])  # a new file: the hard-linked original stays as it was
                tmp.chmod(script.stat().st_mode)
                os.replace(tmp, script)


@dataclass
class Runtime:
    """One simulated Colab runtime: a copy of the venv, its kernelspec, its data cache."""
    venv: Path
    kernel: str
    cache: Path


def make_runtime(index: int, pristine: Path, tmp: Path, env: dict[str, str]) -> Runtime:
    """Runtime ``index``: a copy of the venv under ``tmp``, whose ``bin`` comes first on the kernel's PATH
    (``pip``, ``python``: Colab's), and outside root the apt-get stand-in next."""
    venv = tmp / f"runtime-{index}"
    copy_venv(pristine, venv)
    rt = Runtime(venv, f"{KERNEL}-{index}", tmp / f"cache-{index}")
    path = [str(venv / "bin"), *([str(apt_shim(tmp / "bin"))] if os.geteuid() != 0 else []), os.environ.get("PATH", "")]
    install_kernel(tmp / "jupyter", venv, {**env, "PATH": os.pathsep.join(path), "COURSE_CACHE_DIR": str(rt.cache)},
                   rt.kernel)
    return rt


def reset(rt: Runtime, baseline: dict[str, str], pristine: Path) -> list[str]:
    """Back to Colab's preinstalled packages: uninstall what a setup cell added; a runtime in which one
    of Colab's own packages changed is copied afresh. Returns those changes ("name old -> new")."""
    have = installed(rt.venv)
    changed = [f"{n} {v} -> {have.get(n, 'removed')}" for n, v in sorted(baseline.items()) if have.get(n) != v]
    if changed:
        copy_venv(pristine, rt.venv)
    elif set(have) - set(baseline):
        _pip(rt.venv, "uninstall", "-y", *sorted(set(have) - set(baseline)))
    shutil.rmtree(rt.cache, ignore_errors=True)
    return changed


def run_chapter(src: Path, rt: Runtime, tmp: Path, out: Path, *, timeout: int) -> NotebookRun:
    """Copy ``src`` into an empty working folder and execute it (smoke mode) in the runtime's kernel."""
    content = tmp / src.stem / "content"
    content.mkdir(parents=True)
    copy = content / src.name
    shutil.copy2(src, copy)
    return execute_notebook(copy, out / src.name, smoke=True, timeout=timeout, widgets=True, kernel=rt.kernel)


_RUNTIME: Runtime | None = None  # the runtime of this worker process


def _claim(runtimes: Any) -> None:
    """Worker process initializer: take a runtime of its own (a process each: papermill changes the
    process's working directory while it starts a kernel)."""
    global _RUNTIME
    _RUNTIME = runtimes.get()


def _chapter(src: Path, baseline: dict[str, str], pristine: Path, tmp: Path, out: Path, timeout: int) -> NotebookRun:
    """In a worker process: ``src`` in its runtime, which is then reset."""
    assert _RUNTIME is not None
    t0 = time.perf_counter()
    try:
        run = run_chapter(src, _RUNTIME, tmp, out, timeout=timeout)
        changed = reset(_RUNTIME, baseline, pristine)
    except Exception as err:  # a runtime that cannot be reset or written: this chapter fails, not the run
        return NotebookRun(src.stem, None, time.perf_counter() - t0, error=f"colab-sim: {err}")
    if changed and not run.error:
        run.error = f"the setup cell changed Colab's own packages: {', '.join(changed)}"
    return run


def run_all(notebooks: list[Path], runtimes: list[Runtime], baseline: dict[str, str], pristine: Path, tmp: Path,
            out: Path, *, timeout: int) -> list[NotebookRun]:
    """Every notebook in the next free runtime, one line each as it ends; the runs in ``notebooks``' order."""
    context = multiprocessing.get_context("spawn")
    free = context.Queue()
    for rt in runtimes:
        free.put(rt)
    done: dict[Path, NotebookRun] = {}
    with ProcessPoolExecutor(len(runtimes), mp_context=context, initializer=_claim, initargs=(free,)) as pool:
        futures = {pool.submit(_chapter, src, baseline, pristine, tmp, out, timeout): src for src in notebooks}
        for future in as_completed(futures):
            done[futures[future]] = run = future.result()
            print(status_line(run, False), flush=True)
    return [done[src] for src in notebooks]


# --- the command -------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-colab", help="the venv with Colab's packages")
    parser.add_argument("--python", default="python3", help="the Python that creates it")
    parser.add_argument("--torch", default="torch==2.13.0", help="the torch requirement")
    parser.add_argument("--torch-deps", action="store_true",
                        help="install torch's dependencies too, under Colab's constraints (the exact stack)")
    parser.add_argument("--find-links", action="append", default=[], help="a folder of wheels for pip (torch)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "colab-sim", help="executed notebooks, report.md")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at a time, each in its own runtime")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (clone, runtimes, working folders)")
    parser.add_argument("--build-only", action="store_true",
                        help="build the venv (or find it up to date) and stop; CI builds it early, at low priority")
    return parser


def build(args: argparse.Namespace) -> bool:
    """:func:`build_venv` with the command's arguments."""
    return build_venv(args.venv.resolve(), args.python, args.torch, torch_deps=args.torch_deps,
                      find_links=[str(Path(d).resolve()) for d in args.find_links])


def prepare(args: argparse.Namespace, tmp: Path) -> tuple[list[Runtime], dict[str, str], list[str]]:
    """Build or reuse the venv, then the clone, the kernels and their runtimes; returns the runtimes,
    the venv's packages (name -> version) and their differences from Colab's versions."""
    t0 = time.perf_counter()
    pristine = args.venv.resolve()
    rebuilt = build(args)
    baseline = installed(pristine)
    diff = differences(baseline, colab_versions())
    print(f"colab-sim: {args.venv} {'built' if rebuilt else 'up to date'} ({time.perf_counter() - t0:.0f} s), "
          f"Python {python_of(pristine)}; of its {len(baseline)} packages these are not Colab's: "
          f"{', '.join(diff) or 'none'}", flush=True)
    repository, ref = course_config()
    commit = snapshot(tmp / "repo", ref)
    site = tmp / "site"
    shutil.copytree(FAKE_COLAB, site, ignore=shutil.ignore_patterns("__pycache__"))
    for name in [*SCRUB, *(k for k in os.environ if k.startswith("COURSE_"))]:
        os.environ.pop(name, None)
    env = kernel_env(site, repository, tmp / "repo")
    runtimes = [make_runtime(i, pristine, tmp, env) for i in range(max(1, args.jobs))]
    os.environ["JUPYTER_PATH"] = str(tmp / "jupyter")
    print(f"colab-sim: {repository}{'@' + ref if ref else ''} -> a clone of the working tree (commit {commit[:10]}); "
          f"{HIDDEN} hidden, Fashion-MNIST from {MIRROR}; {len(runtimes)} chapters at a time, each in a fresh runtime", flush=True)
    return runtimes, baseline, diff


def python_of(venv: Path) -> str:
    return site_packages(venv).parent.name.removeprefix("python")


def write_summary(out: Path, runs: list[NotebookRun], diff: list[str], kernel: str, seconds: float) -> Path:
    """``out/report.md``: each notebook's status and runtime, and the venv's differences from Colab."""
    lines = ["# Colab simulation (smoke mode)", "",
             f"Kernel: {kernel}; packages that are not Colab's: {', '.join(diff) or 'none'}.",
             "", "| notebook | status | runtime (s) |", "|---|---|---|"]
    for run in runs:
        status = f"FAILED: {run.error}" if run.error else "ok"
        lines.append(f"| {run.name} | {status.replace('|', chr(92) + '|')} | {run.seconds:.1f} |")
    failed = sum(bool(r.error) for r in runs)
    lines += ["", f"{len(runs) - failed} passed, {failed} failed in {seconds:.0f} s.", ""]
    path = out / "report.md"
    write_atomic(path, "\n".join(lines))
    return path


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.build_only:
        t0 = time.perf_counter()
        try:
            rebuilt = build(args)
        except SimError as err:
            print(f"colab-sim: {err}", file=sys.stderr)
            return 2
        print(f"colab-sim: {args.venv} {'built' if rebuilt else 'up to date'} ({time.perf_counter() - t0:.0f} s)")
        return 0
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    out = args.out.resolve()
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="colab-sim-"))
    try:
        runtimes, baseline, diff = prepare(args, tmp)
        out.mkdir(parents=True, exist_ok=True)
        runs = run_all(notebooks, runtimes, baseline, args.venv.resolve(), tmp, out, timeout=args.timeout)
        venv_python = python_of(args.venv.resolve())
    except SimError as err:
        print(f"colab-sim: {err}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"colab-sim: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - t0
    report = write_summary(out, runs, diff, f"{args.venv}, Python {venv_python}", seconds)
    failed = sum(bool(r.error) for r in runs)
    print(f"colab-sim: {len(runs) - failed} passed, {failed} failed in {seconds:.0f} s (report: {report})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
