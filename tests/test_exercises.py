import math

import pytest
import torch

from course_utils import (
    check_function,
    check_prediction,
    check_project,
    check_tensor,
    check_value,
    exercises,
    note_prediction,
    show_scorecard,
)


@pytest.fixture(autouse=True)
def fresh_scorecard():
    exercises._RESULTS.clear()
    yield
    exercises._RESULTS.clear()


def test_not_attempted_prints_hint_and_does_not_raise(capsys):
    assert check_value(None, 3.0, name="ex1", hint="add them") is False
    assert check_tensor(None, torch.ones(2), name="ex2", hint="use torch.ones") is False
    assert check_function(lambda x: None, torch.relu, [(torch.randn(3),)], name="ex3", hint="clamp") is False
    assert check_function(None, torch.relu, [(torch.randn(3),)], name="ex4", hint="clamp") is False
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 4 and "Hint: add them" in out


def test_wrong_answers_say_how_they_are_wrong_without_the_answer(capsys):
    assert not check_value(2.0, 3.0, name="v", hint="")
    assert not check_value(30.0, 3.0, name="v10", hint="")
    assert not check_value(-3.0, 3.0, name="sign", hint="")
    assert not check_value("tanh", "relu", name="word", hint="the one with a kink")
    assert not check_value(1_640_010, 1_640_000, name="count", hint="")   # whole numbers must match exactly
    assert not check_value(0, 2.5, name="zero", hint="")
    assert not check_tensor(torch.ones(3), torch.ones(2), name="shape", hint="")
    assert not check_tensor(torch.tensor([1.0, 5.0]), torch.tensor([1.0, 2.0]), name="vals", hint="")
    assert not check_function(lambda x: 1 / 0, torch.relu, [(torch.randn(3),)], name="err", hint="")
    assert not check_function(lambda x: x + 1, torch.relu, [(torch.tensor([-1.0, 2.0]),)], name="fvals", hint="")
    assert not check_function(lambda x: x[:1], torch.relu, [(torch.tensor([-1.0, 2.0]),)], name="fshape", hint="")
    assert not check_function(lambda x: x.tolist(), torch.relu, [(torch.tensor([-1.0, 2.0]),)], name="ftype", hint="")
    assert not check_function(lambda k: 2 * k, lambda k: 3 * k, [(7,)], name="fint", hint="")
    assert not check_function(lambda k: "b", lambda k: "a", [(7,)], name="fstr", hint="")
    out = capsys.readouterr().out
    assert "[fvals] Not yet: for inputs [(2,)]: 1 of 2 values differ; at index (1,) you got 3, which is too high" in out
    assert "[fshape] Not yet: for inputs [(2,)]: shape (1,) but expected (2,)" in out
    assert "returned a list, expected a tensor" in out and "[fint] Not yet: for inputs [7]: got 14, which is too low" in out
    assert "returned 'b', which is not it" in out and "expected 21" not in out and "'a'" not in out
    assert "got 2, which is too low by about 33%" in out and "about 10 times the answer" in out
    assert "[count] Not yet: got 1.64001e+06, which is too high by less than 1%" in out
    assert "[zero] Not yet: got 0, which is too low" in out
    assert "wrong sign" in out and "'tanh' is not it. Hint: the one with a kink" in out and "relu" not in out
    assert "shape (3,) but expected (2,)" in out
    assert "at index (1,) you got 5, about 2.5 times the answer" in out and "ZeroDivisionError" in out


def test_right_answers_pass_without_printing_the_answer(capsys):
    assert check_value(torch.tensor(3.00001), 3.0, name="v", hint="")
    assert check_value(" ReLU", "relu", name="s", hint="")
    assert check_tensor(torch.eye(2), torch.eye(2), name="t", hint="")
    xs = [(torch.randn(4, 3),), (torch.zeros(2),)]
    assert check_function(lambda x: x.clamp(min=0), torch.relu, xs, name="f", hint="")
    out = capsys.readouterr().out
    assert out.count("Correct!") == 4 and "3.0" not in out and "'relu'" not in out


def test_predictions_say_how_far_off_and_why(capsys):
    assert not note_prediction(None, name="p", hint="think of the corners")
    assert note_prediction(0.7, name="p", hint="")
    assert check_prediction(0.7, 0.649, name="p", hint="", why="a line gets 3 corners", within=0.1)
    assert not check_prediction(0.95, 0.649, name="p", hint="", why="a line gets 3 corners", within=0.1)
    assert check_prediction(200, 130, name="f", hint="", why="w", factor=2)
    assert not check_prediction(1000, 130, name="f", hint="", why="w", factor=2)
    assert not check_prediction(-1, 130, name="f", hint="", why="w", factor=2)
    assert not check_prediction(321_000, 321_322, name="big", hint="", why="w", within=10)
    assert check_prediction("GPT", "gpt", name="c", hint="", why="w")
    assert not check_prediction("lstm", "gpt", name="c", hint="", why="w")
    assert check_prediction((2, 3), torch.Size([2, 3]), name="s", hint="", why="w")
    assert not check_prediction((3, 2), (2, 3), name="s", hint="", why="w")
    assert not check_prediction("a lot", 3.0, name="n", hint="", why="w", within=1)
    assert not check_prediction(None, 3.0, name="n", hint="guess", why="w", within=1)
    out = capsys.readouterr().out
    assert "[p] Noted: you predict 0.7" in out and "off by 0.051 (within 0.1). Why: a line gets 3 corners" in out
    assert "off by 0.301 (more than 0.1)" in out and "a factor of 7.69 apart (more than 2)" in out
    assert "you predicted 321,000; measured 321,322: off by 322 (more than 10)" in out
    assert "you predicted 'lstm'; the measurement says 'gpt'" in out and "expected a number, got str" in out


@pytest.mark.parametrize("kwargs", [{}, {"within": 1, "factor": 2}])
def test_a_numeric_prediction_needs_one_tolerance(kwargs):
    with pytest.raises(ValueError, match="exactly one of within"):
        check_prediction(1.0, 2.0, name="n", hint="", why="w", **kwargs)


GOALS = {"accuracy": (">=", 0.9), "parameters": ("<=", 1000), "seconds": ("<=", None)}


def test_a_project_is_measured_by_the_checker(capsys):
    measure = lambda model: {"accuracy": model["acc"], "parameters": model["n"]}  # noqa: E731
    assert not check_project(None, measure, GOALS, name="proj", hint="train a small model")
    assert not check_project(lambda: None, measure, GOALS, name="proj", hint="train a small model")
    assert check_project(lambda: {"acc": 0.93, "n": 800}, measure, GOALS, name="proj", hint="")
    assert not check_project(lambda: {"acc": 0.85, "n": 5000}, measure, GOALS, name="proj", hint="")
    assert not check_project(lambda: {"acc": math.nan, "n": 5}, measure, GOALS, name="proj", hint="")
    assert not check_project(lambda: 1 / 0, measure, GOALS, name="proj", hint="")
    assert not check_project(lambda: {"acc": 0.95}, measure, GOALS, name="proj", hint="")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[proj] Not attempted yet. Hint: train a small model" and out[1] == out[0]
    assert out[2].startswith("[proj] Correct! accuracy 0.93 (goal >= 0.9); parameters 800 (goal <= 1,000); seconds ")
    assert out[3].startswith("[proj] Not yet: missed the goal for accuracy (too low), parameters (too high). accuracy "
                             "0.85 (goal >= 0.9: missed); parameters 5,000 (goal <= 1,000: missed)")
    assert "missed the goal for accuracy (too low)." in out[4]
    assert "your build() raised ZeroDivisionError" in out[5] and "measuring what build() returned raised KeyError" in out[6]


@pytest.mark.parametrize("goals, message", [({"accuracy": ("==", 1)}, "use '>=' or '<='"),
                                            ({"f1": (">=", 0.5)}, "goal 'f1' is not measured")])
def test_a_project_with_a_broken_goal_is_the_chapters_mistake(goals, message):
    with pytest.raises(ValueError, match=message):
        check_project(lambda: 1, lambda m: {"accuracy": 1.0}, goals, name="proj", hint="")


def test_the_scorecard_shows_the_learners_latest_checks_but_not_the_solutions(capsys):
    check_value(None, 3.0, name="first", hint="h")
    note_prediction(0.5, name="guess", hint="")
    check_value(2.0, 3.0, name="second", hint="")
    exercises._STATE["in_solution"] = True     # what the IPython hook sets while a solution cell runs
    check_value(3.0, 3.0, name="second", hint="")
    exercises._STATE["in_solution"] = False
    check_value(3.0, 3.0, name="first", hint="")
    capsys.readouterr()
    show_scorecard()
    out = capsys.readouterr().out
    assert "first" in out and "correct" in out and "second" in out and "not yet" in out and "noted" in out
    assert out.rstrip().endswith("1 of 3 correct")
    exercises._RESULTS.clear()
    show_scorecard()
    assert "No exercise has been checked yet" in capsys.readouterr().out


def test_solution_cells_are_recognised_in_a_kernel():
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    try:
        exercises._watch_solution_cells()
        shell.run_cell("from course_utils import check_value\ncheck_value(1, 2, name='k', hint='')")
        shell.run_cell(exercises.SOLUTION_TITLE + ' (try first) { display-mode: "form" }\n'
                       "assert check_value(2, 2, name='k', hint='')")
        assert exercises._RESULTS["k"][0] == "not yet" and exercises._STATE["in_solution"] is False
    finally:
        InteractiveShell.clear_instance()
