"""Finding and verifying the files the course reads: where to look, and the sha256 each must have.

A :class:`Source` describes one thing the course reads (a dataset, model weights, a list of class
names): what it is, its licence, what to install when it is missing, and its :class:`DataFile` s.
Each file has a fixed list of *locations*, tried in order; a location is a function that returns a
path (or None when it does not apply). :func:`find_file` returns the first one that exists, after
checking its sha256. :func:`cached_tensors` keeps what is decoded from verified files in a cache
that records those files' sha256 and a digest of its own content, and is checked before use.
Nothing here touches the network, and nothing here knows which sources exist: the one registry of
them is ``course_utils.data.DATASETS``.

Introduced in notebooks/00_getting_started.ipynb, section 0.4.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

__all__ = [
    "Location", "DataFile", "Source", "DatasetInfo", "DataSourceError", "ChecksumError",
    "in_data_dir", "in_package", "in_course_files", "at_path", "sha256_of", "find_file",
    "cache_dir", "tensor_digest", "cached_tensors", "temporary_beside",
]

Location = Callable[[], Path | None]
"""A place to look for a file: called with no argument, it returns a path, or None when it does not apply."""

_COURSE_FILES = Path(__file__).parent / "data_files"


class DataSourceError(FileNotFoundError):
    """No copy of a file the course reads is present; the message says what to install.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """


class ChecksumError(ValueError):
    """A file exists but its sha256 differs from the expected one (corrupted, or another version).

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """


@dataclass(frozen=True)
class DataFile:
    """One file of a source: its name, its expected sha256 (hex) and where to look for it, in order.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4. ``url`` (optional) is where a
    learner with network gets the file when no location has it (see :mod:`course_utils.download`);
    ``content_sha256`` (optional, gzip files) is the sha256 of the gunzipped bytes, so a copy
    compressed differently (Zalando's original against Debian's) is accepted too.
    """
    name: str
    sha256: str
    locations: tuple[Location, ...]
    url: str = ""
    content_sha256: str = ""


@dataclass(frozen=True)
class Source:
    """What the course reads, where it comes from, and what to install when it is missing.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.

    Attributes:
        name: the registry key, e.g. ``"mnist"``.
        description, licence, attribution: shown to learners and listed in the README.
        install: the command that provides the files (named in every "not found" error).
        files: the files it is read from, each checked by sha256 (empty when a library provides it).
        loader: the course function that reads it, as a learner calls it, e.g. ``"load_dataset('mnist')"``.
        readme_name: how the README's "Data sources and licences" table names it (a test checks the row exists).
    """
    name: str
    description: str
    licence: str
    attribution: str
    install: str
    files: tuple[DataFile, ...] = field(default=())
    loader: str = ""
    readme_name: str = ""


DatasetInfo = Source
"""The former name of :class:`Source` (the same class), kept for code written before it was renamed."""


def in_data_dir(filename: str) -> Location:
    """A location: ``filename`` inside the folder named by ``$COURSE_DATA_DIR`` (None when it is not set).

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """
    def look() -> Path | None:
        root = os.environ.get("COURSE_DATA_DIR")
        return Path(root) / filename if root else None
    return look


def in_package(package: str, relative: str) -> Location:
    """A location: ``relative`` inside the installed package ``package``, found without importing it.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """
    def look() -> Path | None:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations))) / relative
    return look


def in_course_files(filename: str) -> Location:
    """A location: ``filename`` in ``course_utils/data_files/``, the files shipped inside this package.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """
    return lambda: _COURSE_FILES / filename


def at_path(path: str | Path) -> Location:
    """A location: a fixed absolute path, e.g. where a Debian package installs its files.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4. A path under one of the folders
    listed in ``$COURSE_HIDE_PATHS`` (separated by ``os.pathsep``) counts as absent: the Colab
    simulation hides Debian's datasets this way.
    """
    fixed = Path(path)

    def look() -> Path | None:
        hidden = [Path(p) for p in os.environ.get("COURSE_HIDE_PATHS", "").split(os.pathsep) if p.strip()]
        return None if any(fixed == h or h in fixed.parents for h in hidden) else fixed
    return look


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_file(info: Source, file: DataFile) -> Path:
    """Return the first existing location of ``file``, verified by its sha256.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.

    Args:
        info: the source the file belongs to (its name and install command go into the errors).
        file: one of ``info.files``.

    Returns:
        the path of a copy whose sha256 is ``file.sha256``.

    When no location has it and the file has a ``url``, it is downloaded once (checksum-verified)
    unless ``COURSE_OFFLINE=1``; see :mod:`course_utils.download`.

    Raises:
        DataSourceError: no location exists (the message says what to install).
        ChecksumError: a location exists but its content differs from the expected sha256.
    """
    from . import download
    tried = []
    fetched = (lambda: download.downloaded_path(info, file),) if file.url else ()
    for look in (*file.locations, *fetched):
        path = look()
        if path is None:
            continue
        tried.append(str(path))
        if path.is_file():
            actual = sha256_of(path)
            if actual != file.sha256 and not download.content_matches(path, file):
                raise ChecksumError(
                    f"{path} is not the expected {info.name} file: sha256 {actual[:16]}... != "
                    f"expected {file.sha256[:16]}... The file is corrupted or a different version. "
                    f"Delete it and reinstall: {info.install}"
                )
            return path
    if file.url and download.downloads_allowed():
        return download.download(info, file)
    raise DataSourceError(
        f"{info.name!r} needs {file.name}, which was not found (looked in: "
        f"{', '.join(tried) or 'nowhere'}). To get it: {info.install}. Or put the file in the folder "
        f"named by the environment variable COURSE_DATA_DIR."
        + (f" Downloads are off (COURSE_OFFLINE is set); without it the file is downloaded from {file.url}."
           if file.url else "")
    )


# ----------------------------------------------------------------------------- files decoded from sources
_CACHE_FORMAT = 2
"""Version of a cache file's layout: ``{"format", "sources", "digest", "tensors"}``."""


def cache_dir() -> Path:
    """The folder of decoded-dataset caches: ``$COURSE_CACHE_DIR``, else ``~/.cache/course_utils``.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4.
    """
    root = os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "course_utils"
    return Path(root)


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """Hex sha256 over each tensor's name, dtype, shape and bytes, in sorted name order.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4. A flipped byte, a changed shape
    or dtype, a renamed or missing tensor all change it.
    """
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _read_cache(path: Path, sources: dict[str, str]) -> dict[str, torch.Tensor] | None:
    """The tensors cached in ``path`` if they were decoded from exactly ``sources`` and are intact, else None."""
    try:
        saved = torch.load(path, weights_only=True)
    except Exception:  # truncated, not a torch file, another torch version: rebuilt, never trusted
        return None
    if not isinstance(saved, dict) or saved.get("format") != _CACHE_FORMAT or saved.get("sources") != sources:
        return None
    tensors = saved.get("tensors")
    if not isinstance(tensors, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()):
        return None
    return tensors if saved.get("digest") == tensor_digest(tensors) else None


def temporary_beside(path: Path, suffix: str) -> contextlib.AbstractContextManager[Path]:
    """A new empty file in ``path``'s folder (created when missing), deleted on exit unless moved onto ``path``.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4: files are written to a temporary
    name and moved into place with ``os.replace``, so a failed write never leaves a half file.
    """
    @contextlib.contextmanager
    def made() -> Iterator[Path]:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=suffix)
        os.close(fd)
        try:
            yield Path(name)
        finally:
            with contextlib.suppress(OSError):
                Path(name).unlink(missing_ok=True)
    return made()


def _write_cache(path: Path, payload: dict[str, object]) -> None:
    """Write ``payload`` to ``path`` atomically; when that fails (read-only folder, full disk) leave no file."""
    try:
        with temporary_beside(path, ".tmp") as tmp:
            torch.save(payload, tmp)
            os.replace(tmp, path)
    except (OSError, RuntimeError) as err:  # torch.save reports a failed write (disk full) as RuntimeError
        warnings.warn(f"could not write the dataset cache {path} ({err}); the data is used without the cache "
                      "and decoded again next time", stacklevel=3)


def cached_tensors(key: str, sources: dict[str, str],
                   build: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Tensors decoded from verified files, through a cache that is checked before it is trusted.

    Introduced in notebooks/00_getting_started.ipynb, section 0.4. The cache file
    ``cache_dir() / f"{key}.pt"`` records the sha256 of each source file and :func:`tensor_digest`
    of its tensors. It is used only when both match; otherwise (unreadable, another source, a
    flipped byte, a changed shape, an older layout) it is deleted and rebuilt with ``build``. When
    the cache cannot be written (read-only folder, full disk) the fresh tensors are returned with a
    warning, and no temporary file is left behind.

    Args:
        key: the cache file's name, without ``.pt``.
        sources: ``{file name: sha256}`` of the verified files that ``build`` decodes.
        build: decodes those files into named tensors.

    Returns:
        ``{name: tensor}``, equal to what ``build()`` returns.
    """
    path = cache_dir() / f"{key}.pt"
    if path.is_file():
        tensors = _read_cache(path, sources)
        if tensors is not None:
            return tensors
        with contextlib.suppress(OSError):
            path.unlink()  # damaged, stale or from another source: rebuilt below
    tensors = build()
    _write_cache(path, {"format": _CACHE_FORMAT, "sources": dict(sources), "digest": tensor_digest(tensors),
                        "tensors": tensors})
    return tensors
