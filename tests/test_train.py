"""``fit`` pinned against PyTorch itself: same losses as a hand loop, exact resume, clear errors."""
import math

import pytest
import torch
from torch import nn

from course_utils import (
    NonFiniteLossError,
    ShapeMismatchError,
    TensorBatches,
    accuracy,
    evaluate,
    fit,
    predict,
    seed_everything,
)
from course_utils.checkpoint import load_checkpoint, save_checkpoint


def make_data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    return x, y


def make_model(seed=0):
    seed_everything(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 2))


def test_fit_equals_hand_written_loop():
    x, y = make_data()
    loss_fn = nn.CrossEntropyLoss()

    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seed_everything(1)
    hand = []
    batches = TensorBatches(x, y, 32, seed=5)
    for _ in range(3):
        model.train()
        for xb, yb in batches:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            hand.append(loss.item())
    hand_weights = [p.detach().clone() for p in model.parameters()]

    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seed_everything(1)
    hist = fit(model, TensorBatches(x, y, 32, seed=5), loss_fn=loss_fn, optimizer=opt, epochs=3,
               check_every=7, progress=False, verbose=False)
    assert hist.step_losses == hand  # bit-for-bit, dropout included
    assert all(torch.equal(a, b) for a, b in zip(hand_weights, model.parameters()))
    assert len(hist) == 3 and hist["epoch"] == [1, 2, 3]
    assert hist["train_loss"][-1] < hist["train_loss"][0]


def test_fit_with_dataloader_and_tensor_pair():
    x, y = make_data()
    model = make_model()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    h = fit(model, loader, (x, y), loss_fn=nn.CrossEntropyLoss(), epochs=2, metrics={"acc": accuracy},
            optimizer=torch.optim.Adam(model.parameters(), 1e-2), progress=False, verbose=False)
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "time", "lr"} <= set(h.keys())
    h2 = fit(model, (x, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, batch_size=100,
             optimizer=torch.optim.Adam(model.parameters(), 1e-2), progress=False, verbose=False)
    assert len(h2.step_losses) == 3


def run(tmp_path, epochs, resume_from=None, stop_after=None):
    """Train with a checkpoint; optionally only up to `stop_after` epochs (an interruption)."""
    x, y = make_data()
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    seed_everything(7)
    h = fit(model, TensorBatches(x, y, 32, seed=11), (x, y), loss_fn=nn.CrossEntropyLoss(),
            optimizer=opt, scheduler=sched, epochs=stop_after or epochs, checkpoint=tmp_path / "ck.pt",
            progress=False, verbose=False)
    return model, h


def test_resume_continues_exactly(tmp_path):
    ref_model, ref_hist = run(tmp_path / "a", epochs=4)
    run(tmp_path / "b", epochs=4, stop_after=2)
    # a fresh process would start here: new model, optimizer and RNG state, then resume from the file
    seed_everything(999)
    torch.rand(5)
    model, hist = run(tmp_path / "b", epochs=4)
    assert hist.step_losses == ref_hist.step_losses
    assert [r["val_loss"] for r in hist.epochs] == [r["val_loss"] for r in ref_hist.epochs]
    assert all(torch.equal(a, b) for a, b in zip(ref_model.parameters(), model.parameters()))
    again_model, again = run(tmp_path / "b", epochs=4)  # finished run: nothing more to train
    assert again.step_losses == ref_hist.step_losses


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.ones(3)})

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt  # interrupted in the middle of writing

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2, "w": torch.zeros(3)})
    monkeypatch.undo()
    state = load_checkpoint(path)
    assert state["epoch"] == 1 and torch.equal(state["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind


def test_checkpoint_of_another_model_is_refused(tmp_path):
    x, y = make_data()
    model = make_model()
    fit(model, (x, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), 0.1),
        epochs=1, checkpoint=tmp_path / "ck.pt", progress=False, verbose=False)
    other = nn.Linear(10, 2)
    with pytest.raises(RuntimeError, match="made with the model Sequential, but this run uses Linear"):
        fit(other, (x, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(other.parameters(), 0.1),
            epochs=2, checkpoint=tmp_path / "ck.pt", progress=False, verbose=False)


def test_nan_loss_names_epoch_and_step():
    x, y = make_data(n=64)
    x[40] = float("nan")  # batch 3 of epoch 1 (batch size 16, no shuffle)
    model = make_model()
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, step 3 of 4"):
        fit(model, TensorBatches(x, y, 16, shuffle=False), loss_fn=nn.CrossEntropyLoss(),
            optimizer=torch.optim.SGD(model.parameters(), 0.1), epochs=2, progress=False, verbose=False)


def test_diverging_loss_stops_with_epoch_and_step():
    x = torch.randn(64, 10)
    y = x @ torch.randn(10, 1)
    model = nn.Linear(10, 1)
    with pytest.raises(NonFiniteLossError, match=r"loss became (nan|inf) at epoch \d+, step \d+"):
        fit(model, TensorBatches(x, y, 16), loss_fn=nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), 10.0),
            epochs=50, progress=False, verbose=False)


@pytest.mark.parametrize("out_dim, target, message", [
    (1, torch.randn(32), r"output shape \(32, 1\) does not match target shape \(32,\)"),
    (3, torch.randn(32, 1), r"output shape \(32, 3\) does not match target shape \(32, 1\)"),
    (1, torch.zeros(32, dtype=torch.long), r"model output shape \(32, 1\) has a single score per example, but the target shape \(32,\)"),
])
def test_shape_mismatch_names_both_shapes(out_dim, target, message):
    x = torch.randn(32, 10)
    model = nn.Linear(10, out_dim)
    with pytest.raises(ShapeMismatchError, match=message):
        fit(model, (x, target), loss_fn=nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), 0.1),
            epochs=1, progress=False, verbose=False)


def test_early_stopping_restores_best_weights():
    x, y = make_data(n=128)
    xv, yv = make_data(n=64, seed=1)
    yv = 1 - yv  # validation labels flipped: val loss gets worse as training succeeds
    model = make_model()
    h = fit(model, (x, y), (xv, yv), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.Adam(model.parameters(), 1e-2),
            epochs=50, patience=2, progress=False, verbose=False)
    assert h.stopped_early and len(h) < 50
    best = min(h["val_loss"])
    assert h["val_loss"][h.best_epoch - 1] == best
    assert math.isclose(evaluate(model, (xv, yv), loss_fn=nn.CrossEntropyLoss())["loss"], best, rel_tol=1e-5)


def test_best_weights_are_restored_also_when_the_epochs_run_out():
    x, y = make_data(n=128)
    xv, yv = make_data(n=64, seed=1)
    yv = 1 - yv  # val loss is lowest early on, and patience is too large to stop
    model = make_model()
    h = fit(model, (x, y), (xv, yv), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.Adam(model.parameters(), 1e-2),
            epochs=6, patience=100, progress=False, verbose=False)
    assert not h.stopped_early and len(h) == 6 and h.best_epoch < 6
    assert math.isclose(evaluate(model, (xv, yv), loss_fn=nn.CrossEntropyLoss())["loss"], min(h["val_loss"]),
                        rel_tol=1e-5)


def test_gradient_clipping_bounds_the_update():
    x, y = torch.randn(16, 10) * 100, torch.randn(16, 1) * 100
    model = nn.Linear(10, 1)
    before = model.weight.detach().clone()
    fit(model, TensorBatches(x, y, 16), loss_fn=nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), lr=1.0),
        epochs=1, clip_grad_norm=0.5, progress=False, verbose=False)
    assert float((model.weight.detach() - before).norm()) <= 0.5 + 1e-5


def test_amp_on_cpu_runs_in_bfloat16():
    x, y = make_data()
    model = make_model()
    h = fit(model, (x, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.Adam(model.parameters(), 1e-2),
            epochs=2, amp=True, progress=False, verbose=False)
    assert h["train_loss"][-1] < h["train_loss"][0]


def test_evaluate_and_predict_restore_mode():
    x, y = make_data()
    model = make_model()
    model.train()
    res = evaluate(model, (x, y), loss_fn=nn.CrossEntropyLoss(), metrics={"acc": accuracy})
    assert set(res) == {"loss", "acc"} and 0 <= res["acc"] <= 1 and model.training
    out = predict(model, x, batch_size=100)
    assert out.shape == (256, 2) and model.training
    assert math.isclose(res["acc"], float(accuracy(out, y)), rel_tol=1e-6)


def test_history_round_trip_and_table():
    x, y = make_data()
    model = make_model()
    h = fit(model, (x, y), (x, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.Adam(model.parameters(), 1e-2),
            epochs=2, metrics={"acc": accuracy}, progress=False, verbose=False)
    from course_utils import History
    assert History.from_dict(h.to_dict()) == h
    frame = h.to_frame()
    assert list(frame.index) == [1, 2] and "val_acc" in frame.columns
    with pytest.raises(KeyError, match="history has no 'val_f1'"):
        h["val_f1"]


def test_bad_arguments():
    x, y = make_data()
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="'val_acc' is not a value fit records \\(val_ values need val_data\\)"):
        fit(model, (x, y), loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, patience=1, monitor="val_acc")
    with pytest.raises(ValueError, match="no batches"):
        fit(model, (x[:0], y[:0]), loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, progress=False, verbose=False)
