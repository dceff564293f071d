"""The one network fallback: a checksum-verified download, tested against local file:// URLs."""
import gzip
import hashlib
from pathlib import Path

import pytest

from course_utils import ChecksumError, DataSourceError, load_dataset
from course_utils.download import content_matches, download_url
from course_utils.registry import DATASETS
from course_utils.sources import DataFile, Source, at_path, find_file, sha256_of

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def named_gzip(path: Path, payload: bytes, name: str) -> None:
    """A gzip file whose header carries a file name, as Zalando's originals do (Debian's do not)."""
    with open(path, "wb") as raw, gzip.GzipFile(filename=name, mode="wb", fileobj=raw, mtime=1, compresslevel=1) as gz:
        gz.write(payload)


def source_for(tmp_path: Path, payload: bytes = b"0123456789" * 1000) -> tuple[Source, DataFile, Path]:
    served = tmp_path / "served"
    served.mkdir()
    (served / "numbers.gz").write_bytes(gzip.compress(payload, mtime=0))
    file = DataFile("numbers.gz", sha256_of(served / "numbers.gz"), (at_path(tmp_path / "not-installed" / "numbers.gz"),),
                    url=(served / "numbers.gz").as_uri(), content_sha256=hashlib.sha256(payload).hexdigest())
    return Source("numbers", "a test file", "none", "nobody", "apt-get install numbers", (file,)), file, served


@pytest.fixture
def online(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DOWNLOAD_MIRROR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))


def test_a_missing_file_is_downloaded_once_verified_and_then_found_locally(online, tmp_path):
    info, file, served = source_for(tmp_path)
    path = find_file(info, file)
    assert path == tmp_path / "cache" / "downloads" / "numbers" / "numbers.gz" and sha256_of(path) == file.sha256
    (served / "numbers.gz").unlink()                      # the second call must not need the network
    assert find_file(info, file) == path
    assert [p.name for p in path.parent.iterdir()] == ["numbers.gz"], "no partial download is left behind"


def test_a_differently_compressed_copy_is_accepted_by_its_content(online, tmp_path):
    info, file, served = source_for(tmp_path)
    named_gzip(served / "numbers.gz", b"0123456789" * 1000, "numbers")
    assert sha256_of(served / "numbers.gz") != file.sha256
    assert content_matches(find_file(info, file), file)


def test_a_download_with_the_wrong_content_is_refused_and_deleted(online, tmp_path):
    info, file, served = source_for(tmp_path)
    (served / "numbers.gz").write_bytes(gzip.compress(b"something else"))
    with pytest.raises(ChecksumError, match="numbers.gz .*checksum differs.*deleted"):
        find_file(info, file)
    assert not any((tmp_path / "cache" / "downloads" / "numbers").iterdir())


@pytest.mark.parametrize("url", ["file:///no/such/folder/numbers.gz", "not a url"])
def test_a_failed_download_says_what_to_install_and_leaves_nothing(online, tmp_path, url):
    info, file, _ = source_for(tmp_path)
    broken = DataFile(file.name, file.sha256, file.locations, url=url, content_sha256=file.content_sha256)
    with pytest.raises(DataSourceError, match=r"downloading it from .* failed .*apt-get install numbers"):
        find_file(Source(**{**info.__dict__, "files": (broken,)}), broken)
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_offline_means_no_download_and_says_how_to_allow_it(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    info, file, _ = source_for(tmp_path)
    with pytest.raises(DataSourceError, match="Downloads are off"):
        find_file(info, file)
    assert not (tmp_path / "cache").exists()


def test_a_mirror_replaces_the_folder_of_the_address(monkeypatch, tmp_path):
    info, file, served = source_for(tmp_path)
    monkeypatch.setenv("COURSE_DOWNLOAD_MIRROR", "file:///elsewhere/")
    assert download_url(file) == "file:///elsewhere/numbers.gz"


def test_hidden_paths_count_as_absent(monkeypatch, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x").write_text("x")
    look = at_path(tmp_path / "data" / "x")
    assert look() == tmp_path / "data" / "x"
    monkeypatch.setenv("COURSE_HIDE_PATHS", f"/somewhere/else:{tmp_path / 'data'}")
    assert look() is None


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_downloads_when_debian_is_hidden_as_on_colab(online, monkeypatch, tmp_path):
    """Zalando's original files (a named gzip header) from a file:// mirror, with Debian's copy hidden."""
    mirror = tmp_path / "zalando"
    mirror.mkdir()
    for f in DATASETS["fashion_mnist"].files:
        named_gzip(mirror / f.name, gzip.decompress((DEBIAN_FASHION / f.name).read_bytes()), f.name[:-3])
    monkeypatch.setenv("COURSE_HIDE_PATHS", str(DEBIAN_FASHION.parent))
    monkeypatch.setenv("COURSE_DOWNLOAD_MIRROR", mirror.as_uri())
    data = load_dataset("fashion_mnist", n_train=100)
    assert data.train[0].shape == (100, 1, 28, 28) and len(data.test[0]) == 10_000
    assert len(list((tmp_path / "cache" / "downloads" / "fashion_mnist").iterdir())) == 4
