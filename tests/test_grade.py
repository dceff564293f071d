"""The grader: a learner's copy executed headless, solutions left out, every exercise on a scorecard."""
import json

import nbformat
import pytest

from course_utils.grade import ExerciseResult, format_scorecard, main, output_text, scorecard

CELLS = [  # (source, tags)
    ("from course_utils import check_value, check_function", []),
    ("answer = None\ncheck_value(answer, 42, name='untouched', hint='six times seven');", ["exercise"]),
    ("check_value(41, 42, name='wrong', hint='-');", ["exercise"]),
    ("check_value(42, 42, name='right', hint='-');", ["exercise"]),
    ("raise ValueError('the learner broke it')", ["exercise"]),
    ("assert check_value(42, 42, name='untouched', hint='')", ["solution"]),
    ("check_function(lambda x: None, lambda x: x, [(1,)], name='later', hint='return x');", ["exercise"]),
]


def make(tmp_path, cells=CELLS):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "copy.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_scorecard_reports_each_exercise_and_ignores_solutions(tmp_path, capsys):
    path = make(tmp_path)
    assert main([str(path), "--json", str(tmp_path / "card.json")]) == 0
    card = {r["name"]: r["status"] for r in json.loads((tmp_path / "card.json").read_text())}
    assert card == {"untouched": "not attempted", "wrong": "not yet", "right": "correct", "cell 4": "error",
                    "later": "not attempted"}, "the solution must not turn 'untouched' correct"
    out = capsys.readouterr().out
    assert "six times seven" in out and "got 41, which is too low by about 2%" in out
    assert "42" not in out.split("Scorecard")[0] and "ValueError: the learner broke it" in out
    assert out.rstrip().endswith("1 of 5 correct")


def test_with_solutions_the_solved_exercises_are_correct(tmp_path, capsys):
    path = make(tmp_path, CELLS[:2] + CELLS[5:6])
    assert main([str(path), "--with-solutions", "--json", str(tmp_path / "card.json")]) == 0
    assert json.loads((tmp_path / "card.json").read_text()) == [
        {"name": "untouched", "status": "correct", "message": "your value matches"}]
    assert capsys.readouterr().out.rstrip().endswith("1 of 1 correct")


def test_the_scorecard_of_an_executed_notebook_is_read_from_its_outputs():
    stream = {"output_type": "stream", "name": "stdout", "text": "[a] Correct! 3\n[b] Not yet: got 1, expected 2\n"}
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [stream]},
                    {"cell_type": "code", "metadata": {"tags": ["solution"]},
                     "outputs": [{"output_type": "stream", "text": "[b] Correct! 2\n"}]},
                    {"cell_type": "code", "metadata": {"tags": ["exercise"]}, "outputs": []}]}
    assert scorecard(nb) == [ExerciseResult("a", "correct", "3"), ExerciseResult("b", "not yet", "got 1, expected 2"),
                             ExerciseResult("cell 2", "not attempted", "the cell printed no check")]
    assert format_scorecard([], "x").endswith("no exercises found in this notebook")


def test_a_check_line_after_a_progress_bar_saved_without_a_newline_is_still_read():
    """JupyterLab saves a progress bar's text/plain without a final newline (seen in the browser test); a stream
    split between two writes is still one line."""
    bar = {"output_type": "display_data", "data": {"text/plain": "epochs: 100%|##########| 3/3"}, "metadata": {}}
    err = {"output_type": "stream", "name": "stderr", "text": "\r 50%|#####     | 1/2"}
    half = {"output_type": "stream", "name": "stdout", "text": "[p] Corr"}
    rest = {"output_type": "stream", "name": "stdout", "text": "ect! 0.91 >= 0.9\n"}
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["exercise"]}, "outputs": [bar, err, half, rest]}]}
    assert scorecard(nb) == [ExerciseResult("p", "correct", "0.91 >= 0.9")]
    assert output_text([bar, half, rest]) == "epochs: 100%|##########| 3/3\n[p] Correct! 0.91 >= 0.9\n"


@pytest.mark.parametrize("name, content", [("missing.ipynb", None), ("notes.txt", "hello"), ("bad.ipynb", "{")])
def test_what_is_not_a_notebook_is_refused_with_one_line(tmp_path, capsys, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("grade: ") and len(err.strip().splitlines()) == 1


def test_bad_options_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(make(tmp_path)), "--timeout", "0"])
    assert exc.value.code == 2 and "--timeout" in capsys.readouterr().err


def test_a_wrong_answer_is_the_solution_edited_with_every_assert_dropped():
    from course_utils.grade import add_wrong_answers
    solution = {"cell_type": "code", "id": "s1", "metadata": {"tags": ["solution"], "wrong_answer": {
        "why": "off by one", "replace": [["x = 3", "x = 4"]]}}, "outputs": [], "execution_count": None,
        "source": "# @title Solution\nx = 3\nassert x > 0, 'positive'\nassert check_value(x, 3, name='x', hint='')"}
    cells = add_wrong_answers({"cells": [solution]})["cells"]
    assert [c["metadata"]["tags"] for c in cells] == [["wrong-answer"], ["solution"]] and cells[0]["id"] == "wrong-s1"
    assert cells[0]["source"] == ("# a plausible wrong answer: off by one\nx = 4\nx > 0, 'positive'\n"
                                  "check_value(x, 3, name='x', hint='')")
    solution["metadata"]["wrong_answer"]["replace"] = [["y = 1", "y = 2"]]
    with pytest.raises(ValueError, match="'y = 1' is not in its code"):
        add_wrong_answers({"cells": [solution]})
