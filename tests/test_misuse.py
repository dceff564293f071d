"""A learner's mistakes with fit/evaluate/predict and checkpoints: each gives an error that says what to do.

Every case here failed on the package before issue 18 (a torch traceback, a late error, or a
silent wrong answer); where a check must come before training, the test also asserts that no
step was taken.
"""
import math

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import (
    CheckpointError,
    MapBatches,
    NonFiniteLossError,
    ShapeMismatchError,
    TensorBatches,
    evaluate,
    fit,
    predict,
)


def make_data(n=64, seed=0, classes=2):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    return x, (x[:, 0] > 0).long() if classes == 2 else torch.randint(0, classes, (n,), generator=g)


def make_model(out=2):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, out))


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def unchanged(model, before):
    return all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


_DEFAULT = object()


def train(model, data=_DEFAULT, **kw):
    kw.setdefault("optimizer", torch.optim.SGD(model.parameters(), lr=0.1))
    kw.setdefault("loss_fn", nn.CrossEntropyLoss())
    kw.setdefault("epochs", 1)
    return fit(model, make_data() if data is _DEFAULT else data, progress=False, verbose=False, **kw)


# ----------------------------------------------------------------------------- section 2 of issue 18
def test_optimizer_over_another_models_parameters():
    model, old = make_model(), make_model()
    with pytest.raises(ValueError, match="not parameters of this model.*Create the optimizer after the model"):
        train(model, optimizer=torch.optim.SGD(old.parameters(), lr=0.1))


@pytest.mark.parametrize("patience", [0, -1, 1.5, True])
def test_patience_below_one(patience):
    with pytest.raises(ValueError, match="patience .* must be a whole number >= 1"):
        train(make_model(), patience=patience)


def test_loss_that_is_not_a_single_number():
    model = make_model()
    before = weights(model)
    with pytest.raises(ValueError, match=r"loss_fn returned a tensor of shape \(64,\).*reduction='none'"):
        train(model, loss_fn=nn.CrossEntropyLoss(reduction="none"), batch_size=64)
    assert unchanged(model, before)


def test_loss_computed_outside_autograd():
    with pytest.raises(ValueError, match="detached from the model's output"):
        train(make_model(), loss_fn=lambda out, y: torch.tensor(nn.functional.cross_entropy(out, y).item()))


class TupleModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(10, 2, batch_first=True)

    def forward(self, x):
        return self.lstm(x.unsqueeze(1))   # (output, (h, c)): the classic mistake


class DictModel(nn.Linear):
    def forward(self, x):
        return {"logits": super().forward(x)}


@pytest.mark.parametrize("model, kind", [(TupleModel(), "tuple"), (DictModel(10, 2), "dict")])
def test_model_returning_a_tuple_or_dict(model, kind):
    with pytest.raises(TypeError, match=f"the model returned a {kind}.*one tensor"):
        train(model)
    with pytest.raises(TypeError, match=f"the model returned a {kind}"):
        predict(model, torch.randn(3, 10))


def test_metric_returning_a_python_float_is_accepted():
    def acc(out, y):
        return float((out.argmax(1) == y).float().mean())    # .item()-style metric: fine
    model = make_model()
    x, y = make_data()
    hist = train(model, (x, y), metrics={"acc": acc}, val_data=(x, y))
    assert math.isclose(hist["val_acc"][0], evaluate(model, (x, y), metrics={"acc": acc})["acc"], rel_tol=1e-6)
    assert 0 <= hist["train_acc"][0] <= 1


def test_metric_returning_per_example_values():
    with pytest.raises(ValueError, match="metric 'acc' returned shape .*batch mean"):
        train(make_model(), metrics={"acc": lambda out, y: (out.argmax(1) == y).float()})


@pytest.mark.parametrize("where", ["train", "val"])
def test_class_labels_outside_the_models_outputs(where):
    model = make_model(out=10)
    before = weights(model)
    x, y = make_data(classes=10)
    bad = (x, torch.where(y == 3, torch.tensor(12), y))
    data, val = (bad, (x, y)) if where == "train" else ((x, y), bad)
    with pytest.raises(ValueError, match=f"{where}_data has class labels from 0 to 12.*outputs 10 class scores"):
        train(model, data, val_data=val)
    assert unchanged(model, before)


def test_labels_checked_in_a_dataloader_batch_too():
    x, y = make_data(classes=10)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y + 5), batch_size=16)
    with pytest.raises(ValueError, match="class labels from .* to 14"):
        train(make_model(out=10), loader)


def test_validation_data_of_the_wrong_shape_is_caught_before_training():
    model = make_model()
    before = weights(model)
    x, y = make_data()
    with pytest.raises(ShapeMismatchError):
        train(model, (x, y), val_data=(x, y.float().unsqueeze(1)), epochs=3)
    assert unchanged(model, before)
    with pytest.raises(RuntimeError):   # inputs with the wrong feature count: torch's own message, before training
        train(model, (x, y), val_data=(x[:, :5], y), epochs=3)
    assert unchanged(model, before)


def test_validation_data_with_nan_is_caught_before_training():
    model = make_model()
    before = weights(model)
    x, y = make_data()
    xv = x.clone()
    xv[3, 2] = float("nan")
    with pytest.raises(NonFiniteLossError, match="first batch of val_data is nan.*NaN/inf"):
        train(model, (x, y), val_data=(xv, y))
    assert unchanged(model, before)


class BlowsUpInEval(nn.Linear):
    """Fine in training; from the second evaluation on, its outputs are infinite."""
    evals = 0

    def forward(self, x):
        out = super().forward(x)
        if not self.training:
            self.evals += 1
            if self.evals > 1:
                return out * float("inf")
        return out


def test_validation_loss_that_becomes_nan():
    x, y = make_data()
    with pytest.raises(NonFiniteLossError, match="validation loss became (nan|inf) after epoch 1"):
        train(BlowsUpInEval(10, 2), (x, y), val_data=(x, y))


def test_predict_on_empty_input():
    model = make_model(out=3)
    out = predict(model, torch.empty(0, 10))
    assert out.shape == (0, 3)
    with pytest.raises(TypeError, match="torch.from_numpy"):
        predict(model, np.zeros((2, 10), dtype=np.float32))


@pytest.mark.parametrize("data, message", [
    ((np.zeros((4, 10)), np.zeros(4)), "pair of \\(ndarray, ndarray\\).*torch.from_numpy"),
    (torch.utils.data.TensorDataset(torch.zeros(4, 10), torch.zeros(4).long()), "Dataset of single examples.*DataLoader"),
    ((b for b in [(torch.zeros(4, 10), torch.zeros(4).long())]), "one-shot iterator"),
    (None, "train_data is None"),
    (42, "must be \\(x, y\\) tensors or an iterable"),
])
def test_training_data_fit_cannot_use(data, message):
    with pytest.raises(TypeError, match=message):
        train(make_model(), data)


def test_batches_that_are_not_pairs():
    x, y = make_data()
    with pytest.raises(TypeError, match="must be a pair \\(x, y\\)"):
        train(make_model(), [(x, y, y)])
    with pytest.raises(ValueError, match="16 inputs but 8 targets"):
        train(make_model(), [(x[:16], y[:8])])


@pytest.mark.parametrize("kw, error, message", [
    ({"epochs": 2.5}, ValueError, "epochs must be a whole number"),
    ({"epochs": -1}, ValueError, "epochs must be a whole number >= 0"),
    ({"batch_size": 0}, ValueError, "batch_size must be"),
    ({"check_every": 0}, ValueError, "check_every must be"),
    ({"clip_grad_norm": float("nan")}, ValueError, "clip_grad_norm must be a positive number"),
    ({"loss_fn": nn.CrossEntropyLoss}, TypeError, "create one: loss_fn=CrossEntropyLoss\\(\\)"),
    ({"optimizer": "adam"}, TypeError, "optimizer must be a torch.optim.Optimizer"),
    ({"metrics": ["acc"]}, TypeError, "metrics must be a dict"),
    ({"metrics": {"loss": lambda o, y: o.mean()}}, ValueError, "other than 'loss'"),
    ({"monitor": "val_accuracy"}, ValueError, "monitor 'val_accuracy' is not a value fit records"),
])
def test_arguments_fit_cannot_use(kw, error, message):
    with pytest.raises(error, match=message):
        train(make_model(), **kw)


def test_map_batches_trains_like_its_mapped_batches():
    x, y = make_data()
    m1, m2 = make_model(), make_model()
    train(m1, TensorBatches(x * 2, y, 16, seed=0), epochs=2)
    train(m2, MapBatches(TensorBatches(x, y, 16, seed=0), lambda a, b: (a * 2, b)), epochs=2)
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))
    with pytest.raises(TypeError, match="must return a pair"):
        train(make_model(), MapBatches(TensorBatches(x, y, 16), lambda a, b: a))


# ----------------------------------------------------------------------------- checkpoints (section 1)
def test_truncated_checkpoint_names_the_file_and_resume_false(tmp_path):
    ck = tmp_path / "run.pt"
    train(make_model(), checkpoint=ck)
    ck.write_bytes(ck.read_bytes()[: ck.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=f"{ck}.*truncated, corrupt.*resume=False"):
        train(make_model(), checkpoint=ck)
    ck.write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="resume=False"):
        train(make_model(), checkpoint=ck)
    hist = train(make_model(), checkpoint=ck, resume=False)       # the way out works
    assert len(hist) == 1


def test_checkpoint_of_another_optimizer_is_refused_at_resume(tmp_path):
    ck = tmp_path / "run.pt"
    train(make_model(), checkpoint=ck)
    model = make_model()
    before = weights(model)
    with pytest.raises(CheckpointError, match="made with the optimizer SGD, but this run uses Adam"):
        train(model, checkpoint=ck, epochs=2, optimizer=torch.optim.Adam(model.parameters()))
    assert unchanged(model, before)


def test_fewer_epochs_than_the_checkpoint_holds(tmp_path):
    ck = tmp_path / "run.pt"
    train(make_model(), checkpoint=ck, epochs=3)
    with pytest.raises(ValueError, match="already holds 3 epochs, more than epochs=2"):
        train(make_model(), checkpoint=ck, epochs=2)


@pytest.mark.parametrize("patience", [None, 10])
def test_extending_a_finished_run_equals_a_straight_run(tmp_path, patience):
    x, y = make_data(n=128)
    xv, yv = make_data(n=64, seed=1)
    val = (xv, 1 - yv)          # flipped labels: the best val loss is early, not at epoch 3
    straight = make_model()
    h6 = train(straight, (x, y), val_data=val, epochs=6, patience=patience)
    ck = tmp_path / "run.pt"
    first = make_model()
    h3 = train(first, (x, y), val_data=val, epochs=3, patience=patience, checkpoint=ck)
    assert h3.best_epoch == 1
    resumed = make_model()
    opt = torch.optim.SGD(resumed.parameters(), lr=0.1)
    h = train(resumed, (x, y), val_data=val, epochs=6, patience=patience, checkpoint=ck, optimizer=opt)
    assert h.step_losses == h6.step_losses
    assert [r["val_loss"] for r in h.epochs] == [r["val_loss"] for r in h6.epochs]
    assert all(torch.equal(a, b) for a, b in zip(resumed.parameters(), straight.parameters()))
    assert h.best_epoch == h6.best_epoch


def test_a_killed_save_leaves_nothing_after_the_next_save(tmp_path):
    ck = tmp_path / "run.pt"
    stale = tmp_path / ".run.pt.x1y2z3.tmp"     # what a save killed mid-write leaves
    stale.write_bytes(b"half a checkpoint")
    train(make_model(), checkpoint=ck)
    assert not stale.exists() and ck.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


# ----------------------------------------------------------------------------- more of the same class
def test_optimizer_over_frozen_parameters_only():
    model = make_model()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="frozen .*training would change nothing"):
        train(model)


def test_inputs_that_do_not_fit_the_first_layer_name_the_batch():
    x, y = make_data()
    with pytest.raises(RuntimeError, match=r"could not run on the first batch of train_data \(inputs x of shape "
                                           r"\(64, 5\), torch.float32.*PyTorch said"):
        train(make_model(), (x[:, :5], y), batch_size=64)
    with pytest.raises(RuntimeError, match="torch.int64"):
        train(make_model(), ((x * 10).long(), y), batch_size=64)


def test_loss_that_cannot_take_the_output_names_both():
    with pytest.raises(ValueError, match=r"loss_fn failed on the model's output \(64, 2\).*target \(64,\)"):
        train(make_model(), loss_fn=nn.BCELoss(), batch_size=64)


def test_accuracy_of_a_single_score_is_refused():
    from course_utils import accuracy
    x, y = make_data()
    with pytest.raises(ShapeMismatchError, match="use binary_accuracy"):
        train(make_model(out=1), (x, y.float().unsqueeze(1)), loss_fn=nn.BCEWithLogitsLoss(),
              metrics={"acc": accuracy})


def test_checkpoint_that_is_a_folder(tmp_path):
    model = make_model()
    before = weights(model)
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        train(model, checkpoint=tmp_path)
    assert unchanged(model, before)


def test_evaluate_with_metrics_as_a_list():
    with pytest.raises(TypeError, match="metrics must be a dict"):
        evaluate(make_model(), make_data(), metrics=["acc"])


def test_helpers_refuse_what_they_cannot_use():
    from course_utils import seed_everything
    with pytest.raises(TypeError, match="seed must be a whole number"):
        seed_everything("0")
    with pytest.raises(TypeError, match="torch.from_numpy"):
        TensorBatches(np.zeros((4, 2)), np.zeros(4), 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        TensorBatches(torch.zeros(4, 2), torch.zeros(4), 2.5)


def test_shape_errors_name_the_data_they_come_from():
    x, y = make_data()
    with pytest.raises(ShapeMismatchError, match=r"^val_data: model output shape \(64, 2\)"):
        train(make_model(), (x, y), val_data=(x, y.float().unsqueeze(1)))
