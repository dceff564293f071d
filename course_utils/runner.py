"""Run the chapter notebooks headless with papermill and report their runtimes and results.

``python -m course_utils.runner --out build`` executes every ``notebooks/NN_*.ipynb`` in full mode
into ``build/`` and writes ``build/report.md`` and ``build/report.html``; ``--smoke`` runs smoke
mode; ``--in-place`` refreshes the committed notebooks (``make execute``), stamping a hash of their
code so a test can tell when code changed after its outputs were made.

A notebook is never left half-written: ``--in-place`` executes into a working copy under ``--out``
and replaces the source (atomically) only when every cell ran; a failed run is kept in
``<out>/failed/`` for reading and the source stays as it was. ``course_utils.report`` describes each
run (a failure as its cell and error) and writes the report.

Introduced in README.md ("Running headless").
"""
from __future__ import annotations

import argparse
import ast
import errno
import hashlib
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from . import report
from .report import NotebookRun, cell_source, committed_runtimes, describe_failure, first_line, status_line, write_atomic, write_report
from .results import read_results

# NotebookRun, write_atomic and write_report live in course_utils.report; they are importable from here too
__all__ = ["code_hash", "execute_notebook", "kernel_start_failed", "run_all", "write_report", "write_atomic", "NotebookRun",
           "OutputError", "RunStopped", "main"]

META_KEY = "course"
DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# Log messages the runner says itself, once, naming the notebook and the cell: papermill's about a
# parameters cell it cannot read, and nbclient's (through papermill's logger) about a cell past the timeout
REPLACED_WARNINGS = ("Unable to parse line", "Passed unknown parameter",
                     "Input notebook does not contain a cell with tag",
                     "Timeout waiting for execute reply", "Interrupting kernel")


def code_hash(nb: dict[str, Any]) -> str:
    """sha256 of the source of every code cell except papermill's injected parameters."""
    digest = hashlib.sha256()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        digest.update(src.encode("utf-8") + b"\0")
    return digest.hexdigest()


class OutputError(Exception):
    """The runner cannot write a file (disk full, no permission): the run stops after this notebook."""


class RunStopped(Exception):
    """The run stopped before the last notebook; ``runs`` holds what ran, ``exit_code`` what to return."""

    def __init__(self, message: str, runs: list[NotebookRun], exit_code: int) -> None:
        super().__init__(message)
        self.runs = runs
        self.exit_code = exit_code


def headless_env(smoke: bool, widgets: bool = False) -> None:
    """Environment for the kernels papermill starts (they inherit it).

    ``widgets=True`` leaves ``COURSE_HEADLESS`` unset, so the kernel counts as a person's
    (``is_headless()`` is False in a Jupyter kernel) and ``explore`` builds its ipywidgets controls
    (nobody sees them): the Colab simulation (tools/colab_sim.py) uses it to execute widget code against
    Colab's older ipywidgets. ``PYDEVD_DISABLE_FILE_VALIDATION`` stops debugpy (imported by ipykernel 6 on
    Python >= 3.11) from printing its frozen-modules warning at every kernel start.
    """
    if widgets:
        os.environ.pop("COURSE_HEADLESS", None)
    else:
        os.environ["COURSE_HEADLESS"] = "1"
    os.environ["COURSE_SMOKE"] = "1" if smoke else "0"
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def client_options(timeout: int) -> dict[str, Any]:
    """Keyword arguments for papermill's nbclient: how a cell that runs too long ends, and how the
    kernel's messages travel.

    A cell past ``timeout`` seconds is interrupted (like the stop button) and gets a
    ``CellTimeoutError`` output, so the kernel ends cleanly instead of being torn down mid-reply.
    ipykernel >= 7 warns on every start that it "is running over TCP without encryption": where
    jupyter_client and libzmq offer CurveZMQ, the kernel manager provisions keys (when the kernelspec
    says the kernel supports them), which removes the cause; elsewhere the kernel logs only errors.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config

    options: dict[str, Any] = {"interrupt_on_timeout": True, "error_on_timeout": {
        "ename": "CellTimeoutError", "evalue": f"the cell ran longer than {timeout} s (--timeout)", "traceback": []}}
    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        options["config"] = Config({"KernelManager": {"transport_encryption": "auto"}})
    else:
        options["extra_arguments"] = ["--IPKernelApp.log_level=ERROR"]
    return options


def _not_replaced(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(REPLACED_WARNINGS)


def quiet_logs() -> None:
    """Drop the log messages in ``REPLACED_WARNINGS``: the runner reports an unreadable ``parameters``
    cell (``parameters_problem``) and a timed-out cell (``describe_failure``) itself. Every other
    warning and error still reaches the console."""
    for name in ("papermill", "papermill.translators"):
        logging.getLogger(name).addFilter(_not_replaced)


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def load_source(src: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The notebook at ``src`` as a dict, or None and one line saying why it cannot be run."""
    if not src.exists():
        return None, f"no such file: {src}"
    if src.suffix != ".ipynb" or not src.is_file():
        return None, f"not a notebook (.ipynb file): {src}"
    try:
        nb = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"cannot read {src} as a notebook: {first_line(str(err))}"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, f"not a notebook (it has no list of cells): {src}"
    return nb, None


def _literal_name(stmt: ast.stmt) -> str | None:
    """The name that ``stmt`` assigns a literal to (``SMOKE = False``), or None for any other statement."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return None
    try:
        ast.literal_eval(stmt.value)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return stmt.targets[0].id


def parameters_problem(nb: dict[str, Any]) -> str | None:
    """Why papermill cannot read the notebook's ``parameters`` cell, or None when it can.

    The cell must hold only literal assignments and set ``SMOKE`` (``SMOKE = False``); papermill
    still injects ``-p SMOKE`` after it otherwise, but cannot tell which parameters the notebook has.
    """
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return "no cell is tagged `parameters` (papermill puts SMOKE at the top)"
    try:
        body = ast.parse(cell_source(cells[0])).body
    except SyntaxError:
        body = []
    names = [_literal_name(stmt) for stmt in body]
    if "SMOKE" in names and None not in names:
        return None
    return "its `parameters` cell should hold only literals such as `SMOKE = False` (papermill cannot read it)"


def _read_notebook(path: Path) -> dict[str, Any] | None:
    """An executed notebook, or None when it was not written (or only half, by a killed run)."""
    try:
        nb: object = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(nb, dict) and isinstance(nb.get("cells"), list):
        return nb
    return None


def _papermill(src: Path, work: Path, source: dict[str, Any], *, smoke: bool, timeout: int,
               kernel: str = "python3") -> str | None:
    """Execute ``src`` into ``work`` with the kernelspec ``kernel``; None on success, else the one-line failure."""
    import papermill as pm

    try:
        pm.execute_notebook(str(src), str(work), parameters={"SMOKE": smoke}, kernel_name=kernel,
                            execution_timeout=timeout, progress_bar=False, cwd=str(src.parent),
                            **client_options(timeout))
    except OSError as err:
        if err.errno in DISK_FULL:
            raise OutputError(f"cannot write {work}: {_reason(err)}") from err
        return describe_failure(err, _read_notebook(work), source, timeout)
    except Exception as err:  # report every failing notebook, not just the first
        return describe_failure(err, _read_notebook(work), source, timeout)
    return None


def _replace_source(src: Path, nb: dict[str, Any], *, smoke: bool, seconds: float, cpu: float | None = None) -> None:
    """Write the executed ``nb`` over ``src`` (atomically): injected parameters cell removed, the outputs of
    ``solution`` cells cleared (their checks would show the answers), code hash stamped into ``metadata.course``
    (which keeps its other keys, such as ``introduces``), with the wall and the kernel's CPU seconds."""
    import torch

    nb["cells"] = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for cell in nb["cells"]:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            cell["outputs"] = []
    if isinstance(nb["metadata"].get("papermill"), dict):
        nb["metadata"]["papermill"]["output_path"] = str(src)  # not the working copy's name
    kept = nb["metadata"].get(META_KEY) if isinstance(nb["metadata"].get(META_KEY), dict) else {}
    nb["metadata"][META_KEY] = {**kept, "code_sha256": code_hash(nb), "smoke": smoke, "seconds": round(seconds, 1),
                                "python": platform.python_version(), "torch": torch.__version__}
    nb["metadata"][META_KEY]["cpu_seconds"] = None if cpu is None else round(cpu, 1)
    write_atomic(src, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def _finish(src: Path, work: Path, dst: Path, nb: dict[str, Any] | None, *, failed: bool, smoke: bool,
            seconds: float, cpu: float | None = None) -> Path | None:
    """After an ``in_place`` run: the source replaced on success, the working copy kept at ``dst`` on
    failure. Returns where the executed notebook now is."""
    try:
        if failed:
            if not work.exists():
                return None
            os.replace(work, dst)
            return dst
        if nb is None:
            raise OutputError(f"papermill reported success but {work} is not a readable notebook; "
                              f"{src} was left as it was")
        _replace_source(src, nb, smoke=smoke, seconds=seconds, cpu=cpu)
        dst.unlink(missing_ok=True)  # an older failed copy is out of date now
        return src
    except OSError as err:
        raise OutputError(f"cannot write {err.filename or dst}: {_reason(err)}; {src} was left as it was") from err


def kernel_start_failed(error: str) -> bool:
    """True when a run failed because its kernel never started, before any cell ran.

    jupyter_client picks free ports by binding to port 0 and letting go; when two kernels start at once
    (parallel tests, the Colab simulation) another process can take a port first, and the kernel dies
    with "Address already in use" before it replies to kernel_info. That run is worth one more try.
    """
    return "Kernel died before replying to kernel_info" in error or "Address already in use" in error


def execute_notebook(src: Path, dst: Path, *, smoke: bool, timeout: int, in_place: bool = False,
                     widgets: bool = False, kernel: str = "python3") -> NotebookRun:
    """Execute ``src`` into ``dst`` with ``-p SMOKE <smoke>`` and a per-cell timeout, in a kernel of
    the kernelspec ``kernel`` (working directory: ``src``'s folder).

    With ``in_place`` papermill writes a working copy next to ``dst``; only a run in which every cell
    succeeded replaces ``src`` (atomically, the injected-parameters cell removed and the code hash
    stamped into ``metadata.course``). A failed run leaves ``src`` as it was and is kept at ``dst``;
    an interrupted one (Ctrl-C) leaves no working copy.

    Raises:
        OutputError: a file could not be written (disk full, no permission).
    """
    source, problem = load_source(src)
    if source is None:
        return NotebookRun(src.stem, None, 0.0, error=problem)
    work = dst.with_name(f".running-{dst.name}") if in_place else dst
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create {dst.parent}: {_reason(err)}") from err
    headless_env(smoke, widgets)
    t0, cpu0 = time.perf_counter(), report.children_cpu_seconds()
    try:
        error = _papermill(src, work, source, smoke=smoke, timeout=timeout, kernel=kernel)
        if error is not None and kernel_start_failed(error):  # a port taken by another process meanwhile: once more
            error = _papermill(src, work, source, smoke=smoke, timeout=timeout, kernel=kernel)
        seconds, cpu1 = time.perf_counter() - t0, report.children_cpu_seconds()
        nb = _read_notebook(work)
        output = _finish(src, work, dst, nb, failed=error is not None, smoke=smoke, seconds=seconds,
                         cpu=None if cpu0 is None or cpu1 is None else cpu1 - cpu0) if in_place else work
    finally:
        if in_place:
            work.unlink(missing_ok=True)
    return NotebookRun(src.stem, output, seconds, read_results(nb) if nb else {}, error,
                       parameters_problem(source))


def run_all(notebooks: list[Path], out_dir: Path, *, smoke: bool, timeout: int, in_place: bool = False,
            widgets: bool = False, kernel: str = "python3") -> list[NotebookRun]:
    """Execute notebooks one after another, printing a line for each (and a progress bar on a terminal).

    Executed notebooks go to ``out_dir``; with ``in_place`` the sources are refreshed instead and failed
    runs are kept in ``out_dir/failed``. A notebook that fails does not stop the others.

    Raises:
        RunStopped: a file could not be written, or Ctrl-C; it holds the runs so far.
    """
    from tqdm import tqdm

    runs: list[NotebookRun] = []
    with tqdm(notebooks, desc="notebooks", unit="nb", disable=None) as bar:
        for src in bar:
            bar.set_postfix_str(src.stem)
            dst = out_dir / "failed" / src.name if in_place else out_dir / src.name
            t0 = time.perf_counter()
            try:
                run = execute_notebook(src, dst, smoke=smoke, timeout=timeout, in_place=in_place, widgets=widgets,
                                       kernel=kernel)
            except OutputError as err:
                runs.append(NotebookRun(src.stem, None, time.perf_counter() - t0, error=str(err)))
                raise RunStopped(f"stopped at {src.stem}: {err}", runs, 2) from None
            except KeyboardInterrupt:
                runs.append(NotebookRun(src.stem, None, time.perf_counter() - t0, error="interrupted (Ctrl-C)"))
                left = f"; {src} was left as it was" if in_place else ""
                raise RunStopped(f"interrupted during {src.stem}{left}", runs, 130) from None
            bar.write(status_line(run, in_place))
            runs.append(run)
    return runs


def out_dir_problem(out: Path) -> str | None:
    """One line saying why ``out`` cannot take the executed notebooks and the report, or None."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; give a folder (it is created when missing)"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".runner-probe-{os.getpid()}"
        write_atomic(probe, "")
        probe.unlink()
    except OSError as err:
        return f"cannot write to --out {out}: {_reason(err)}"
    return None


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--smoke", action="store_true", help="run in smoke mode (fast, small)")
    parser.add_argument("--out", type=Path, default=Path("build"),
                        help="folder for executed notebooks (with --in-place: failed runs) and the report")
    parser.add_argument("--in-place", action="store_true",
                        help="refresh the notebooks themselves (make execute); only a run without errors replaces one")
    parser.add_argument("--timeout", type=_seconds, default=1800, help="seconds allowed per cell (> 0)")
    parser.add_argument("--widgets", action="store_true",
                        help="build the ipywidgets controls (COURSE_HEADLESS unset) instead of static figures")
    parser.add_argument("--kernel", default="python3",
                        help="the kernelspec to run the notebooks in (default python3; `jupyter kernelspec list`)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line: execute the notebooks and write the report.

    Returns 0 when every notebook ran, 1 when one failed, 2 when the runner could not write its output
    (each said in one line on stderr), 130 on Ctrl-C.
    """
    args = _parser().parse_args(argv)
    notebooks = args.notebooks or sorted(Path("notebooks").glob("[0-9]*.ipynb"))
    if not notebooks:
        print("runner: no notebooks found (run from the repository root)", file=sys.stderr)
        return 2
    problem = out_dir_problem(args.out)
    if problem:
        print(f"runner: {problem}", file=sys.stderr)
        return 2
    quiet_logs()
    stopped = None
    reference = committed_runtimes(notebooks)   # read before an --in-place run replaces them
    try:
        runs = run_all(notebooks, args.out, smoke=args.smoke, timeout=args.timeout, in_place=args.in_place,
                       widgets=args.widgets, kernel=args.kernel)
        code = 1 if any(r.error for r in runs) else 0
    except RunStopped as stop:
        runs, code, stopped = stop.runs, stop.exit_code, str(stop)
        print(f"runner: {stopped}", file=sys.stderr)
    try:
        md, page = write_report(runs, args.out, smoke=args.smoke, in_place=args.in_place, stopped=stopped,
                                 reference=reference)
    except OSError as err:
        print(f"runner: could not write the report in {args.out}: {_reason(err)}", file=sys.stderr)
        return 2
    print(f"report: {md} and {page}")
    return code


if __name__ == "__main__":
    sys.exit(main())
