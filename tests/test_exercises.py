import torch

from course_utils import check_function, check_tensor, check_value


def test_not_attempted_prints_hint_and_does_not_raise(capsys):
    assert check_value(None, 3.0, name="ex1", hint="add them") is False
    assert check_tensor(None, torch.ones(2), name="ex2", hint="use torch.ones") is False
    assert check_function(lambda x: None, torch.relu, [(torch.randn(3),)], name="ex3", hint="clamp") is False
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 3 and "Hint: add them" in out


def test_wrong_answers_say_how_they_are_wrong(capsys):
    assert not check_value(2.0, 3.0, name="v", hint="")
    assert not check_tensor(torch.ones(3), torch.ones(2), name="shape", hint="")
    assert not check_tensor(torch.tensor([1.0, 5.0]), torch.tensor([1.0, 2.0]), name="vals", hint="")
    assert not check_function(lambda x: 1 / 0, torch.relu, [(torch.randn(3),)], name="err", hint="")
    out = capsys.readouterr().out
    assert "got 2, expected 3" in out and "shape (3,) but expected (2,)" in out
    assert "at index (1,) got 5" in out and "ZeroDivisionError" in out


def test_right_answers_pass(capsys):
    assert check_value(torch.tensor(3.00001), 3.0, name="v", hint="")
    assert check_value("relu", "relu", name="s", hint="")
    assert check_tensor(torch.eye(2), torch.eye(2), name="t", hint="")
    xs = [(torch.randn(4, 3),), (torch.zeros(2),)]
    assert check_function(lambda x: x.clamp(min=0), torch.relu, xs, name="f", hint="")
    assert capsys.readouterr().out.count("Correct!") == 4
