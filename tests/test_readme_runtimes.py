"""The README's chapter table shows each chapter's committed runtime (tools/readme_runtimes.py keeps it so)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import readme_runtimes  # noqa: E402


def test_runtime_column_prefers_the_kernels_cpu_seconds_and_keeps_the_gpu_part():
    assert readme_runtimes.runtime_cell({"seconds": 400.2, "cpu_seconds": 95.6}, "12 s / 30 s") == "96 s / 30 s"
    assert readme_runtimes.runtime_cell({"seconds": 41.4}, "12 s / not measured") == "41 s / not measured"
    assert readme_runtimes.runtime_cell({"seconds": 41.4, "gpu_seconds": 7.2}, "12 s / 30 s") == "41 s / 7 s"
    assert readme_runtimes.runtime_cell({}, "garbled") == "not measured / not measured"


def test_the_total_adds_up_the_chapters_and_says_where_it_stands_against_the_budget():
    assert readme_runtimes.total_line([1000.4, 1400.0]).startswith(
        "<!-- course-total --> **The whole course**: 2,400 CPU seconds (40.0 minutes) for 2 chapters, within the budget")
    assert ", over the budget of 45 minutes" in readme_runtimes.total_line([2000.0, 1000.0])
    assert "(1 chapter not measured), so far within" in readme_runtimes.total_line([100.0, None])


def test_readme_table_matches_every_chapters_committed_runtime(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert all(f"(notebooks/{name})" in readme for name in chapters), "every chapter has a row in the README's table"
    assert readme_runtimes.main(["--check"]) == 0, "README runtimes differ from the notebooks' metadata; run " \
        f"python tools/readme_runtimes.py:\n{capsys.readouterr().out}"
