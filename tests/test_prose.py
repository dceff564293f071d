"""prose(): paragraphs rendered from the results recorded in the kernel, with clear errors."""
import pytest

from course_utils import results
from course_utils.prose import PROSE_TITLE, prose, render
from course_utils.results import record, recorded


@pytest.fixture(autouse=True)
def clean_results():
    results._recorded.clear()
    yield
    results._recorded.clear()


def test_prose_renders_recorded_numbers(capsys):
    record("cnn_acc", 0.91234, smoke=False)
    record("best_model", "CNN", smoke=False)
    assert recorded() == {"cnn_acc": 0.91234, "best_model": "CNN"}
    text = render("""
        The {best_model} reaches {cnn_acc:.1%}, {gap:.2f} points ahead.
        """, gap=1.5)
    assert text == "The CNN reaches 91.2%, 1.50 points ahead."
    prose("Accuracy {cnn_acc:.3f}; a literal {{brace}}.")
    assert capsys.readouterr().out.strip().endswith("Accuracy 0.912; a literal {brace}.")
    assert PROSE_TITLE.startswith("# @title") and 'display-mode: "form"' in PROSE_TITLE


@pytest.mark.parametrize("template, message", [
    ("{missing:.2f}", "no result named 'missing' has been recorded"),
    ("{acc:d}", "format does not fit its value"),
    ("{acc", "not a valid format string"),
    ("{}", "no result named ''"),
])
def test_prose_errors_say_what_to_do(template, message):
    record("acc", 0.5, smoke=False)
    with pytest.raises(ValueError, match=message):
        render(template)
    with pytest.raises(TypeError, match="paragraph as a string"):
        render(3)
