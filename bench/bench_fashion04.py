"""Chapter 04's Fashion-MNIST CNN, timed as the chapter trains it (issue 24, target 3).

    python bench/bench_fashion04.py                  # 2 threads (a 2-core laptop), the chapter's full-mode recipe
    python bench/bench_fashion04.py --threads 1 --json out.json

The script runs the chapter's own cells (its sizes, ``make_cnn``, ``train`` and the Fashion-MNIST cell, found
by cell id in ``notebooks/04_convolutional_networks.ipynb``), so the timing follows the chapter when it
changes; it prints the test accuracy and the training's wall and CPU seconds. The target: at least 0.90 test
accuracy in at most 45 s of training on 2 CPU cores. Run it on a quiet machine: a busy one inflates wall time.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
from pathlib import Path

import torch

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_convolutional_networks.ipynb"
# imports, sizes, n_params, make_cnn, train, the Fashion-MNIST training cell
CELLS = ["2c3193ac", "1275fad2", "21835bea", "de70da23", "0d25005e", "1aba57f8"]


def chapter_cells(ids: list[str], notebook: Path = NOTEBOOK) -> list[str]:
    """The sources of the code cells with these ids, in the order given."""
    cells = {c.get("id"): c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]}
    missing = [i for i in ids if i not in cells]
    if missing:
        raise SystemExit(f"{notebook.name} has no cells {missing}: update CELLS in {Path(__file__).name}")
    return ["".join(cells[i]["source"]) for i in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2, a 2-core laptop)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    namespace: dict = {"SMOKE": False}
    with contextlib.redirect_stdout(io.StringIO()):    # the cells' own printing (layer tables, the environment)
        for source in chapter_cells(CELLS):
            exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # noqa: S102 - the chapter's own code
    out = {"workload": "chapter 04 CNN, Fashion-MNIST, full mode", "threads": args.threads,
           "test_accuracy": round(float(namespace["fashion_acc"]), 4),
           "train_wall_seconds": round(namespace["fcnn_seconds"], 1),
           "train_cpu_seconds": round(namespace["fcnn_cpu_seconds"], 1),
           "epochs": namespace["EPOCHS"], "torch": torch.__version__, "machine": platform.processor() or platform.machine()}
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
