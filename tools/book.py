"""Render the executed chapter notebooks into a static HTML book: one page per chapter, an index, and
previous / contents / next links on every page. Works offline (nbconvert, no downloads at build time).

    python tools/book.py                      # notebooks/*.ipynb -> build/book/
    python tools/book.py --out site nb1.ipynb nb2.ipynb

The committed notebooks carry the outputs of a full-mode run, so the book shows real results and figures
without executing anything. Solution cells stay in the pages, collapsed under a "Show solution" summary.
"""
from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
STYLE = """<style>
.course-nav{position:sticky;top:0;z-index:10;background:#f6f8fa;border-bottom:1px solid #d0d7de;
  padding:.5em 1em;font:14px system-ui,sans-serif;display:flex;gap:1.5em}
.course-nav a{text-decoration:none;color:#0969da}
</style>"""


def chapter_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the notebook's first markdown heading (``# 03 · Training a network``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    return fallback


def count_figures(nb: nbformat.NotebookNode) -> int:
    """How many image outputs (PNG or SVG) the notebook's code cells hold."""
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}))


def _nav(prev: str | None, nxt: str | None) -> str:
    links = ['<a href="index.html">Contents</a>']
    if prev:
        links.insert(0, f'<a href="{prev}">&larr; Previous</a>')
    if nxt:
        links.append(f'<a href="{nxt}">Next &rarr;</a>')
    return f'<nav class="course-nav">{"".join(links)}</nav>'


def _collapse_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Solution cells become a markdown <details> block (collapsed), placed where they were."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            body = html.escape(cell.source)
            cells.append(nbformat.v4.new_markdown_cell(
                f"<details><summary>Show solution</summary><pre>{body}</pre></details>"))
        else:
            cells.append(cell)
    nb.cells = cells
    return nb


def build(notebooks: list[Path], out: Path) -> list[dict[str, object]]:
    """Write one HTML page per notebook and ``index.html`` into ``out``; return what was written."""
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    pages = [nb.with_suffix(".html").name for nb in notebooks]
    written = []
    for i, path in enumerate(notebooks):
        nb = nbformat.read(path, as_version=4)
        title, figures = chapter_title(nb, path.stem), count_figures(nb)
        body, _ = exporter.from_notebook_node(_collapse_solutions(nb), resources={"metadata": {"name": title}})
        nav = _nav(pages[i - 1] if i else None, pages[i + 1] if i + 1 < len(pages) else None)
        body = re.sub(r"(<body[^>]*>)", lambda m, nav=nav: m.group(1) + nav, body, count=1)
        body = body.replace("</head>", STYLE + "</head>", 1)
        (out / pages[i]).write_text(body, encoding="utf-8")
        written.append({"page": pages[i], "title": title, "figures": figures})
    items = "\n".join(f'<li><a href="{w["page"]}">{html.escape(str(w["title"]))}</a> '
                      f'<small>({w["figures"]} figures)</small></li>' for w in written)
    (out / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Deep learning, hands-on</title>{STYLE}</head>"
        f"<body style='font:16px system-ui,sans-serif;max-width:50em;margin:2em auto'>"
        f"<h1>Deep learning, hands-on</h1><p>Every chapter is a notebook, shown here with the outputs of a "
        f"full run.</p><ol>{items}</ol></body></html>", encoding="utf-8")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for w in build(notebooks, args.out):
        print(f"{w['page']:<45} {w['figures']:>3} figures  {w['title']}")
    print(f"book: {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
