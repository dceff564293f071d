"""Write each chapter's committed full-mode CPU runtime into the README's chapter table.

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


def runtime_cell(meta: dict, old: str) -> str:
    """The runtime column for a chapter: its CPU seconds, and the GPU part of ``old`` (or its recorded GPU seconds)."""
    measured = next((meta[k] for k in ("cpu_seconds", "seconds") if isinstance(meta.get(k), (int, float))), None)
    cpu = "not measured" if measured is None else f"{round(float(measured))} s"
    gpu = f"{round(float(meta['gpu_seconds']))} s" if isinstance(meta.get("gpu_seconds"), (int, float)) else \
        (old.split(" / ", 1)[1].strip() if " / " in old else "not measured")
    return f"{cpu} / {gpu}"


def updated(readme: str) -> tuple[str, list[str]]:
    """The README with every chapter row's runtime column rewritten, and the rows that changed."""
    lines, changed = readme.split("\n"), []
    for i, line in enumerate(lines):
        m = ROW.match(line)
        if not m:
            continue
        path = ROOT / "notebooks" / m["file"]
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("course", {})
        cols = line.split(" | ")
        new = runtime_cell(meta, cols[-2])          # the column before the Colab badge
        if new != cols[-2]:
            changed.append(f"{m['num']}: {cols[-2]} -> {new}")
            lines[i] = " | ".join(cols[:-2] + [new, cols[-1]])
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
