"""fit under torch.distributed: a real 2-process gloo run equals the single-process run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils import TensorBatches
from course_utils import distributed as ddp

HERE = Path(__file__).parent


def test_shards_partition_every_batch_and_skip_a_too_small_last_one():
    x, y = torch.arange(21).float().unsqueeze(1), torch.arange(21)
    whole = TensorBatches(x, y, 8, seed=3)
    parts = [whole.shard(r, 2) for r in range(2)]
    full = [b[1] for b in whole]
    halves = [[b[1] for b in p] for p in parts]
    assert [len(b) for b in full] == [8, 8, 5]
    for i in range(3):
        assert torch.equal(torch.cat([halves[0][i], halves[1][i]]), full[i])
    tiny = TensorBatches(x[:9], y[:9], 8, shuffle=False).shard(1, 2)
    assert [len(b[1]) for b in tiny] == [4]                     # the last batch of 1 example is skipped
    with pytest.raises(ValueError):
        whole.shard(2, 2)


def test_shard_batches_refuses_data_it_cannot_split(monkeypatch):
    monkeypatch.setattr(ddp, "world_size", lambda: 2)
    with pytest.raises(ValueError, match="DistributedSampler"):
        ddp.shard_batches([(torch.zeros(2, 1), torch.zeros(2))])
    assert ddp.shard_batches(TensorBatches(torch.zeros(4, 1), torch.zeros(4), 2)).world_size == 2


def test_two_gloo_processes_match_one_process(tmp_path):
    from ddp_job import train

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "ddp_job.py"), str(tmp_path)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    single, hist = train(verbose=False)
    weights = torch.load(tmp_path / "weights.pt", weights_only=True)
    diff = max((weights[k] - v).abs().max().item() for k, v in single.state_dict().items())
    assert diff < 1e-5, f"DDP weights differ from one process by {diff}"
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    strip = [[{k: v for k, v in row.items() if k != "time"} for row in r["epochs"]] for r in ranks]
    assert strip[0] == strip[1]                                   # reduced values agree on every process
    for got, want in zip(ranks[0]["epochs"], hist.epochs):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert got[key] == pytest.approx(want[key], abs=1e-5), key
    assert ranks[0]["step_losses"] == pytest.approx(hist.step_losses, abs=1e-5)
    assert run.stdout.count("epoch   1/3") == 1                 # only process 0 prints
    assert (tmp_path / "ckpt.pt").is_file()


def test_fit_compile_trains_through_torch_compile_and_keeps_the_weights(monkeypatch):
    """The plumbing of fit(compile=True), with torch.compile replaced by a recording wrapper (a real
    compile takes a minute on a small CPU; the GPU test and bench/ run the real one)."""
    from torch import nn

    from course_utils import fit
    compiled = []

    def fake_compile(model):
        compiled.append(model)
        return lambda x: model(x)

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = nn.Linear(3, 2)
    before = model.weight.detach().clone()
    fit(model, (torch.randn(16, 3), torch.randint(0, 2, (16,))), loss_fn=nn.CrossEntropyLoss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5), epochs=1, compile=True, progress=False, verbose=False)
    assert compiled == [model] and not torch.equal(model.weight, before)
