import nbformat

from course_utils.runner import NotebookRun, code_hash, write_report


def nb_with(*sources, injected=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    if injected is not None:
        cell = nbformat.v4.new_code_cell(injected)
        cell.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(2, cell)
    return nb


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
