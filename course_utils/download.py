"""The one network fallback: a checksum-verified download of a file no local copy provides.

The course reads its data offline (pip data packages, Debian packages, files inside course_utils).
Where a file has a ``url`` in the registry (Fashion-MNIST, which on Debian and Ubuntu comes from
``apt-get install dataset-fashion-mnist`` and is missing on Colab, macOS and Windows),
:func:`~course_utils.sources.find_file` downloads it once into ``cache_dir()/downloads/`` when no
local copy exists and the network may be used. Nothing is trusted before its checksum matches.

Environment:
    COURSE_OFFLINE=1: never download (the tests set it); a missing file is a DataSourceError.
    COURSE_DOWNLOAD_MIRROR=URL: fetch from this folder instead of the registry's (``file://`` works;
        the Colab simulation serves Debian's copy this way).

Introduced in notebooks/00_getting_started.ipynb, section 0.4.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from .sources import DataFile, Source

__all__ = ["downloads_allowed", "download_url", "downloaded_path", "content_matches", "download"]

_TIMEOUT_S = 30
_OFF = {"1", "true", "yes", "on"}


def downloads_allowed() -> bool:
    """False when ``COURSE_OFFLINE`` is set to 1/true/yes/on (the tests), True otherwise."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() not in _OFF


def download_url(file: DataFile) -> str:
    """``file.url``, with its folder replaced by ``$COURSE_DOWNLOAD_MIRROR`` when that is set."""
    mirror = os.environ.get("COURSE_DOWNLOAD_MIRROR", "").strip()
    if not mirror:
        return file.url
    return mirror.rstrip("/") + "/" + file.url.rsplit("/", 1)[-1]


def downloaded_path(info: Source, file: DataFile) -> Path:
    """Where a downloaded copy of ``file`` lives: ``cache_dir()/downloads/<source>/<file name>``."""
    from .sources import cache_dir
    return cache_dir() / "downloads" / info.name / file.name


def content_matches(path: Path, file: DataFile) -> bool:
    """True when ``path`` gunzips to bytes whose sha256 is ``file.content_sha256``.

    A gzip file's bytes depend on how it was compressed (Debian's copy of Fashion-MNIST drops the
    file name from the header that Zalando's has); its content does not.
    """
    if not file.content_sha256:
        return False
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):  # not gzip, truncated
        return False
    return digest.hexdigest() == file.content_sha256


def _fetch(url: str, dest: Path, label: str) -> None:
    """Stream ``url`` into ``dest`` with a progress bar; OSError or URLError on any failure."""
    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, open(dest, "wb") as out:  # noqa: S310
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {label}", leave=False) as bar:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                bar.update(len(chunk))


def download(info: Source, file: DataFile) -> Path:
    """Download ``file`` into :func:`downloaded_path`, verify it, and return that path.

    Raises:
        DataSourceError: the download failed (no network, a wrong address); nothing is left behind.
        ChecksumError: the downloaded bytes are not the expected file; they are deleted.
    """
    from .sources import ChecksumError, DataSourceError, sha256_of, temporary_beside
    url, dest = download_url(file), downloaded_path(info, file)
    try:
        with temporary_beside(dest, ".part") as tmp:
            _fetch(url, tmp, f"{info.name}/{file.name}")
            if sha256_of(tmp) != file.sha256 and not content_matches(tmp, file):
                raise ChecksumError(f"the download of {file.name} from {url} is not the expected {info.name} file "
                                    f"(its checksum differs); it was deleted. Try again later, or: {info.install}")
            os.replace(tmp, dest)
    except ChecksumError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DataSourceError(f"{info.name!r} needs {file.name}; no local copy was found and downloading it from "
                              f"{url} failed ({reason}). To get it: {info.install}, or put the file in the folder "
                              f"named by COURSE_DATA_DIR.") from None
    return dest
