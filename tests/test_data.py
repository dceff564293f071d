import errno
import os
import re
import shutil
import warnings
from pathlib import Path

import pytest
import torch

from course_utils import ChecksumError, DataSourceError, TensorBatches, data, list_datasets, load_dataset, load_text, sources
from course_utils.data import DATASETS
from course_utils.sources import DataFile, DatasetInfo, find_file

ROOT = Path(__file__).resolve().parents[1]


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


def test_nav17_molecules_pair_every_smiles_with_its_activity():
    from course_utils import load_bioactivity
    frame = load_bioactivity()
    assert list(frame.columns) == ["mol_id", "smiles", "pic50"] and len(frame) == 1_017 and frame["mol_id"].is_unique
    assert frame["pic50"].between(4, 10).all() and frame["smiles"].str.len().min() > 10
    assert frame.iloc[0].tolist() == ["1520012", "O=S(=O)(Nc1cccs1)c2ccc(Oc3ccccc3c4ccccc4)c(c2)C#N", 5.48]
    with pytest.raises(KeyError, match="load_bioactivity"):
        load_dataset("chembl_nav17")


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


# ----------------------------------------------------------------------------- the registry and the README
def _readme_data_rows() -> dict[str, str]:
    """The rows of the README's "Data sources and licences" table, by their first cell."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Data sources and licences", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows[line.strip("| ").split(" | ")[0].strip()] = line
    return rows


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_readme_data_table_has_a_row_for_every_registry_entry(name):
    info = DATASETS[name]
    rows = _readme_data_rows()
    assert info.readme_name, f"DATASETS[{name!r}] has no readme_name: add its row to the README's data table"
    assert info.readme_name in rows, (f"the README's 'Data sources and licences' table has no row "
                                      f"{info.readme_name!r} for DATASETS[{name!r}]")
    row = rows[info.readme_name]
    packages = re.findall(r"(?:pip install(?: --no-deps)?|apt-get install) (\S+)", info.install)
    for expected in packages or [f.name for f in info.files]:
        assert expected in row, f"the README's row for {name!r} does not name {expected!r}: {row}"


def test_registry_names_everything_the_course_reads():
    from course_utils import bert, models
    names = list_datasets()
    assert names == sorted(DATASETS)
    assert {"mobilenet_v2_imagenet", "imagenet_classes", "all_minilm_l6_v2", "co2", "movielens"} <= set(names)
    assert models.MOBILENET_V2_WEIGHTS is DATASETS["mobilenet_v2_imagenet"]
    assert bert.MINILM is DATASETS["all_minilm_l6_v2"]
    assert DatasetInfo is sources.Source
    assert all(DATASETS[n].name == n and DATASETS[n].loader for n in names)


@pytest.mark.parametrize("name, loader", [("mobilenet_v2_imagenet", "load_mobilenet_v2()"),
                                          ("imagenet_classes", "imagenet_classes()"),
                                          ("all_minilm_l6_v2", "load_minilm()"),
                                          ("shakespeare", "load_text('shakespeare')")])
def test_load_dataset_names_the_loader_of_other_sources(name, loader):
    with pytest.raises(KeyError, match=re.escape(f"load it with {loader}")):
        load_dataset(name)


def test_location_helpers(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert sources.in_data_dir("a.bin")() == tmp_path / "a.bin"
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert sources.in_data_dir("a.bin")() is None
    assert sources.in_course_files("shakespeare.txt")().is_file()
    assert sources.at_path("/no/such/file")() == Path("/no/such/file")
    assert sources.in_package("no_such_package_here", "x")() is None


# ----------------------------------------------------------------------------- misuse
@pytest.mark.parametrize("n_train", [-5, 0, True, 2.5, 100.0, "100"])
def test_load_dataset_refuses_a_bad_n_train(n_train):
    with pytest.raises(ValueError, match="n_train must be a positive int .* or None for all of them; got"):
        load_dataset("digits", n_train=n_train)


def test_load_dataset_refuses_more_examples_than_it_has():
    with pytest.raises(ValueError, match="n_train=5000 is more than the 1,200 training examples of 'digits'"):
        load_dataset("digits", n_train=5000)
    assert load_dataset("digits", n_train=1200).train[0].shape[0] == 1200


@pytest.mark.parametrize("seed", [-1, 1.5, 2 ** 64, None])
def test_load_dataset_refuses_a_bad_seed(seed):
    with pytest.raises(ValueError, match=r"seed must be an int from 0 to 2\*\*64 - 1; got"):
        load_dataset("digits", seed=seed)


def test_names_that_are_not_strings_or_not_of_this_loader_are_explained():
    with pytest.raises(TypeError, match="load_dataset.. expects the name of a dataset as a str .*got \\['mnist'\\]"):
        load_dataset(["mnist"])
    with pytest.raises(TypeError, match="load_text.. expects the name of a dataset as a str .*got 123"):
        load_text(123)
    with pytest.raises(KeyError, match=re.escape("'mnist' is not read by load_text(): load it with "
                                                 "load_dataset('mnist')")):
        load_text("mnist")
    with pytest.raises(KeyError, match="did you mean 'fashion_mnist'"):
        load_dataset("fashion-mnist")


# ----------------------------------------------------------------------------- the decoded dataset cache
@pytest.fixture(scope="module")
def mnist_cache(tmp_path_factory):
    """A cache of MNIST built from the verified source, and the tensors decoded straight from that source."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_CACHE_DIR", str(folder))
        data._decoded_tensors.cache_clear()
        data._decoded_tensors("mnist")
        data._decoded_tensors.cache_clear()
    (path,) = folder.glob("mnist-*.pt")
    info = DATASETS["mnist"]
    return path, data._mnist_tensors([find_file(info, info.files[0])])


@pytest.fixture
def cache(tmp_path, monkeypatch, mnist_cache):
    """A private copy of the MNIST cache in ``$COURSE_CACHE_DIR``, and nothing decoded in memory."""
    path, source = mnist_cache
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    shutil.copy(path, tmp_path / path.name)
    data._decoded_tensors.cache_clear()
    yield tmp_path / path.name, source
    data._decoded_tensors.cache_clear()


def _tamper(path, change):
    """Apply ``change`` to the tensors saved in the cache file, and save it back."""
    saved = torch.load(path, weights_only=True)
    change(saved.get("tensors", saved))
    torch.save(saved, path)
    return saved


def _assert_same(tensors, expected):
    assert sorted(tensors) == sorted(expected)
    for key, value in expected.items():
        assert tensors[key].shape == value.shape and torch.equal(tensors[key], value), key


def _flip_a_byte(t):
    t["train_x"].view(-1)[123_456] ^= 0x10


def _roll_labels(t):
    t["train_y"] = t["train_y"].roll(1)


def _wrong_shape(t):
    t["train_x"] = t["train_x"].reshape(-1, 28, 28)


def _drop_a_tensor(t):
    del t["test_y"]


def _fail(*args):
    raise AssertionError("the source was decoded although the cache is intact")


def test_intact_cache_is_used_without_decoding(cache, monkeypatch):
    _, source = cache
    monkeypatch.setitem(data._DECODERS, "mnist", _fail)
    _assert_same(data._decoded_tensors("mnist"), source)


@pytest.mark.parametrize("damage", [_flip_a_byte, _roll_labels, _wrong_shape, _drop_a_tensor])
def test_damaged_cache_is_rebuilt_from_the_source(cache, monkeypatch, damage):
    path, source = cache
    _tamper(path, damage)
    _assert_same(data._decoded_tensors("mnist"), source)
    assert load_dataset("mnist").train[0].shape == (50_000, 1, 28, 28)
    data._decoded_tensors.cache_clear()                     # the rebuilt cache is intact, and used
    monkeypatch.setitem(data._DECODERS, "mnist", _fail)
    _assert_same(data._decoded_tensors("mnist"), source)


def test_cache_recorded_against_another_source_is_rebuilt(cache):
    path, source = cache
    saved = _tamper(path, _roll_labels)
    saved["digest"] = sources.tensor_digest(saved["tensors"])  # self-consistent, but from another file
    saved["sources"] = {"mnist.pkl.gz": "0" * 64}
    torch.save(saved, path)
    _assert_same(data._decoded_tensors("mnist"), source)
    assert torch.load(path, weights_only=True)["sources"] == {"mnist.pkl.gz": DATASETS["mnist"].files[0].sha256}


def _short_save(obj, f, *args, **kwargs):
    Path(f).write_bytes(b"PK\x03\x04 the first bytes of a zip")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _torch_short_save(obj, f, *args, **kwargs):
    Path(f).write_bytes(b"PK\x03\x04 the first bytes of a zip")
    raise RuntimeError("[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file "
                       "data/0: file write failed")


def _full_replace(src, dst):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("target, fake", [("torch.save", _short_save), ("torch.save", _torch_short_save),
                                          ("os.replace", _full_replace)])
def test_full_disk_returns_the_data_and_leaves_no_file(tmp_path, monkeypatch, mnist_cache, target, fake):
    _, source = mnist_cache
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    data._decoded_tensors.cache_clear()
    monkeypatch.setattr(target, fake)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tensors = data._decoded_tensors("mnist")
    data._decoded_tensors.cache_clear()
    _assert_same(tensors, source)
    assert list(tmp_path.iterdir()) == [], "a temporary or half-written cache file was left behind"
    assert any("could not write the dataset cache" in str(w.message) for w in caught)


def test_every_readme_data_row_is_a_registry_entry():
    named = {info.readme_name for info in DATASETS.values()}
    rows = [r for r in _readme_data_rows() if r != "dataset"]
    assert rows and not [r for r in rows if r not in named], "README data rows without a registry entry"


def test_registry_covers_what_the_notebooks_read_from_packages():
    """A chapter that reads skimage.data.X() or a gymnasium environment reads a registered source."""
    loaders = " ".join(info.loader for info in DATASETS.values())
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        code = path.read_text(encoding="utf-8")
        for fn in set(re.findall(r"skimage\.data\.(\w+)\(", code)) | set(re.findall(r"data\.(lfw_subset|retina)\(", code)):
            assert f"skimage.data.{fn}()" in loaders, f"{path.name} reads skimage.data.{fn}() but the registry lacks it"
        for env in set(re.findall(r'gym\.make\(\\"([\w-]+)\\"', code)):
            assert f"make('{env}')" in loaders, f"{path.name} uses {env} but the registry lacks it"
