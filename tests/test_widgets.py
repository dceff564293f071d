import pytest
from matplotlib.figure import Figure

from course_utils.plot import new_figure
from course_utils.widgets import build_explorer, default_values, explore

calls = []


def line(slope: float = 1.0, steps: int = 10, kind: str = "a", show: bool = True) -> Figure:
    calls.append((slope, steps, kind, show))
    fig, axes = new_figure()
    axes[0, 0].plot([0, steps], [0, slope * steps])
    return fig


def test_defaults_come_from_the_function_and_snap_to_the_grid():
    vals = default_values(line, slope=(-3.0, 3.0, 0.25), steps=(1, 50, 7), kind=["b", "a"], show=False)
    assert vals == {"slope": 1.0, "steps": 8, "kind": "a", "show": True}
    assert default_values(line, slope=(2.0, 3.0, 0.1))["slope"] == 2.0  # default outside the range: clipped


def test_bad_controls_are_explained():
    with pytest.raises(TypeError, match=r"has no parameter\(s\) \['slop'\]"):
        default_values(line, slop=(0.0, 1.0, 0.1))
    with pytest.raises(ValueError, match="min < max"):
        default_values(line, slope=(1.0, 0.0, 0.1))
    with pytest.raises(TypeError, match="cannot make a control"):
        default_values(line, slope=object())
    with pytest.raises(ValueError, match="use a list for a dropdown"):
        default_values(line, slope=("a", "b"))


def test_a_list_of_numbers_is_a_dropdown_not_a_slider():
    assert default_values(line, steps=[8, 32, 64]) == {"steps": 8}    # 10 is not an option: the first one
    assert default_values(line, steps=[5, 10, 20])["steps"] == 10      # the function's default is kept
    _, controls = build_explorer(line, steps=[5, 10, 20])
    assert type(controls["steps"]).__name__ == "Dropdown" and controls["steps"].value == 10


def test_headless_explore_draws_once_with_defaults(monkeypatch):
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    calls.clear()
    explore(line, slope=(-3.0, 3.0, 0.5), kind=["a", "b"])
    assert calls == [(1.0, 10, "a", True)]


def test_widgets_redraw_when_a_control_changes():
    calls.clear()
    ui, controls = build_explorer(line, slope=(-3.0, 3.0, 0.5), steps=(1, 20, 1), kind=["a", "b"], show=True)
    assert type(controls["slope"]).__name__ == "FloatSlider" and type(controls["steps"]).__name__ == "IntSlider"
    assert type(controls["kind"]).__name__ == "Dropdown" and type(controls["show"]).__name__ == "Checkbox"
    assert calls[-1] == (1.0, 10, "a", True)
    controls["slope"].value = 2.5
    controls["kind"].value = "b"
    assert calls[-1] == (2.5, 10, "b", True)
    assert len(ui.children) == 2


@pytest.mark.parametrize("spec", [(0.0, float("inf"), 0.1), (float("-inf"), 1.0), (0.0, 1.0, float("nan")),
                                  (float("nan"), 1.0, 0.1)])
def test_explore_refuses_non_finite_bounds(spec):
    def draw(w=0.5):
        return w
    with pytest.raises(ValueError, match="finite numbers"):
        default_values(draw, w=spec)


def test_explore_refuses_a_step_wider_than_the_range():
    with pytest.raises(ValueError, match="larger than the range"):
        default_values(lambda w=0.5: w, w=(0.0, 1.0, 5.0))


def test_a_live_explorer_leaves_a_static_copy_of_its_figure_for_a_reopened_notebook(monkeypatch):
    """The copy is an <img> of the figure the widget drew first, with the CSS rule that hides it beside a live widget."""
    import base64
    import re

    import IPython.display
    shown = []
    monkeypatch.setenv("COURSE_HEADLESS", "0")
    monkeypatch.setattr("course_utils.widgets.is_headless", lambda: False)
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    calls.clear()
    explore(line, slope=(-3.0, 3.0, 0.5))
    assert calls == [(1.0, 10, "a", True)], "the figure is drawn once, for the widget and the copy"
    assert type(shown[-2]).__name__ == "VBox" and isinstance(shown[-1], IPython.display.HTML)
    html = shown[-1].data
    assert ":has(.widget-output) .course-static-figure{display:none}" in html
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_a_function_that_returns_no_figure_gets_no_static_copy():
    from course_utils.widgets import static_figure_html
    assert static_figure_html("just text") is None
