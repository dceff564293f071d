#!/usr/bin/env bash
# GPU timing on a machine with a CUDA torch but no Jupyter (see README, "Benchmarks"):
# installs the wheels in .whl/ (papermill, ipykernel, data packages) into a temporary folder, then
# runs the benchmark and every chapter in full mode, writing everything under $OUT (default build/gpu).
set -uo pipefail
OUT=${OUT:-build/gpu}
mkdir -p "$OUT"
S=$(mktemp -d)
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$S" .whl/*.whl || exit 1
export PYTHONPATH="$S:$PWD" PATH="$S/bin:$PATH" COURSE_HEADLESS=1 PYTHONUNBUFFERED=1
python3 -m ipykernel install --user --name python3 >/dev/null
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"
COURSE_DEVICE=cuda python3 bench/bench_fit.py --json "$OUT/bench_cuda.json"
COURSE_DEVICE=cpu python3 bench/bench_fit.py --json "$OUT/bench_cpu.json"
[ $# -gt 0 ] || set -- notebooks/[0-9]*.ipynb
python3 -m course_utils.runner --out "$OUT" --timeout 900 "$@" 2>&1 | grep -v "it/s\|nb/s"
