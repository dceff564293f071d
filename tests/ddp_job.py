"""A small training job run two ways by tests/test_distributed.py: in one process, and as two
gloo processes under torchrun (``python -m torch.distributed.run --standalone --nproc_per_node 2
tests/ddp_job.py OUT_DIR``), where process 0 saves the final weights and history in OUT_DIR."""
import json
import sys
from pathlib import Path

import torch
from torch import nn

from course_utils import TensorBatches, accuracy, fit, seed_everything


def train(checkpoint=None, verbose=True):
    """Three epochs of SGD with momentum on a seeded 3-class problem, global batch 32."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(256, 8, generator=gen)                     # (256, 8)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()          # (256,) classes 0..2
    seed_everything(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, TensorBatches(x, y, 32, seed=0), (x[:64], y[:64]), loss_fn=nn.CrossEntropyLoss(),
                  optimizer=opt, epochs=3, metrics={"acc": accuracy}, checkpoint=checkpoint, progress=False,
                  verbose=verbose)
    return model, history


if __name__ == "__main__":
    import torch.distributed as dist

    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    model, history = train(checkpoint=out / "ckpt.pt")
    (out / f"rank{dist.get_rank()}.json").write_text(json.dumps(history.to_dict()))
    if dist.get_rank() == 0:
        torch.save(model.state_dict(), out / "weights.pt")
    dist.barrier()  # tear down together: a rank that exits while the other still talks can abort in gloo
    dist.destroy_process_group()
