"""``explore``: an ipywidgets UI around a pure function that returns a Figure.

``explore(fn, w=(-3.0, 3.0, 0.1), activation=["relu", "tanh"])`` builds one control per keyword
and redraws ``fn(**values)`` when a control changes. Headless (``COURSE_HEADLESS=1``, as set by
the runner and the tests, or outside a Jupyter kernel) it calls ``fn`` once with the defaults and
shows a static figure, so every interactive cell also executes in tests. Only APIs present in
both ipywidgets 7.7 (Colab) and 8.x (JupyterLab 4) are used.

Introduced in notebooks/00_getting_started.ipynb, section 0.6.
"""
from __future__ import annotations

import base64
import inspect
import io
import math
from collections.abc import Callable
from typing import Any

from .repro import is_headless

__all__ = ["explore", "build_explorer", "default_values", "static_figure_html"]


def _snap(value: float, lo: float, hi: float, step: float) -> float:
    """The value on the slider's grid ``lo + k * step`` closest to ``value`` (browsers snap too)."""
    k = round((min(max(value, lo), hi) - lo) / step)
    snapped = lo + k * step
    return int(snapped) if all(isinstance(v, int) for v in (lo, hi, step)) else round(snapped, 10)


def _start_value(spec: Any, given: Any) -> Any:
    """Starting value of one control: the function's own default if it is allowed, else a neutral one."""
    if isinstance(spec, tuple):  # a slider; a list, even of numbers, is a dropdown
        if len(spec) not in (2, 3) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise ValueError(f"slider spec {spec!r} must be (min, max) or (min, max, step) numbers; use a list for a dropdown")
        lo, hi = spec[0], spec[1]
        step = spec[2] if len(spec) == 3 else (1 if isinstance(lo, int) and isinstance(hi, int) else (hi - lo) / 100)
        if not all(math.isfinite(v) for v in (lo, hi, step)):
            raise ValueError(f"slider spec {spec} must hold finite numbers (no inf or nan): give the range "
                             f"the slider should span, e.g. (0.0, 10.0, 0.1)")
        if not lo < hi or step <= 0:
            raise ValueError(f"slider spec {spec} needs min < max and step > 0")
        if step > hi - lo:
            raise ValueError(f"slider spec {spec}: the step {step} is larger than the range {hi - lo}, so the "
                             f"slider could not move; use a smaller step")
        start = given if isinstance(given, (int, float)) and not isinstance(given, bool) else (lo + hi) / 2
        return _snap(start, lo, hi, step)
    if isinstance(spec, list):
        if not spec:
            raise ValueError("a list of options must not be empty")
        return given if given in spec else spec[0]
    if isinstance(spec, (bool, str)):
        return given if type(given) is type(spec) else spec
    if hasattr(spec, "value"):  # a ready-made widget
        return spec.value
    raise TypeError(f"cannot make a control from {spec!r}: use (min, max, step), a list, a bool or a str")


def default_values(fn: Callable[..., Any], **controls: Any) -> dict[str, Any]:
    """The values ``explore`` starts from: ``fn``'s defaults snapped onto each control's grid."""
    sig = inspect.signature(fn)
    unknown = [k for k in controls if k not in sig.parameters]
    if unknown:
        raise TypeError(f"{fn.__name__}() has no parameter(s) {unknown}; it takes {list(sig.parameters)}")
    out = {}
    for name, spec in controls.items():
        given = sig.parameters[name].default
        out[name] = _start_value(spec, None if given is inspect.Parameter.empty else given)
    return out


def _widget(name: str, spec: Any, value: Any) -> Any:
    import ipywidgets as w
    if hasattr(spec, "value"):
        return spec
    if isinstance(spec, bool):
        return w.Checkbox(value=value, description=name)
    if isinstance(spec, str):
        return w.Text(value=value, description=name, continuous_update=False)
    if isinstance(spec, list):
        return w.Dropdown(options=spec, value=value, description=name)
    lo, hi = spec[0], spec[1]
    if all(isinstance(v, int) for v in spec):
        step = spec[2] if len(spec) == 3 else 1
        return w.IntSlider(value=value, min=lo, max=hi, step=step, description=name, continuous_update=False)
    step = spec[2] if len(spec) == 3 else (hi - lo) / 100
    decimals = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=name,
                         continuous_update=False, readout_format=f".{decimals}f")


# Shown only where no live widget renders beside it: a reopened notebook whose widget models are gone
# ("Error displaying widget: model not found"), a static viewer. Next to a live explorer the rule hides it.
_STATIC_CSS = ("<style>.jp-OutputArea:has(.widget-output) .course-static-figure,"
               ".output:has(.widget-output) .course-static-figure{display:none}</style>")


def static_figure_html(fig: Any) -> str | None:
    """An ``<img>`` of a matplotlib Figure as HTML (PNG inline), hidden beside a live explorer; None for others."""
    if not hasattr(fig, "savefig"):
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'{_STATIC_CSS}<div class="course-static-figure"><p><em>The explorer\'s figure as it was drawn '
            f'(run the cell to move its controls again):</em></p><img src="data:image/png;base64,{data}"/></div>')


def build_explorer(fn: Callable[..., Any], **controls: Any) -> tuple[Any, dict[str, Any]]:
    """The widget UI (a VBox of controls above an output area) and its controls by name.

    The UI's ``last_figure`` attribute holds what ``fn`` returned most recently.
    """
    import ipywidgets as w
    from IPython.display import display

    values = default_values(fn, **controls)
    made = {name: _widget(name, spec, values[name]) for name, spec in controls.items()}
    last: list[Any] = [None]

    def draw(**kwargs: Any) -> None:
        last[0] = fn(**kwargs)
        display(last[0])

    out = w.interactive_output(draw, made)
    ui = w.VBox([w.HBox(list(made.values()), layout=w.Layout(flex_flow="row wrap")), out])
    ui.last_figure = lambda: last[0]
    return ui, made


def explore(fn: Callable[..., Any], **controls: Any) -> None:
    """Show ``fn``'s Figure with a control per keyword; headless, show it once with the defaults.

    Controls: ``(min, max, step)`` numbers make a slider (ints: IntSlider), a list a dropdown, a
    bool a checkbox, a str a text box; an ipywidgets widget is used as given. The starting value
    is ``fn``'s default for that parameter when it lies in the control's range.

    With widgets, a static copy of the first figure is shown too, hidden by CSS while the live
    explorer renders: a notebook reopened after a save (whose widgets cannot be redrawn without
    their kernel) still shows the figure.
    """
    from IPython.display import HTML, display
    if is_headless():
        display(fn(**default_values(fn, **controls)))
        return
    ui, _ = build_explorer(fn, **controls)
    display(ui)
    html = static_figure_html(ui.last_figure())
    if html is not None:
        display(HTML(html))
