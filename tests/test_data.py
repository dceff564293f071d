import shutil

import pytest
import torch

from course_utils import ChecksumError, DataSourceError, TensorBatches, list_datasets, load_dataset, load_text
from course_utils.data import DATASETS, DataFile, DatasetInfo, find_file


@pytest.mark.parametrize("name, n, shape", [
    ("mnist", (50_000, 10_000, 10_000), (1, 28, 28)),
    ("fashion_mnist", (50_000, 10_000, 10_000), (1, 28, 28)),
    ("digits", (1_200, 297, 300), (1, 8, 8)),
    ("breast_cancer", (370, 85, 114), (30,)),
])
def test_datasets_load_as_tensors(name, n, shape):
    d = load_dataset(name)
    for pair, size in zip((d.train, d.val, d.test), n):
        x, y = pair
        assert x.shape == (size, *shape) and x.dtype == torch.float32
        assert y.shape == (size,) and y.dtype == torch.int64
        assert int(y.max()) == len(d.classes) - 1
    if name != "breast_cancer":
        assert 0.0 <= float(d.train[0].min()) and float(d.train[0].max()) <= 1.0
        assert d.feature_names == ()
    else:
        assert len(d.feature_names) == 30 and d.feature_names[0] == "mean radius"


def test_mnist_matches_the_pickle_exactly():
    import gzip
    import pickle
    path = find_file(DATASETS["mnist"], DATASETS["mnist"].files[0])
    with gzip.open(path) as fh:
        (x, y), _, _ = pickle.load(fh, encoding="latin1")
    d = load_dataset("mnist")
    assert torch.equal(d.train[0].view(50_000, 784), torch.from_numpy(x))
    assert torch.equal(d.train[1], torch.from_numpy(y))


def test_subset_and_splits_are_seeded():
    a = load_dataset("mnist", n_train=500, seed=1)
    b = load_dataset("mnist", n_train=500, seed=1)
    c = load_dataset("mnist", n_train=500, seed=2)
    assert a.train[0].shape[0] == 500 and torch.equal(a.train[1], b.train[1])
    assert not torch.equal(a.train[1], c.train[1])
    assert a.val[0].shape[0] == 10_000


def test_text_and_registry():
    text = load_text("shakespeare")
    assert len(text) == 940_237 and text.startswith("HAMLET")
    assert set(list_datasets()) >= {"mnist", "fashion_mnist", "digits", "breast_cancer", "shakespeare"}
    with pytest.raises(KeyError, match="unknown dataset"):
        load_dataset("cifar10")


def test_corrupted_file_is_refused_by_checksum(tmp_path, monkeypatch):
    good = find_file(DATASETS["shakespeare"], DATASETS["shakespeare"].files[0])
    bad = tmp_path / "shakespeare.txt"
    shutil.copy(good, bad)
    data = bytearray(bad.read_bytes())
    data[1000] ^= 0x01  # flip one bit
    bad.write_bytes(bytes(data))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))  # looked at first
    with pytest.raises(ChecksumError, match="sha256"):
        load_text("shakespeare")


def test_missing_source_says_what_to_install(tmp_path):
    info = DatasetInfo("toy", "a toy", "MIT", "nobody", install="pip install toy-data==1.0")
    file = DataFile("toy.bin", "0" * 64, (lambda: tmp_path / "nope.bin", lambda: None))
    with pytest.raises(DataSourceError, match="pip install toy-data==1.0") as err:
        find_file(info, file)
    assert "nope.bin" in str(err.value) and "COURSE_DATA_DIR" in str(err.value)


def test_tensor_batches_cover_data_and_repeat_with_seed():
    x, y = torch.arange(10).float().unsqueeze(1), torch.arange(10)
    batches = list(TensorBatches(x, y, 4, seed=3))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == list(range(10))
    again = list(TensorBatches(x, y, 4, seed=3))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(batches, again))
    assert len(TensorBatches(x, y, 4, drop_last=True)) == 2
    ordered = list(TensorBatches(x, y, 3, shuffle=False))
    assert ordered[0][1].tolist() == [0, 1, 2]


def test_tensor_batches_state_round_trip():
    x, y = torch.randn(20, 2), torch.arange(20)
    a = TensorBatches(x, y, 5, seed=0)
    list(a)
    state = a.state_dict()
    expected = [b[1] for b in a]
    b = TensorBatches(x, y, 5, seed=99)
    b.load_state_dict(state)
    assert all(torch.equal(p, q[1]) for p, q in zip(expected, b))


def test_tensor_batches_rejects_bad_input():
    with pytest.raises(ValueError, match=r"x \(3, 1\) and y \(4,\)"):
        TensorBatches(torch.zeros(3, 1), torch.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        TensorBatches(torch.zeros(3, 1), torch.zeros(3), 0)


def test_co2_series_is_monthly_and_rising():
    from course_utils import load_series
    s = load_series("co2")
    assert len(s) == 526 and s.index.freqstr == "MS" and not s.isna().any()
    assert str(s.index[0].date()) == "1958-03-01" and str(s.index[-1].date()) == "2001-12-01"
    assert 310 < s.iloc[0] < 320 and 365 < s.iloc[-1] < 375
    with pytest.raises(KeyError, match="co2"):
        load_series("sunspots")


def test_sentiment_snippets_are_labelled_and_split():
    from course_utils import load_sentiment
    frame = load_sentiment(seed=0)
    assert len(frame) == 12_808 and set(frame["label"]) == {0, 1}
    assert frame["split"].value_counts().to_dict() == {"train": 9808, "test": 2000, "val": 1000}
    assert frame["label"].sum() == 7403
    assert frame.equals(load_sentiment(seed=0)) and not frame.equals(load_sentiment(seed=1))


def test_non_tensor_datasets_point_to_their_loader():
    with pytest.raises(KeyError, match="load_series"):
        load_dataset("co2")
    with pytest.raises(KeyError, match="load_sentiment"):
        load_dataset("rotten_tomatoes")


def test_movielens_ratings_have_dense_codes_and_the_published_counts():
    from course_utils import load_ratings
    frame = load_ratings()
    assert len(frame) == 100_004 and frame["userId"].nunique() == 671 and frame["movieId"].nunique() == 9_066
    assert frame["user"].max() == 670 and frame["item"].max() == 9_065 and frame["user"].min() == 0
    assert frame["rating"].between(0.5, 5.0).all() and frame["timestamp"].is_monotonic_increasing
    pairs = frame.groupby("item")["movieId"].nunique()
    assert (pairs == 1).all(), "each item code stands for one film"
    with pytest.raises(KeyError, match="load_ratings"):
        load_dataset("movielens")
    with pytest.raises(KeyError, match="movielens"):
        load_ratings("netflix")
