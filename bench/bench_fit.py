"""Overhead of ``course_utils.fit`` against a raw PyTorch loop, same model, data and process.

    python bench/bench_fit.py            # CPU (or COURSE_DEVICE=cuda)
    python bench/bench_fit.py --json out.json

Each workload trains the same freshly seeded model on the same batches, alternating the raw loop
and ``fit`` for several repeats; the ratio of the median times is ``fit``'s overhead (1.00 = none).
The raw loop is the five steps written by hand, plus the epoch loss a real loop keeps.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from course_utils import (
    CharLSTM,
    CharVocab,
    TensorBatches,
    char_windows,
    fit,
    get_device,
    load_dataset,
    load_text,
    seed_everything,
)


def simple_nn() -> nn.Module:
    """The seed's SimpleNN: 10 -> 20 -> 15 -> 1 with a sigmoid output."""
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 15), nn.ReLU(), nn.Linear(15, 1), nn.Sigmoid())


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


class TinyGPT(nn.Module):
    """A decoder-only transformer (PyTorch's encoder layers with a causal mask): (B, T) ids -> (B, V, T)."""

    def __init__(self, vocab: int, d: int = 128, layers: int = 4, heads: int = 4, block: int = 64) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(block, d)
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        h = self.tok(ids) + self.pos(torch.arange(t, device=ids.device))
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=ids.device)
        return self.head(self.blocks(h, mask=mask, is_causal=True)).transpose(1, 2)


def dcgan_discriminator() -> nn.Module:
    """DCGAN's discriminator for 28x28 images: strided convolutions, LeakyReLU, one logit."""
    return nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1),
                         nn.BatchNorm2d(64), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(64 * 7 * 7, 1))


def dcgan_batch(real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real images (label 1) and the images of an untrained DCGAN generator (label 0)."""
    seed_everything(0)
    gen = nn.Sequential(nn.Linear(64, 64 * 7 * 7), nn.Unflatten(1, (64, 7, 7)), nn.ReLU(),
                        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1),
                        nn.Sigmoid())
    with torch.no_grad():
        fake = gen(torch.randn(len(real), 64))
    x = torch.cat([real, fake])
    return x, torch.cat([torch.ones(len(real), 1), torch.zeros(len(real), 1)])


Workload = tuple[Callable[[], nn.Module], torch.Tensor, torch.Tensor, nn.Module, int, int]


def workloads(scale: float) -> dict[str, Workload]:
    """name -> (model factory, x, y, loss, batch size, epochs); ``scale`` multiplies the epochs."""
    cancer = load_dataset("breast_cancer")
    x = cancer.train[0][:, :10]
    x = (x - x.mean(0)) / x.std(0)  # (370, 10), the 10 "mean" features
    y = cancer.train[1].float().unsqueeze(1)  # (370, 1)
    digits = load_dataset("mnist", n_train=10_000)
    text = load_text("shakespeare")[:200_000]
    vocab = CharVocab.from_text(text)
    chars = char_windows(vocab.encode(text), seq_len=64)  # (3124, 64) inputs and targets
    return {
        "SimpleNN, breast cancer (bs 32)": (simple_nn, x, y, nn.BCELoss(), 32, max(1, round(40 * scale))),
        "MLP 784-256-10, MNIST 10k (bs 128)": (mlp, *digits.train, nn.CrossEntropyLoss(), 128, max(1, round(2 * scale))),
        "CNN 2 conv, MNIST 2k (bs 64)": (cnn, digits.train[0][:2000], digits.train[1][:2000], nn.CrossEntropyLoss(), 64,
                                         max(1, round(2 * scale))),
        "char-LSTM 256, Shakespeare 640 x 64 (bs 32)": (lambda: CharLSTM(len(vocab), 64, 256), chars[0][:640],
                                                       chars[1][:640], nn.CrossEntropyLoss(), 32, max(1, round(scale))),
        "tiny GPT 4x128, Shakespeare 640 x 64 (bs 32)": (lambda: TinyGPT(len(vocab)), chars[0][:640], chars[1][:640],
                                                        nn.CrossEntropyLoss(), 32, max(1, round(scale))),
        "DCGAN discriminator step, MNIST 1k+1k (bs 64)": (dcgan_discriminator, *dcgan_batch(digits.train[0][:1000]),
                                                         nn.BCEWithLogitsLoss(), 64, max(1, round(scale))),
    }


def raw_loop(model: nn.Module, batches: TensorBatches, loss_fn: nn.Module, opt: torch.optim.Optimizer, epochs: int) -> float:
    for _ in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for xb, yb in batches:
            xb, yb = xb.to(batches.x.device), yb.to(batches.x.device)
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            seen += len(yb)
    return total / seen


def timed(run: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def bench(scale: float, repeats: int) -> list[dict[str, object]]:
    device = get_device()
    rows = []
    for name, (make, x, y, loss_fn, bs, epochs) in workloads(scale).items():
        times: dict[str, list[float]] = {"raw": [], "fit": []}
        for rep in range(repeats + 1):  # the first round warms up and is not counted
            for kind in ("raw", "fit") if rep % 2 == 0 else ("fit", "raw"):
                seed_everything(0)
                model = make().to(device)
                opt = torch.optim.Adam(model.parameters(), lr=1e-3)
                batches = TensorBatches(x, y, bs, seed=0, device=device)
                if kind == "raw":
                    t = timed(lambda: raw_loop(model, batches, loss_fn, opt, epochs), device)
                else:
                    t = timed(lambda: fit(model, batches, loss_fn=loss_fn, optimizer=opt, epochs=epochs,
                                          progress=False, verbose=False), device)
                if rep > 0:
                    times[kind].append(t)
        raw, fitted = statistics.median(times["raw"]), statistics.median(times["fit"])
        steps = epochs * len(TensorBatches(x, y, bs))
        rows.append({"workload": name, "device": str(device), "steps": steps, "raw_s": raw, "fit_s": fitted,
                     "ratio": fitted / raw, "raw_ms_per_step": 1000 * raw / steps})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload's epochs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rows = bench(args.scale, args.repeats)
    print(f"{'workload':<46} {'device':<7} {'steps':>6} {'raw s':>8} {'fit s':>8} {'fit/raw':>8}")
    for r in rows:
        print(f"{r['workload']:<46} {r['device']:<7} {r['steps']:>6} {r['raw_s']:>8.3f} {r['fit_s']:>8.3f} {r['ratio']:>8.3f}")
    print(f"worst overhead ratio: {max(r['ratio'] for r in rows):.3f} (target <= 1.05)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
