"""Build the static book with Jupyter Book 1 (Sphinx + myst-nb): one page per chapter, navigation, search,
highlighted code, solutions collapsed, math by a bundled MathJax. Works offline and executes nothing: the
committed notebooks carry the outputs of a full-mode run.

    python tools/book.py                      # notebooks/*.ipynb -> build/book/
    python tools/book.py --out site 03_*.ipynb  # a preview of some chapters (links to the others stay dead)

book/ holds the configuration (_config.yml, _toc.yml) and the home page (index.md). This script stages them
in a temporary folder with copies of the notebooks (cells tagged ``solution`` also get myst-nb's
``hide-input`` tag, so they are collapsed under "Show solution") and MathJax 2.7 from the
jupyter-server-mathjax package, then runs Jupyter Book's Sphinx build into the output folder.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}


def chapters() -> list[Path]:
    """The chapter notebooks, in the order of their numbers."""
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def mathjax_files() -> Path:
    """The MathJax 2.7 folder shipped by jupyter-server-mathjax (found without importing Jupyter Server)."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("jupyter-server-mathjax is not installed: make setup")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def stage_notebook(path: Path, dest: Path) -> None:
    """Copy a notebook, marking its solution cells so that myst-nb collapses their source, and its prose cells
    (paragraphs rendered from recorded results) so that only their text shows."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            cell.metadata["tags"] = [*tags, "hide-input"]
            cell.metadata["mystnb"] = {**cell.metadata.get("mystnb", {}), **SOLUTION_PROMPTS}
        elif "prose" in tags:   # a paragraph rendered from the recorded results: show the text, not its code
            cell.metadata["tags"] = [*tags, "remove-input"]
    nbformat.write(nb, dest / path.name)


def build(out: Path, notebooks: list[Path] | None = None, quiet: bool = True) -> list[Path]:
    """Build the book into ``out`` (replacing an earlier build there); return the pages of the chapters.

    A Sphinx warning (a link that leads nowhere, a missing image) fails the build of the whole book."""
    strict = not notebooks
    notebooks = notebooks or chapters()
    if out.exists() and any(out.iterdir()) and not (out / ".buildinfo").exists():
        raise SystemExit(f"{out} is not empty and holds no earlier book: not overwriting it")
    with tempfile.TemporaryDirectory(prefix="book-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "book", src)
        for path in notebooks:
            stage_notebook(path, src)
        shutil.copytree(mathjax_files(), src / "_mathjax" / "mathjax")
        jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
        command = [jupyter_book, "build", str(src), "--builder", "html",
                   "--path-output", tmp, *(["--warningiserror", "--keep-going"] if strict else []),
                   *(["--quiet"] if quiet else [])]
        if subprocess.run(command, stdout=subprocess.DEVNULL if quiet else None).returncode:
            raise SystemExit("the book did not build: see Sphinx's warnings above")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(Path(tmp) / "_build" / "html", out)
    return [out / path.with_suffix(".html").name for path in notebooks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args()
    pages = build(args.out, [p.resolve() for p in args.notebooks], quiet=not args.verbose)
    print(f"book: {len(pages)} chapters, {args.out / 'index.html'}", file=sys.stderr)


if __name__ == "__main__":
    main()
