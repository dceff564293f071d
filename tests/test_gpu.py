"""GPU paths of ``fit``: fp16 autocast with gradient scaling, CUDA RNG state in checkpoints.

Skipped where no CUDA GPU is present (CI); run on a GPU machine with ``pytest tests/test_gpu.py``.
"""
import pytest
import torch
from torch import nn

from course_utils import TensorBatches, accuracy, fit, seed_everything

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def data(n=512):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 20, generator=g)
    return x, (x[:, :5].sum(1) > 0).long()


def model():
    seed_everything(0)
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 2)).cuda()


def test_amp_with_gradient_scaling_and_clipping_trains():
    x, y = data()
    m = model()
    h = fit(m, TensorBatches(x, y, 64, device="cuda"), (x, y), loss_fn=nn.CrossEntropyLoss(),
            optimizer=torch.optim.Adam(m.parameters(), 1e-2), epochs=5, amp=True, clip_grad_norm=1.0,
            metrics={"acc": accuracy}, progress=False, verbose=False)
    assert h["train_loss"][-1] < h["train_loss"][0] and h["val_acc"][-1] > 0.9


def test_resume_on_gpu_continues_exactly(tmp_path):
    x, y = data()

    def run(folder, epochs, disturb=False):
        m = model()
        opt = torch.optim.Adam(m.parameters(), 1e-2)
        seed_everything(3)  # dropout draws from the CUDA generator, saved in the checkpoint
        if disturb:  # a new process would have other generator states: the checkpoint must restore them
            torch.manual_seed(999)
            torch.cuda.manual_seed_all(999)
        return m, fit(m, TensorBatches(x, y, 64, seed=1, device="cuda"), loss_fn=nn.CrossEntropyLoss(),
                      optimizer=opt, epochs=epochs, amp=True, checkpoint=folder / "ck.pt", progress=False, verbose=False)

    ref_model, ref = run(tmp_path / "a", 4)
    run(tmp_path / "b", 2)
    m, resumed = run(tmp_path / "b", 4, disturb=True)
    assert resumed.step_losses == ref.step_losses
    assert all(torch.equal(a, b) for a, b in zip(ref_model.parameters(), m.parameters()))


def test_compiled_training_matches_eager():
    x, y = data()
    runs = []
    for compile_ in (False, True):
        seed_everything(0)  # no dropout here: eager and compiled runs draw no random numbers in the model
        m = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2)).cuda()
        fit(m, TensorBatches(x, y, 64, device="cuda"), loss_fn=nn.CrossEntropyLoss(),
            optimizer=torch.optim.SGD(m.parameters(), 0.1), epochs=2, compile=compile_, progress=False, verbose=False)
        runs.append(m)
    diff = max((a - b).abs().max().item() for a, b in zip(runs[0].parameters(), runs[1].parameters()))
    assert diff < 1e-4
