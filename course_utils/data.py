"""The tensor datasets, and looking up the registry of everything the course reads.

:data:`~course_utils.registry.DATASETS` (in :mod:`course_utils.registry`) is the one place a data
source is defined; :func:`list_datasets` names them all and :func:`get_source` looks one up with an
error that says what to ask for instead. Finding and verifying files is the job of
:mod:`course_utils.sources`. The tensor datasets
are decoded once and cached under ``$COURSE_CACHE_DIR`` (default ``~/.cache/course_utils``), in a
cache checked against the sha256 of its source files and a digest of its own tensors, and rebuilt
when either differs. When no source is present the error says what to install. Nothing here
touches the network.

Introduced in notebooks/00_getting_started.ipynb, section 0.4.
"""
from __future__ import annotations

import difflib
import functools
import gzip
import numbers
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .batches import TensorBatches  # re-exported: the batch iterator used to live here
from .registry import DATASETS
from .sources import ChecksumError, DataSourceError, Source, cached_tensors, find_file

__all__ = [
    "DataSplits", "DATASETS", "dataset_available", "get_source", "list_datasets", "load_dataset", "load_text",
    "ChecksumError", "DataSourceError", "TensorBatches",  # defined in sources / batches, used from here
]

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class DataSplits:
    """Train/validation/test tensors of a dataset.

    ``train``, ``val`` and ``test`` are ``(x, y)`` pairs; images are ``(N, 1, H, W)`` float32 in
    ``[0, 1]``, tables ``(N, F)`` float32, labels ``(N,)`` int64. ``val`` may be None.
    ``feature_names`` names the F columns of a table (empty for images).
    """
    train: Pair
    val: Pair | None
    test: Pair
    classes: tuple[str, ...]
    info: Source
    feature_names: tuple[str, ...] = ()

    def __repr__(self) -> str:
        def shp(p: Pair | None) -> str:
            return "None" if p is None else f"{tuple(p[0].shape)}"
        return (f"DataSplits({self.info.name!r}, train={shp(self.train)}, val={shp(self.val)}, "
                f"test={shp(self.test)}, classes={len(self.classes)})")


# ----------------------------------------------------------------------------- decoders
def _read_idx(path: Path) -> np.ndarray:
    """Decode a gzipped IDX file (big-endian dims after a 4-byte magic) into uint8 array."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _mnist_tensors(paths: list[Path]) -> dict[str, torch.Tensor]:
    with gzip.open(paths[0], "rb") as fh:
        splits = pickle.load(fh, encoding="latin1")
    out = {}
    for split, (x, y) in zip(("train", "val", "test"), splits):
        # the pickle stores pixel/256 as float32; uint8 keeps it exactly in a quarter of the space
        out[f"{split}_x"] = torch.from_numpy(np.rint(x * 256).astype(np.uint8)).view(-1, 1, 28, 28)
        out[f"{split}_y"] = torch.from_numpy(y.astype(np.int64))
    return out


def _fashion_tensors(paths: list[Path]) -> dict[str, torch.Tensor]:
    tr_x, tr_y, te_x, te_y = (_read_idx(p) for p in paths)
    return {
        "train_x": torch.from_numpy(tr_x.copy()).view(-1, 1, 28, 28),
        "train_y": torch.from_numpy(tr_y.astype(np.int64)),
        "test_x": torch.from_numpy(te_x.copy()).view(-1, 1, 28, 28),
        "test_y": torch.from_numpy(te_y.astype(np.int64)),
    }


# the tensor datasets decoded from files (and cached); the others come from scikit-learn
_DECODERS: dict[str, Callable[[list[Path]], dict[str, torch.Tensor]]] = {"mnist": _mnist_tensors,
                                                                         "fashion_mnist": _fashion_tensors}


_CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "digits": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "breast_cancer": ("malignant", "benign"),
}


# ----------------------------------------------------------------------------- looking up and loading
def dataset_available(name: str) -> bool:
    """True when every file of source ``name`` is found (or downloaded, where allowed) and verified.

    Introduced in notebooks/04_convolutional_networks.ipynb, section 4.7: a chapter skips the
    sections that need a dataset this machine cannot provide (see :func:`~course_utils.skip_unless`).
    A file that exists but fails its checksum still raises :class:`ChecksumError`.
    """
    info = get_source(name)
    try:
        for file in info.files:
            find_file(info, file)
    except DataSourceError:
        return False
    return True


def list_datasets() -> list[str]:
    """Names of everything the course reads, sorted: datasets, model weights and class names.

    Introduced in notebooks/00_getting_started.ipynb, section 0.8. ``DATASETS[name].loader`` says
    which function reads each (e.g. ``load_dataset('mnist')``, ``load_mobilenet_v2()``).
    """
    return sorted(DATASETS)


def get_source(name: str, *, read_by: str | None = None) -> Source:
    """The registry entry ``name``, or an error that says what to ask for instead.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.

    Args:
        name: a key of :data:`DATASETS` (see :func:`list_datasets`).
        read_by: the function asking, e.g. ``"load_text"``: the entry must be one that function reads.

    Raises:
        TypeError: ``name`` is not a str.
        KeyError: ``name`` is unknown (the message lists what ``read_by`` reads, and a close match),
            or is read by another function (the message names it).
    """
    readable = [n for n in list_datasets() if read_by is None or DATASETS[n].loader.startswith(f"{read_by}(")]
    caller, choices = (f"{read_by}()" if read_by else "the registry"), ", ".join(map(repr, readable))
    if not isinstance(name, str):
        raise TypeError(f"{caller} expects the name of a dataset as a str ({choices}); got {_shown(name)}")
    info = DATASETS.get(name)
    if info is None:
        close = difflib.get_close_matches(name.lower(), DATASETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown dataset {name!r}{hint}; {caller} reads {choices}. "
                       "list_datasets() names everything the course reads.")
    if name not in readable:
        raise KeyError(f"{name!r} is not read by {caller}: load it with {info.loader}")
    return info


def _shown(value: object) -> str:
    """``value`` as a learner should see it in an error: its repr, and its type unless it is a plain int."""
    return repr(value) if type(value) is int else f"{value!r} ({type(value).__name__})"


def _check_n_train(n_train: object) -> None:
    """Refuse anything but None or a positive int (a bool or a float included) as a training-set size."""
    if n_train is None or (isinstance(n_train, numbers.Integral) and not isinstance(n_train, bool)
                           and int(n_train) >= 1):
        return
    raise ValueError("n_train must be a positive int (how many training examples to keep) or None for "
                     f"all of them; got {_shown(n_train)}")


def _check_seed(seed: object) -> None:
    """Refuse anything but an int that ``torch.Generator.manual_seed`` takes as itself (0 to 2**64 - 1)."""
    if not (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and 0 <= int(seed) < 2 ** 64):
        raise ValueError(f"seed must be an int from 0 to 2**64 - 1; got {_shown(seed)}")


def _split(x: torch.Tensor, y: torch.Tensor, n_val: int, n_test: int, seed: int) -> tuple[Pair, Pair, Pair]:
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    te, va, tr = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te])


def _subset(pair: Pair, n: int | None, seed: int, name: str) -> Pair:
    """``n`` random examples of ``pair`` (all of them when ``n`` is None or the whole set)."""
    available = len(pair[0])
    if n is None or n == available:
        return pair
    if n > available:
        raise ValueError(f"n_train={n} is more than the {available:,} training examples of {name!r}; "
                         f"pass at most {available}, or None for all of them")
    idx = torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:int(n)]
    return pair[0][idx], pair[1][idx]


@functools.lru_cache(maxsize=8)
def _decoded_tensors(name: str) -> dict[str, torch.Tensor]:
    """The tensors of a tensor dataset, decoded from its verified files (through the cache) or scikit-learn."""
    info = DATASETS[name]
    if name in _DECODERS:
        paths = [find_file(info, f) for f in info.files]
        key = f"{name}-" + "-".join(f.sha256[:12] for f in info.files)
        return cached_tensors(key, {f.name: f.sha256 for f in info.files}, lambda: _DECODERS[name](paths))
    try:
        import sklearn.datasets as skd
    except ImportError as err:
        raise DataSourceError(f"dataset {name!r} needs scikit-learn: {info.install}") from err
    bunch = skd.load_digits() if name == "digits" else skd.load_breast_cancer()
    return {"x": torch.tensor(bunch.data, dtype=torch.float32), "y": torch.tensor(bunch.target, dtype=torch.int64)}


@functools.lru_cache(maxsize=1)
def _breast_cancer_features() -> tuple[str, ...]:
    import sklearn.datasets as skd
    return tuple(str(f) for f in skd.load_breast_cancer().feature_names)


def _splits(name: str, seed: int) -> tuple[Pair, Pair, Pair]:
    """Train/validation/test pairs of a tensor dataset, images scaled to ``[0, 1]``."""
    raw = _decoded_tensors(name)
    if name == "mnist":
        tr, va, te = ((raw[f"{s}_x"].float() / 256, raw[f"{s}_y"]) for s in ("train", "val", "test"))
        return tr, va, te
    if name == "fashion_mnist":
        x, y = raw["train_x"].float() / 255, raw["train_y"]
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
        tr, va = (x[perm[10_000:]], y[perm[10_000:]]), (x[perm[:10_000]], y[perm[:10_000]])
        return tr, va, (raw["test_x"].float() / 255, raw["test_y"])
    if name == "digits":
        return _split((raw["x"] / 16).view(-1, 1, 8, 8), raw["y"], n_val=297, n_test=300, seed=seed)
    return _split(raw["x"], raw["y"], n_val=85, n_test=114, seed=seed)


def load_dataset(name: str, *, n_train: int | None = None, seed: int = 0) -> DataSplits:
    """Load a tensor dataset of the registry, split into train/val/test.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"``, ``"digits"`` or ``"breast_cancer"`` (the entries whose
            ``loader`` is ``load_dataset``; the error for another name says which function reads it).
        n_train: keep only a random subset of this many training examples (smoke mode,
            learning curves), a positive int at most the training set's size; validation and test
            sets stay whole. None keeps them all.
        seed: seed of that subset and of the splits made here (Fashion-MNIST's validation set,
            the small scikit-learn sets), an int from 0 to 2**64 - 1.

    Returns:
        :class:`DataSplits`. Images: ``(N, 1, 28, 28)`` (``(N, 1, 8, 8)`` for digits) float32 in
        ``[0, 1]``; breast cancer: ``(N, 30)`` float32, unscaled (the first 10 columns are the
        "mean" measurements, named in ``feature_names``); labels ``(N,)`` int64.

    Raises:
        KeyError: unknown name, or one read by another function; TypeError: a name that is not a str;
        ValueError: an ``n_train`` or ``seed`` outside what is allowed (the message says what is).
    """
    info = get_source(name, read_by="load_dataset")
    _check_n_train(n_train)
    _check_seed(seed)
    train, val, test = _splits(name, seed)
    features = _breast_cancer_features() if name == "breast_cancer" else ()
    return DataSplits(train=_subset(train, n_train, seed, name), val=val, test=test, classes=_CLASSES[name],
                      info=info, feature_names=features)


def load_text(name: str = "shakespeare") -> str:
    """Return a text corpus of the registry (checked by sha256) as one string.

    Introduced in notebooks/05_recurrent_networks.ipynb. Raises KeyError for a name that is not a
    text corpus (the message says which function reads it), TypeError for a name that is not a str.
    """
    info = get_source(name, read_by="load_text")
    return find_file(info, info.files[0]).read_text(encoding="utf-8")
