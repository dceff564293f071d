import pytest
import torch
from matplotlib.figure import Figure

from course_utils import History, plot_curves, plot_history, show_images


def test_plot_history_has_a_panel_per_quantity():
    h = History(epochs=[{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_acc": e / 4,
                         "val_acc": e / 5, "lr": 0.1, "time": 1.0} for e in (1, 2, 3)])
    fig = plot_history(h)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "acc"]
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())
    with pytest.raises(KeyError, match=r"\['train_loss'\].*\['acc', 'loss'\]"):
        plot_history(h, ["train_loss"])


def test_show_images_shapes_and_labels():
    fig = show_images(torch.rand(10, 1, 8, 8), labels=[str(i) for i in range(10)], ncols=4)
    assert len(fig.axes) == 12 and fig.axes[9].get_title() == "9"
    assert len(show_images(torch.rand(3, 3, 8, 8)).axes) == 3
    signed = show_images(torch.randn(2, 8, 8), cmap="RdBu", vmin=-1, vmax=1)
    assert signed.axes[0].images[0].get_clim() == (-1, 1)
    with pytest.raises(ValueError, match="2 labels"):
        show_images(torch.rand(3, 8, 8), labels=["a", "b"])
    with pytest.raises(ValueError, match=r"got shape \(8,\)"):
        show_images(torch.rand(8))


def test_plot_curves():
    fig = plot_curves([1, 10, 100], {"a": [0.1, 0.5, 0.9], "b": [0.2, 0.4, 0.6]}, xlabel="n", ylabel="acc",
                      logx=True, errors={"a": [0.01, 0.02, 0.03]})
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_xscale() == "log" and ax.get_xlabel() == "n"
