"""The repository address and pinned ref that Colab badges and setup cells use, kept in one place.

``pyproject.toml`` ``[tool.course]`` holds ``repository`` (the GitHub address) and ``ref`` (the tag or
commit a Colab setup cell installs and a badge opens). Every notebook's badge and first code cell,
the README's badges and the book's repository button, are written from those two values by this script:

    python tools/repository.py --check                  # exit 1 when anything disagrees (a test runs this)
    python tools/repository.py --write                  # rewrite badges and setup cells from pyproject.toml
    python tools/repository.py --write --repository https://github.com/you/fork --ref main   # for a fork

A chapter's data packages and Debian packages are read from its current setup cell and kept.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/notebooks/([\w.-]+\.ipynb)")
README_PIP = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?(?:@[\w./-]+)?(?=[\"`\s])")
PIN = re.compile(r'"([A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+)"')
CLONE = re.compile(r"git clone https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?\n(\s*)cd [\w.-]+")
APT = re.compile(r'(?:APT = \[|\["apt-get", "install", )([^\]]*)\]')


def course_config(pyproject: Path = ROOT / "pyproject.toml") -> tuple[str, str]:
    """(repository, ref) from ``[tool.course]``."""
    course = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["course"]
    return course["repository"].rstrip("/"), course["ref"]


def badge_url(repository: str, ref: str, notebook: str) -> str:
    """The Colab address that opens ``notebook`` (a file name in notebooks/) at ``ref``."""
    slug = repository.split("github.com/", 1)[1]
    return f"https://colab.research.google.com/github/{slug}/blob/{ref}/notebooks/{notebook}"


def setup_cell(imports: str, data: list[str], apt: list[str], repository: str, ref: str) -> str:
    """A chapter's first code cell: on Colab only, install the pinned course, its data, and print what it installed."""
    lines = ["# Colab only: install the course helper (pinned) and this chapter's data. Does nothing anywhere else.",
             imports,
             'if "google.colab" in sys.modules:',
             "    import subprocess",
             f'    COURSE = "git+{repository}@{ref}"   # pinned; tools/repository.py rewrites it for a fork',
             f"    DATA = {json.dumps(data)}   # this chapter's data packages"]
    if apt:
        lines += [f"    APT = {json.dumps(apt)}   # Debian packages (Colab runs as root)",
                  '    subprocess.run(["apt-get", "update", "-qq"], check=True)   # Colab\'s package lists are stale',
                  '    subprocess.run(["apt-get", "install", "-y", "-qq", *APT], check=True)']
    lines += ['    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", COURSE, *DATA], check=True)',
              "    from course_utils import course_version",
              '    print("installed:", f"course_utils {course_version()}", *DATA' + (", *APT" if apt else "") + ', sep="\\n  ")']
    return "\n".join(lines)


def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def parse_setup_cell(source: str) -> tuple[str, list[str], list[str]]:
    """(import line, pinned data packages, Debian packages) of an existing setup cell."""
    imports = next((line for line in source.splitlines() if line.startswith("import ")), "import sys")
    data = list(PIN.findall(source))
    apt_match = APT.search(source)
    apt = [a for a in re.findall(r'"([^"]+)"', apt_match.group(1)) if not a.startswith("-")] if apt_match else []
    return imports, data, apt


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def rewrite_notebook(path: Path, repository: str, ref: str) -> bool:
    """Write ``path``'s badge and setup cell from the configuration; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    title = nb["cells"][0]
    new_title = BADGE.sub(lambda m: badge_url(repository, ref, m.group(1)), _source(title))
    title["source"] = _lines(new_title)
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    first["source"] = _lines(setup_cell(*parse_setup_cell(_source(first)), repository, ref))
    new_text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new_text == text:
        return False
    path.write_text(new_text, encoding="utf-8")
    return True


def _rewrite(path: Path, transform: Callable[[str], str]) -> bool:
    """Apply ``transform`` to the text of ``path`` and write it back when it changed; True when it did."""
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    new = transform(text)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def rewrite_readme(path: Path, repository: str, ref: str) -> bool:
    """Write the README's badges, ``pip install git+...`` and ``git clone`` lines from the configuration."""
    def transform(text: str) -> str:
        text = BADGE.sub(lambda m: badge_url(repository, ref, m.group(1)), text)
        text = README_PIP.sub(f"git+{repository}@{ref}", text)
        return CLONE.sub(lambda m: _clone(repository, m.group(1)), text)
    return _rewrite(path, transform)


def _clone(repository: str, indent: str) -> str:
    return f"git clone {repository}\n{indent}cd {repository.rsplit('/', 1)[1]}"


def rewrite_book_config(path: Path, repository: str, ref: str) -> bool:
    """Point the book's repository button (``book/_config.yml``) at ``repository`` and ``ref``."""
    return _rewrite(path, lambda text: re.sub(r"(?m)^(\s*repository_branch:) \S+", rf"\1 {ref}",
                                              re.sub(r"(?m)^(\s*repository_url:) \S+", rf"\1 {repository}", text)))


def set_config(pyproject: Path, repository: str, ref: str) -> None:
    """Replace ``repository`` and ``ref`` in ``[tool.course]`` (the lines are rewritten in place)."""
    _rewrite(pyproject, lambda text: re.sub(r'(?m)^ref = ".*"$', f'ref = "{ref}"',
                                            re.sub(r'(?m)^repository = ".*"$', f'repository = "{repository}"', text)))


def disagreements(root: Path = ROOT) -> list[str]:
    """Files whose badge, setup cell or install line differ from ``[tool.course]`` (nothing is written)."""
    repository, ref = course_config(root / "pyproject.toml")
    wrong = []
    for path in sorted((root / "notebooks").glob("[0-9][0-9]*_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        expected_cell = setup_cell(*parse_setup_cell(_source(first)), repository, ref)
        if _source(first) != expected_cell or badge_url(repository, ref, path.name) not in _source(nb["cells"][0]):
            wrong.append(path.name)
    readme = (root / "README.md").read_text(encoding="utf-8")
    badges = [m.group(0) for m in BADGE.finditer(readme)]
    if any(b != badge_url(repository, ref, BADGE.match(b).group(1)) for b in badges) or \
            any(m.group(0) != f"git+{repository}@{ref}" for m in README_PIP.finditer(readme)) or \
            any(m.group(0) != _clone(repository, m.group(1)) for m in CLONE.finditer(readme)):  # type: ignore[union-attr]
        wrong.append("README.md")
    book = root / "book" / "_config.yml"
    if book.is_file():
        text = book.read_text(encoding="utf-8")
        if f"repository_url: {repository}\n" not in text or f"repository_branch: {ref}\n" not in text:
            wrong.append("book/_config.yml")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report files that disagree with pyproject.toml")
    parser.add_argument("--write", action="store_true", help="rewrite badges and setup cells")
    parser.add_argument("--repository", help="a new GitHub address, e.g. https://github.com/you/fork")
    parser.add_argument("--ref", help="a new tag, branch or commit to pin")
    args = parser.parse_args(argv)
    if not (args.check or args.write):
        parser.error("say --check or --write")
    if (args.repository or args.ref) and not args.write:
        parser.error("--repository and --ref need --write")
    if args.repository and not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", args.repository.rstrip("/")):
        parser.error(f"--repository must look like https://github.com/OWNER/NAME, got {args.repository!r}")
    if args.ref is not None and not re.fullmatch(r"[\w./-]+", args.ref):
        parser.error(f"--ref must be a tag, branch or commit name, got {args.ref!r}")
    if args.write:
        repository, ref = course_config()
        set_config(ROOT / "pyproject.toml", (args.repository or repository).rstrip("/"), args.ref or ref)
        repository, ref = course_config()
        changed = [p.name for p in sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")) if rewrite_notebook(p, repository, ref)]
        changed += ["README.md"] if rewrite_readme(ROOT / "README.md", repository, ref) else []
        changed += ["book/_config.yml"] if rewrite_book_config(ROOT / "book" / "_config.yml", repository, ref) else []
        print(f"{repository}@{ref}: rewrote {len(changed)} file(s)" + (f": {', '.join(changed)}" if changed else ""))
        if any(name.endswith(".ipynb") for name in changed):
            print("the setup cells changed: re-execute those notebooks (make execute) before committing")
        return 0
    wrong = disagreements()
    for name in wrong:
        print(f"{name}: disagrees with [tool.course] in pyproject.toml; run python tools/repository.py --write")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
