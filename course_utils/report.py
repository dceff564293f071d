"""What a headless run produced, said for people: the ``NotebookRun`` record of each notebook, the
one-line description of a failure (the cell and the error), and ``report.md`` / ``report.html``.

``course_utils.runner`` executes the notebooks and fills in the records; this module only describes
and writes them. Every file goes through ``write_atomic``: either the whole new text is there or the
old file is untouched.

Introduced in README.md ("Running headless").
"""
from __future__ import annotations

import html
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NotebookRun", "write_atomic", "cell_source", "first_line", "describe_failure", "status_line",
           "write_report", "BUDGET_SECONDS", "committed_runtimes", "write_runtime_chart"]

BUDGET_SECONDS = {"full": 300.0, "smoke": 30.0}   # a chapter's time budget on 2 CPU cores, per mode


@dataclass
class NotebookRun:
    """One executed notebook: where it went, how long it took, what it recorded or why it failed.

    ``output`` is the executed notebook (the source itself after a successful ``--in-place`` run, the
    kept copy of a failed one), or None when nothing was written. ``note`` is a problem that did not
    stop the run (a ``parameters`` cell papermill cannot read).
    """
    name: str
    output: Path | None
    seconds: float
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    note: str | None = None


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    Either the whole new text is there or the old file is untouched; the temporary file never
    outlives a failed write (disk full, Ctrl-C). An existing file keeps its permissions.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def cell_source(cell: dict[str, Any]) -> str:
    """The source of a notebook cell as one string (nbformat stores a string or a list of lines)."""
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def first_line(text: str, width: int = 80) -> str:
    """The first non-blank line of ``text``, stripped and cut to ``width`` characters."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[:width - 1] + "…"


def _failing_cell(err: BaseException, executed: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cell that was running when the run stopped: papermill saves each cell's start time."""
    started: list[dict[str, Any]] = [c for c in (executed or {}).get("cells", [])
                                     if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if started:
        return started[-1]
    source = getattr(err, "source", None)
    return {"source": source} if isinstance(source, str) else None


def _index_in(source: dict[str, Any], cell: dict[str, Any]) -> int | None:
    """Where ``cell`` of the executed notebook is in the source (which has no injected cell)."""
    ids = [c.get("id") for c in source["cells"]]
    if cell.get("id") and cell["id"] in ids:
        return ids.index(cell["id"])
    texts = [cell_source(c) for c in source["cells"]]
    return texts.index(cell_source(cell)) if cell_source(cell) in texts else None


def _error_text(err: BaseException, cell: dict[str, Any] | None, timeout: int | None) -> str:
    """``name: message`` of the error: papermill's ``ename``/``evalue`` for an exception in a cell (a
    cell interrupted at ``timeout`` is named a timeout), else the exception raised."""
    ename = getattr(err, "ename", None)
    name, message = (ename, str(getattr(err, "evalue", ""))) if ename else (type(err).__name__, str(err))
    duration = (cell or {}).get("metadata", {}).get("papermill", {}).get("duration")
    if name == "KeyboardInterrupt" and timeout and isinstance(duration, (int, float)) and duration >= timeout:
        name, message = "CellTimeoutError", f"the cell ran longer than {timeout} s (--timeout) and was interrupted"
    return f"{name}: {first_line(message, 200)}" if first_line(message) else name


def describe_failure(err: BaseException, executed: dict[str, Any] | None, source: dict[str, Any],
                     timeout: int | None = None) -> str:
    """One line: the failing cell (its index in the source notebook, from 0, and its first line), then
    the error."""
    cell = _failing_cell(err, executed)
    what = _error_text(err, cell, timeout)
    if cell is None:
        return what
    index = _index_in(source, cell)
    return f"cell {'?' if index is None else index} (`{first_line(cell_source(cell))}`): {what}"


def _kept(run: NotebookRun, in_place: bool) -> str:
    return f"source unchanged, failed run kept in {run.output}" if in_place else f"executed notebook: {run.output}"


def status_line(run: NotebookRun, in_place: bool) -> str:
    """The console line for one notebook: ok or FAILED, runtime, number of results, the failure and
    where the executed notebook is, and a note on a second line when there is one."""
    line = f"{'FAILED' if run.error else 'ok':>6}  {run.name}  {run.seconds:6.1f}s  {len(run.results)} results"
    if run.error:
        line += f"  {run.error}" + (f"; {_kept(run, in_place)}" if run.output else "")
    return line + (f"\n  note  {run.name}: {run.note}" if run.note else "")


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _status(run: NotebookRun, in_place: bool) -> str:
    note = f"; note: {run.note}" if run.note else ""
    if not run.error:
        return "ok" + note
    return "FAILED: " + run.error + (f" ({_kept(run, in_place)})" if run.output else "") + note


def children_cpu_seconds() -> float | None:
    """CPU seconds (user + system) used so far by this process's finished child processes and theirs: a
    notebook's kernel, once it has exited. Unlike wall time it barely grows when other work shares the
    machine. None where the platform cannot say (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def committed_runtimes(notebooks: list[Path]) -> dict[str, dict[str, float]]:
    """Each notebook's runtimes as committed in ``metadata.course``: the kernel's CPU seconds of its last full-mode
    run (``cpu_seconds``, else its wall ``seconds``) and ``gpu_seconds`` where a run on a GPU was recorded;
    unreadable notebooks are left out."""
    import json

    times: dict[str, dict[str, float]] = {}
    for path in notebooks:
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("course", {})
        except (OSError, ValueError, AttributeError):
            continue
        cpu_key = "cpu_seconds" if isinstance(meta.get("cpu_seconds"), (int, float)) else "seconds"
        found = {label: float(meta[key]) for key, label in ((cpu_key, "committed full run (CPU)"),
                                                            ("gpu_seconds", "committed full run (GPU)"))
                 if isinstance(meta.get(key), (int, float)) and not meta.get("smoke")}
        if found:
            times[path.stem] = found
    return times


def write_runtime_chart(runs: list[NotebookRun], path: Path, *, smoke: bool, device: str,
                        reference: dict[str, dict[str, float]] | None = None) -> None:
    """A horizontal bar chart of each notebook's runtime in this run, beside the committed runtimes in
    ``reference``, with the budget as a dashed line and runs over it in red; written to ``path`` (PNG).

    The committed runtimes are full-mode runs: beside a smoke run they get a panel of their own, with the
    full-mode budget, so that no bar is read against the other mode's line.
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    names = [r.name for r in runs]
    this = {f"this run ({device})": [r.seconds for r in runs]}
    committed = {label: [(reference or {}).get(n, {}).get(label, 0.0) for n in names]
                 for label in sorted({k for times in (reference or {}).values() for k in times})}
    if smoke and committed:    # each mode against its own budget
        panels = [("smoke", this), ("full", committed)]
    else:
        panels = [("smoke" if smoke else "full", {**this, **committed})]
    fig = Figure(figsize=(8 if len(panels) == 1 else 11, 0.45 * len(names) + 1.5))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    colour = 0
    for ax, (mode, series) in zip(axes, panels):
        budget = BUDGET_SECONDS[mode]
        height = 0.8 / len(series)
        for k, (label, values) in enumerate(series.items()):
            ys = [i + k * height for i in range(len(names))]
            ax.barh(ys, values, height=height, label=label,
                    color=["tab:red" if label in this and v > budget else f"C{colour}" for v in values])
            colour += 1
        ax.axvline(budget, color="black", linestyle="--", label=f"budget {budget:.0f} s ({mode} mode)")
        ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names)
        ax.set_xlabel("seconds")
        ax.set_title(f"{mode} mode" if len(panels) > 1 else f"Runtime per chapter ({mode} mode)")
        ax.legend(loc="lower right", fontsize="small")
    axes[0].invert_yaxis()
    if len(panels) > 1:
        fig.suptitle("Runtime per chapter: this smoke run, and the committed full runs")
    fig.text(0.01, 0.005, "red: this run over its budget", fontsize="small")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_report(runs: list[NotebookRun], out_dir: Path, *, smoke: bool, in_place: bool = False,
                 stopped: str | None = None, reference: dict[str, dict[str, float]] | None = None) -> tuple[Path, Path]:
    """Write ``report.md``, ``report.html`` and ``runtimes.png``: each chapter's runtime (flagged when over
    its budget, :data:`BUDGET_SECONDS`), status and results, and the runtimes as a chart beside ``reference``
    (:func:`committed_runtimes`).

    A failed notebook's status names the cell (index and first line) and the error; ``stopped`` says
    why the run ended early. Each file is replaced atomically.
    """
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    mode = "smoke" if smoke else "full"
    title = f"Course run report ({mode} mode)"
    device = "CUDA " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    env = (f"Python {platform.python_version()}, torch {torch.__version__}, {device}, "
           f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    budget = BUDGET_SECONDS[mode]
    rows = [(r.name, _status(r, in_place), f"{r.seconds:.1f}" + (" (over budget)" if r.seconds > budget else ""),
             "; ".join(f"{k} = {_fmt(v['value'])}" for k, v in r.results.items())) for r in runs]
    over = [r.name for r in runs if r.seconds > budget]
    total = (f"Total: {sum(r.seconds for r in runs):.1f} s for {len(runs)} notebooks, "
             f"{sum(bool(r.error) for r in runs)} failed; over the {budget:.0f} s budget of {mode} mode: "
             f"{', '.join(over) or 'none'}." + (f" The run stopped early: {stopped}." if stopped else ""))
    if runs:
        write_runtime_chart(runs, out_dir / "runtimes.png", smoke=smoke, device=device, reference=reference)
    chart = "runtimes.png" if runs else None
    md = [f"# {title}", "", env, "", "| notebook | status | runtime (s) | results |", "|---|---|---|---|"]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    md += ["", total, ""] + ([f"![Runtime per chapter]({chart})", ""] if chart else [])
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    write_atomic(md_path, "\n".join(md))
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    write_atomic(html_path,
                 "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
                 "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
                 "table{border-collapse:collapse}</style></head><body>"
                 f"<h1>{html.escape(title)}</h1><p>{html.escape(env)}</p><table><tr><th>notebook</th>"
                 "<th>status</th><th>runtime (s)</th><th>results</th></tr>" + cells + "</table>"
                 f"<p>{html.escape(total)}</p>" + (f"<img src='{chart}' alt='Runtime per chapter'>" if chart else "")
                 + "</body></html>\n")
    return md_path, html_path
