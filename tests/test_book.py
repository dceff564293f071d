"""make book: every chapter becomes a page with navigation and all of its figures."""
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import book  # noqa: E402


def test_book_has_a_page_per_chapter_with_its_figures(tmp_path):
    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    written = book.build(notebooks, tmp_path)
    index = (tmp_path / "index.html").read_text()
    assert len(written) == len(notebooks)
    for i, (path, page) in enumerate(zip(notebooks, written)):
        html = (tmp_path / page["page"]).read_text()
        nb = nbformat.read(path, as_version=4)
        assert page["figures"] == book.count_figures(nb) and page["figures"] > 0, path.name
        images = len(re.findall(r'<img[^>]*src="data:image/(?:png|svg)', html))
        assert images >= page["figures"], f"{page['page']}: {images} images for {page['figures']} figures"
        assert f'href="{page["page"]}"' in index
        assert 'href="index.html"' in html
        if i + 1 < len(written):
            assert f'href="{written[i + 1]["page"]}">Next' in html
        assert re.search(r"<h1[^>]*>", html) and page["title"].split(" ", 2)[-1] in html
        if any("solution" in c.metadata.get("tags", []) for c in nb.cells):
            assert "Show solution" in html
