"""Write each chapter's committed full-mode CPU runtime into the README's chapter table, and their total.

The runtime column reads "<CPU> / <GPU>"; the CPU part comes from the notebook's metadata (stamped by
``make execute``), so the README cannot drift from the last run: the kernel's CPU seconds
(``cpu_seconds``) where recorded, which is what a one-thread run takes on a machine it has to itself even when
the run shared its machine, else the wall seconds (``seconds``). The GPU part is kept as it is
(or taken from ``metadata.course.gpu_seconds`` where a GPU run was recorded). ``make execute`` runs this;
``--check`` only reports rows that differ (exit status 1), which the tests use.

    python tools/readme_runtimes.py [--check]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| (?P<num>\d+[a-z]?) \| \[[^\]]*\]\(notebooks/(?P<file>[^)]+\.ipynb)\) \|")
TOTAL = re.compile(r"^<!-- course-total -->.*$")
BUDGET_SECONDS = 45 * 60        # the whole course's budget on 2 CPU cores (issue 24)


def runtime_cell(meta: dict, old: str) -> str:
    """The runtime column for a chapter: its CPU seconds, and the GPU part of ``old`` (or its recorded GPU seconds)."""
    measured = next((meta[k] for k in ("cpu_seconds", "seconds") if isinstance(meta.get(k), (int, float))), None)
    cpu = "not measured" if measured is None else f"{round(float(measured))} s"
    gpu = f"{round(float(meta['gpu_seconds']))} s" if isinstance(meta.get("gpu_seconds"), (int, float)) else \
        (old.split(" / ", 1)[1].strip() if " / " in old else "not measured")
    return f"{cpu} / {gpu}"


def total_line(seconds: list[float | None]) -> str:
    """The README's line under the table: the chapters' CPU seconds added up, against the course's budget."""
    known = [s for s in seconds if s is not None]
    total = sum(known)
    unmeasured = len(seconds) - len(known)
    missing = f" ({unmeasured} chapter{'s' if unmeasured > 1 else ''} not measured)" if unmeasured else ""
    verdict = "within" if total <= BUDGET_SECONDS and not missing else "over" if total > BUDGET_SECONDS else "so far within"
    return (f"<!-- course-total --> **The whole course**: {round(total):,} CPU seconds ({total / 60:.1f} minutes) for "
            f"{len(seconds)} chapters{missing}, {verdict} the budget of {BUDGET_SECONDS // 60} minutes on 2 CPU cores "
            f"(one chapter after another, one thread each; written by `tools/readme_runtimes.py`).")


def updated(readme: str) -> tuple[str, list[str]]:
    """The README with every chapter row's runtime column and the course's total rewritten, and what changed."""
    lines, changed, seconds = readme.split("\n"), [], []
    for i, line in enumerate(lines):
        m = ROW.match(line)
        if not m:
            continue
        path = ROOT / "notebooks" / m["file"]
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("course", {})
        measured = next((meta[k] for k in ("cpu_seconds", "seconds") if isinstance(meta.get(k), (int, float))), None)
        seconds.append(None if measured is None else float(measured))
        cols = line.split(" | ")
        new = runtime_cell(meta, cols[-2])          # the column before the Colab badge
        if new != cols[-2]:
            changed.append(f"{m['num']}: {cols[-2]} -> {new}")
            lines[i] = " | ".join(cols[:-2] + [new, cols[-1]])
    total = next((i for i, line in enumerate(lines) if TOTAL.match(line)), None)
    if total is None:
        changed.append("the README lacks its '<!-- course-total -->' line below the chapter table")
    elif lines[total] != total_line(seconds):
        changed.append(f"total: {lines[total]} -> {total_line(seconds)}")
        lines[total] = total_line(seconds)
    return "\n".join(lines), changed


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--check", action="store_true", help="only report rows that differ (exit 1 if any)")
    check = args.parse_args(argv).check
    readme = ROOT / "README.md"
    text, changed = updated(readme.read_text(encoding="utf-8"))
    for row in changed:
        print(row)
    if check:
        return 1 if changed else 0
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
