import errno
import json
import logging
import os
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from course_utils import report as report_module
from course_utils import runner
from course_utils.report import committed_runtimes
from course_utils.runner import NotebookRun, code_hash, main, write_report


def nb_with(*sources, injected=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    if injected is not None:
        cell = nbformat.v4.new_code_cell(injected)
        cell.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(2, cell)
    return nb


def chapter(path: Path, *sources: str, parameters: str = "SMOKE = False") -> Path:
    """A tiny chapter notebook: a ``parameters`` cell, then ``sources`` (kernel python3)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def leftovers(*folders: Path) -> list[Path]:
    """Working copies and temporary files the runner might leave behind."""
    return [p for f in folders for p in f.rglob("*") if p.name.startswith(".running") or p.name.endswith(".tmp")
            or p.name.startswith(".runner-probe")]


def fake_papermill(monkeypatch, then=None):
    """papermill without a kernel: copies the notebook to the output, then raises ``then`` if given."""
    def execute(input_path, output_path, **kwargs):
        Path(output_path).write_text(Path(input_path).read_text())
        if then is not None:
            raise then
    monkeypatch.setattr(papermill, "execute_notebook", execute)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_code_hash_tracks_code_only():
    base = code_hash(nb_with("a = 1", "b = 2"))
    assert code_hash(nb_with("a = 1", "b = 2", injected="SMOKE = False")) == base
    assert code_hash(nb_with("a = 1", "b = 3")) != base
    changed_prose = nb_with("a = 1", "b = 2")
    changed_prose.cells[0].source = "# other title"
    assert code_hash(changed_prose) == base


def test_report_lists_runtimes_and_results(tmp_path):
    runs = [NotebookRun("00_a", tmp_path / "a.ipynb", 12.3, {"acc": {"name": "acc", "value": 0.91234, "smoke": False}}),
            NotebookRun("01_b", tmp_path / "b.ipynb", 4.0, {}, error="PapermillExecutionError: boom")]
    md, page = write_report(runs, tmp_path, smoke=False)
    text = md.read_text()
    assert "| 00_a | ok | 12.3 | acc = 0.9123 |" in text and "FAILED: PapermillExecutionError: boom" in text
    assert "1 failed" in text and "<td>00_a</td>" in page.read_text()


def test_report_charts_runtimes_and_flags_chapters_over_budget(tmp_path):
    nb = tmp_path / "07_slow.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"course": {"seconds": 321.5, "smoke": False, "gpu_seconds": 9}}}))
    (tmp_path / "08_bad.ipynb").write_text("{")
    reference = committed_runtimes([nb, tmp_path / "08_bad.ipynb", tmp_path / "missing.ipynb"])
    assert reference == {"07_slow": {"committed full run (CPU)": 321.5, "committed full run (GPU)": 9.0}}
    loaded = tmp_path / "09_loaded.ipynb"   # a run that shared its machine: the kernel's CPU seconds are the better measure
    loaded.write_text(json.dumps({"cells": [], "metadata": {"course": {"seconds": 400.0, "cpu_seconds": 95.5, "smoke": False}}}))
    assert committed_runtimes([loaded]) == {"09_loaded": {"committed full run (CPU)": 95.5}}
    runs = [NotebookRun("07_slow", nb, 301.0, {}), NotebookRun("08_fast", None, 12.0, {})]
    md, page = write_report(runs, tmp_path / "out", smoke=False, reference=reference)
    text = md.read_text()
    assert "| 07_slow | ok | 301.0 (over budget) |" in text and "| 08_fast | ok | 12.0 |" in text
    assert "over the 300 s budget of full mode: 07_slow." in text and "![Runtime per chapter](runtimes.png)" in text
    png = tmp_path / "out" / "runtimes.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "<img src='runtimes.png'" in page.read_text()
    assert not list((tmp_path / "out").glob(".*tmp*")), "no temporary file left behind"
    _, _ = write_report(runs[1:], tmp_path / "smoke", smoke=True, reference=reference)
    assert "over the 30 s budget of smoke mode: none." in (tmp_path / "smoke" / "report.md").read_text()
    # a smoke run is not drawn against the full-mode runs' budget: they get a second panel (a wider figure)
    widths = [int.from_bytes(p.read_bytes()[16:20], "big") for p in (png, tmp_path / "smoke" / "runtimes.png")]
    assert widths[1] > 1.2 * widths[0], widths   # the PNG header's width


# --- real kernels (two starts) ---------------------------------------------------------------------

def test_failed_in_place_run_leaves_the_source_untouched(tmp_path):
    src = chapter(tmp_path / "07_broken.ipynb", "values = [1, 2]\nraise ValueError(f'boom {values}')", "after = 1")
    before = src.read_bytes()
    out = tmp_path / "build"
    assert main([str(src), "--in-place", "--out", str(out)]) == 1
    assert src.read_bytes() == before, "a failed run was written into the source"
    kept = out / "failed" / src.name
    failed = json.loads(kept.read_text())
    assert any(o["output_type"] == "error" for c in failed["cells"] for o in c.get("outputs", []))
    report = (out / "report.md").read_text()
    assert "07_broken" in report and "cell 1 (`values = [1, 2]`)" in report, report
    assert "ValueError: boom [1, 2]" in report and str(kept) in report, report
    assert "cell 1 (`values = [1, 2]`): ValueError: boom [1, 2]" in (out / "report.html").read_text()
    assert not leftovers(out, tmp_path)


def test_successful_in_place_run_replaces_the_source_and_stamps_it(tmp_path, capfd):
    src = chapter(tmp_path / "08_fine.ipynb", "answer = 6 * 7\nanswer", "print('the answer is', answer)")
    solution = json.loads(src.read_text())
    solution["cells"][2]["metadata"]["tags"] = ["solution"]
    solution["metadata"]["course"] = {"introduces": ["nn.Linear"], "seconds": 1.0}
    src.write_text(json.dumps(solution))
    out = tmp_path / "build"
    stale = out / "failed" / src.name  # what an earlier failed run kept
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    assert main([str(src), "--in-place", "--out", str(out)]) == 0
    nb = json.loads(src.read_text())
    assert nb["metadata"]["course"]["code_sha256"] == code_hash(nb)
    assert nb["metadata"]["course"]["smoke"] is False and nb["metadata"]["course"]["seconds"] != 1.0
    cpu = nb["metadata"]["course"]["cpu_seconds"]   # the kernel's CPU time: what a quiet machine's wall time would be
    assert cpu is None if sys.platform == "win32" else 0 < cpu < 60
    assert nb["metadata"]["course"]["introduces"] == ["nn.Linear"], "the chapter's own metadata is kept"
    assert nb["metadata"]["papermill"]["output_path"] == str(src)
    assert not [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "".join(nb["cells"][1]["outputs"][0]["data"]["text/plain"]) == "42"
    assert nb["cells"][2]["outputs"] == [] and nb["cells"][2]["execution_count"], "a solution ran, its output is not kept"
    assert not stale.exists(), "an out-of-date failed copy was kept"
    assert not leftovers(out, tmp_path)
    captured = capfd.readouterr()  # the kernel's own stderr too (file descriptor 2)
    # no transport or parameter-parsing noise (a kernel may still log its own shutdown at ERROR: a race in
    # ipykernel, seen once in CI as "KeyboardInterrupt caught in kernel", which says nothing about the run)
    for noise in ("without encryption", "Transport", "Unable to parse line", "Passed unknown parameter", "WARNING"):
        assert noise not in captured.err, f"noise on the console: {captured.err!r}"
    assert "ok  08_fine" in captured.out


# --- no kernel ----------------------------------------------------------------------------------------

def test_out_that_is_a_file_gives_one_line(tmp_path, capsys):
    src = chapter(tmp_path / "01_x.ipynb", "x = 1")
    out = tmp_path / "build"
    out.write_text("not a folder")
    assert main([str(src), "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("runner: ") and str(out) in line and "is a file" in line


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_out_folder_gives_one_line(tmp_path, capsys):
    src = chapter(tmp_path / "01_x.ipynb", "x = 1")
    out = tmp_path / "build"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main([str(src), "--out", str(out)]) == 2
    finally:
        out.chmod(0o700)
    assert "Permission denied" in one_line(capsys.readouterr().err)


def test_out_folder_that_refuses_writes_gives_one_line(tmp_path, monkeypatch, capsys):
    def refuse(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    monkeypatch.setattr(runner, "write_atomic", refuse)
    src = chapter(tmp_path / "01_x.ipynb", "x = 1")
    before = src.read_bytes()
    assert main([str(src), "--in-place", "--out", str(tmp_path / "build")]) == 2
    assert one_line(capsys.readouterr().err) == f"runner: cannot write to --out {tmp_path / 'build'}: Permission denied"
    assert src.read_bytes() == before


def test_disk_full_while_writing_the_report_gives_one_line(tmp_path, monkeypatch, capsys):
    real = report_module.write_atomic

    def full_for_reports(path, text):
        if path.name.startswith("report"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)
    monkeypatch.setattr(report_module, "write_atomic", full_for_reports)  # write_report lives in course_utils.report
    assert main([str(tmp_path / "missing.ipynb"), "--out", str(tmp_path / "build")]) == 2
    err = one_line(capsys.readouterr().err)
    assert err == f"runner: could not write the report in {tmp_path / 'build'}: No space left on device"


def test_disk_full_while_a_notebook_runs_stops_with_one_line_and_a_report(tmp_path, monkeypatch, capsys):
    fake_papermill(monkeypatch, then=OSError(errno.ENOSPC, "No space left on device"))
    first = chapter(tmp_path / "02_a.ipynb", "x = 1")
    second = chapter(tmp_path / "03_b.ipynb", "y = 2")
    before = first.read_bytes()
    out = tmp_path / "build"
    assert main([str(first), str(second), "--in-place", "--out", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("runner: stopped at 02_a: cannot write ") and "No space left on device" in err
    assert first.read_bytes() == before and not leftovers(out, tmp_path)
    report = (out / "report.md").read_text()
    assert "| 02_a | FAILED:" in report and "03_b" not in report.split("Total")[0] and "stopped early" in report


def test_write_atomic_keeps_the_old_file_when_the_disk_fills(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(runner.os, "fsync", full)
    with pytest.raises(OSError):
        runner.write_atomic(target, "new " * 1000)
    assert target.read_text() == "old" and not leftovers(tmp_path)


def test_missing_or_non_notebook_paths_fail_alone(tmp_path, monkeypatch, capsys):
    fake_papermill(monkeypatch)
    good = chapter(tmp_path / "04_ok.ipynb", "x = 1")
    text = tmp_path / "notes.txt"
    text.write_text("not a notebook")
    broken = tmp_path / "05_broken.ipynb"
    broken.write_text("{ half a notebook")
    out = tmp_path / "build"
    assert main([str(tmp_path / "missing.ipynb"), str(text), str(broken), str(good), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert f"no such file: {tmp_path / 'missing.ipynb'}" in printed
    assert f"not a notebook (.ipynb file): {text}" in printed
    assert f"cannot read {broken} as a notebook" in printed
    assert "ok  04_ok" in printed and (out / good.name).exists()
    report = (out / "report.md").read_text()
    assert "| missing | FAILED: no such file" in report and "| 04_ok | ok |" in report


def test_keyboard_interrupt_leaves_the_source_and_no_temporary_files(tmp_path, monkeypatch, capsys):
    fake_papermill(monkeypatch, then=KeyboardInterrupt())
    src = chapter(tmp_path / "06_long.ipynb", "x = 1")
    before = src.read_bytes()
    out = tmp_path / "build"
    try:
        code = main([str(src), "--in-place", "--out", str(out)])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the runner with a traceback")
    assert code == 130
    assert src.read_bytes() == before and not leftovers(out, tmp_path)
    assert one_line(capsys.readouterr().err) == f"runner: interrupted during 06_long; {src} was left as it was"
    assert "interrupted" in (out / "report.md").read_text()


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_timeout_must_be_a_positive_number_of_seconds(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "x.ipynb"), "--out", str(tmp_path / "build"), f"--timeout={value}"])
    assert exit_.value.code == 2
    assert "argument --timeout: must be" in capsys.readouterr().err


def test_failure_names_the_source_cell_and_a_timeout():
    source = nb_with("SMOKE = False", "import time\ntime.sleep(99)")
    executed = nb_with("SMOKE = False", "import time\ntime.sleep(99)", injected="SMOKE = True")
    executed.cells[3].metadata["papermill"] = {"start_time": "t", "duration": 5.2}
    for cell in executed.cells[:3]:
        cell.metadata["papermill"] = {"start_time": "t", "duration": 0.1}
    err = papermill.exceptions.PapermillExecutionError(3, 2, executed.cells[3].source, "KeyboardInterrupt", "", [])
    assert runner.describe_failure(err, executed, source, timeout=5) == (
        "cell 2 (`import time`): CellTimeoutError: the cell ran longer than 5 s (--timeout) and was interrupted")
    assert runner.describe_failure(err, executed, source, timeout=60) == "cell 2 (`import time`): KeyboardInterrupt"


def test_parameters_cell_must_be_literal_and_papermill_complaints_are_replaced(caplog):
    assert runner.parameters_problem(nb_with("x = 1")) is not None  # no parameters cell
    for good, text in [(True, "SMOKE = False"), (False, 'SMOKE = os.environ.get("COURSE_SMOKE") == "1"'),
                       (False, "N = 3")]:
        nb = nb_with(text)
        nb.cells[1].metadata["tags"] = ["parameters"]
        assert (runner.parameters_problem(nb) is None) is good, text
    runner.quiet_logs()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("papermill.translators").warning("Unable to parse line 1 'SMOKE = f()'.")
        logging.getLogger("papermill").warning("Passed unknown parameter: SMOKE")
        logging.getLogger("papermill").warning("Black encountered an error")
    assert [r.getMessage() for r in caplog.records] == ["Black encountered an error"]


def test_kernel_option_picks_the_kernelspec_and_widgets_leave_headless_unset(tmp_path, monkeypatch):
    """--kernel reaches papermill; --widgets leaves COURSE_HEADLESS unset (the kernel's shell decides, as
    on Colab), without it the runner sets COURSE_HEADLESS=1. The Colab simulation relies on both."""
    seen = []

    def execute(input_path, output_path, **kwargs):
        seen.append((kwargs["kernel_name"], kwargs["cwd"], os.environ.get("COURSE_HEADLESS")))
        Path(output_path).write_text(Path(input_path).read_text())
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    monkeypatch.delenv("COURSE_SMOKE", raising=False)  # restored after the test: main() sets it
    src = chapter(tmp_path / "00_a.ipynb", "x = 1")
    assert main([str(src), "--smoke", "--widgets", "--kernel", "colab-sim", "--out", str(tmp_path / "b")]) == 0
    assert main([str(src), "--smoke", "--out", str(tmp_path / "b")]) == 0
    assert seen == [("colab-sim", str(tmp_path), None), ("python3", str(tmp_path), "1")]


def test_a_kernel_that_never_started_is_tried_once_more(tmp_path, monkeypatch):
    """Two kernels starting at once can race for a port ("Address already in use"): one retry, not a failure."""
    import course_utils.runner as runner
    from course_utils.runner import kernel_start_failed
    assert kernel_start_failed("RuntimeError: Kernel died before replying to kernel_info; executed notebook: x")
    assert not kernel_start_failed("cell 3 (`x = 1 / 0`): ZeroDivisionError: division by zero")
    src = chapter(tmp_path / "09_race.ipynb", "answer = 6 * 7")
    real, calls = runner._papermill, []

    def flaky(*args, **kwargs):
        calls.append(1)
        return "RuntimeError: Kernel died before replying to kernel_info" if len(calls) == 1 else real(*args, **kwargs)
    monkeypatch.setattr(runner, "_papermill", flaky)
    run = runner.execute_notebook(src, tmp_path / "out" / src.name, smoke=True, timeout=60)
    assert run.error is None and len(calls) == 2
