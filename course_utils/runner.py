"""Run the chapter notebooks headless with papermill and report their runtimes and results.

``python -m course_utils.runner --out build`` executes every ``notebooks/NN_*.ipynb`` in full mode
into ``build/`` and writes ``build/report.md`` and ``build/report.html``; ``--smoke`` runs smoke
mode; ``--in-place`` refreshes the committed notebooks (``make execute``), stamping a hash of their
code so a test can tell when code changed after its outputs were made.

Introduced in README.md ("Running headless").
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .results import read_results

__all__ = ["code_hash", "execute_notebook", "run_all", "write_report", "NotebookRun", "main"]

META_KEY = "course"


def code_hash(nb: dict[str, Any]) -> str:
    """sha256 of the source of every code cell except papermill's injected parameters."""
    digest = hashlib.sha256()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        digest.update(src.encode("utf-8") + b"\0")
    return digest.hexdigest()


@dataclass
class NotebookRun:
    """One executed notebook: where it went, how long it took, what it recorded or why it failed."""
    name: str
    output: Path
    seconds: float
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


def headless_env(smoke: bool, widgets: bool = False) -> None:
    """Environment for the kernels papermill starts (they inherit it).

    ``widgets=True`` leaves ``COURSE_HEADLESS=0``, so ``explore`` builds its ipywidgets controls in the
    kernel (nobody sees them): the compatibility run uses it to execute widget code against Colab's
    older ipywidgets.
    """
    os.environ["COURSE_HEADLESS"] = "0" if widgets else "1"
    os.environ["COURSE_SMOKE"] = "1" if smoke else "0"
    os.environ.setdefault("PYTHONHASHSEED", "0")


def execute_notebook(src: Path, dst: Path, *, smoke: bool, timeout: int, in_place: bool = False,
                     widgets: bool = False) -> NotebookRun:
    """Execute ``src`` into ``dst`` with ``-p SMOKE <smoke>`` and a per-cell timeout.

    With ``in_place`` the injected-parameters cell is removed again (the metadata keeps the
    parameters), and the code hash is stamped into ``metadata.course``.
    """
    import papermill as pm

    headless_env(smoke, widgets)
    t0 = time.perf_counter()
    error = None
    try:
        pm.execute_notebook(str(src), str(dst), parameters={"SMOKE": smoke}, kernel_name="python3",
                            execution_timeout=timeout, progress_bar=False, cwd=str(src.parent))
    except Exception as err:  # report every failing notebook, not just the first
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
    seconds = time.perf_counter() - t0
    nb = json.loads(dst.read_text(encoding="utf-8")) if dst.exists() else None
    if nb is not None and error is None and in_place:
        nb["cells"] = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
        import torch
        nb["metadata"][META_KEY] = {"code_sha256": code_hash(nb), "smoke": smoke, "seconds": round(seconds, 1),
                                    "python": platform.python_version(), "torch": torch.__version__}
        dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return NotebookRun(src.stem, dst, seconds, read_results(nb) if nb else {}, error)


def run_all(notebooks: list[Path], out_dir: Path | None, *, smoke: bool, timeout: int,
            widgets: bool = False) -> list[NotebookRun]:
    """Execute notebooks one after another with a progress bar; ``out_dir=None`` means in place."""
    from tqdm import tqdm

    runs = []
    with tqdm(notebooks, desc="notebooks", unit="nb") as bar:
        for src in bar:
            bar.set_postfix_str(src.stem)
            dst = src if out_dir is None else out_dir / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            run = execute_notebook(src, dst, smoke=smoke, timeout=timeout, in_place=out_dir is None,
                                   widgets=widgets)
            bar.write(f"{'FAILED' if run.error else 'ok':>6}  {run.name}  {run.seconds:6.1f}s  "
                      f"{len(run.results)} results" + (f"  {run.error}" if run.error else ""))
            runs.append(run)
    return runs


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_report(runs: list[NotebookRun], out_dir: Path, *, smoke: bool) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html``: each chapter's runtime, status and results."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"Course run report ({'smoke' if smoke else 'full'} mode)"
    env = (f"Python {platform.python_version()}, torch {torch.__version__}, "
           f"{'CUDA ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU'}, "
           f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    total = sum(r.seconds for r in runs)
    md = [f"# {title}", "", env, "", "| notebook | status | runtime (s) | results |", "|---|---|---|---|"]
    rows_html = []
    for r in runs:
        res = "; ".join(f"{k} = {_fmt(v['value'])}" for k, v in r.results.items())
        status = "FAILED: " + r.error if r.error else "ok"
        md.append(f"| {r.name} | {status} | {r.seconds:.1f} | {res} |")
        rows_html.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in
                                          (r.name, status, f"{r.seconds:.1f}", res)) + "</tr>")
    md += ["", f"Total: {total:.1f} s for {len(runs)} notebooks, {sum(bool(r.error) for r in runs)} failed.", ""]
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text("\n".join(md), encoding="utf-8")
    html_path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(env)}</p><table><tr><th>notebook</th><th>status</th>"
        "<th>runtime (s)</th><th>results</th></tr>" + "".join(rows_html) + "</table>"
        f"<p>Total: {total:.1f} s for {len(runs)} notebooks.</p></body></html>\n", encoding="utf-8")
    return md_path, html_path


def main(argv: list[str] | None = None) -> int:
    """Command line: execute the notebooks, write the report, return 1 if any notebook failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--smoke", action="store_true", help="run in smoke mode (fast, small)")
    parser.add_argument("--out", type=Path, default=Path("build"), help="folder for executed notebooks and the report")
    parser.add_argument("--in-place", action="store_true", help="overwrite the notebooks themselves (make execute)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--widgets", action="store_true",
                        help="build the ipywidgets controls (COURSE_HEADLESS=0) instead of static figures")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(Path("notebooks").glob("[0-9]*.ipynb"))
    if not notebooks:
        print("no notebooks found (run from the repository root)", file=sys.stderr)
        return 2
    runs = run_all(notebooks, None if args.in_place else args.out, smoke=args.smoke, timeout=args.timeout,
                   widgets=args.widgets)
    md, page = write_report(runs, args.out, smoke=args.smoke)
    print(f"report: {md} and {page}")
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
