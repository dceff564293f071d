"""make book: Jupyter Book builds every chapter into a page, offline, and the pages work in a real browser.

One build (in a temporary folder) is shared by the tests. The static tests read its HTML: a page per chapter
with all of its figures, navigation, collapsed and highlighted solutions, search, no CDN, chapter links that
resolve. The browser test serves the book on localhost and opens every page in headless Chromium (skipped
where Chromium or Playwright is absent): MathJax has typeset all math, every figure is drawn, every internal
link leads to a page that loads, and no page logs an error or fails a request.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import urldefrag

import nbformat
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import book  # noqa: E402

NOTEBOOKS = book.chapters()
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-default-apps", "--disable-sync", "--disable-extensions", "--no-first-run"]
WEB = re.compile(r"^(https?:)?//", re.I)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "html"
    book.build(out)
    return out


@pytest.fixture(scope="session")
def pages(site) -> dict[str, BeautifulSoup]:
    """Every page of the book, parsed once."""
    return {p.name: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in sorted(site.glob("*.html"))}


def figures(nb: nbformat.NotebookNode) -> int:
    """How many image outputs (PNG, JPEG or SVG) the notebook's code cells hold."""
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if {"image/png", "image/jpeg", "image/svg+xml"} & set(o.get("data", {})))


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and "solution" in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_page_per_chapter_with_its_figures_navigation_and_collapsed_solutions(site, pages, path):
    nb = nbformat.read(path, as_version=4)
    page = pages[f"{path.stem}.html"]
    title = next(c.source for c in nb.cells if c.cell_type == "markdown").splitlines()[0].lstrip("# ").strip()
    assert page.h1 and title in page.h1.get_text(), f"{path.stem}: heading {page.h1}"
    images = [img for img in page.select("article .cell_output img") if img["src"].startswith("_images/")]
    assert figures(nb) > 0 and len(images) == figures(nb), f"{path.stem}: {len(images)} images, {figures(nb)} figures"
    for img in images:
        assert not WEB.match(img["src"]) and (site / img["src"]).stat().st_size > 0, img["src"]
    # navigation: the sidebar lists every chapter, the footer leads to the neighbours
    sidebar = {a["href"] for a in page.select("nav.bd-docs-nav a[href]")}       # the page itself is "#"
    assert {f"{p.stem}.html" for p in NOTEBOOKS if p != path} <= sidebar
    i = NOTEBOOKS.index(path)
    prev = page.select_one("a.left-prev")
    assert prev and prev["href"] == (f"{NOTEBOOKS[i - 1].stem}.html" if i else "index.html")
    nxt = page.select_one("a.right-next")
    assert (nxt["href"] if nxt else None) == (f"{NOTEBOOKS[i + 1].stem}.html" if i + 1 < len(NOTEBOOKS) else None)
    # solutions: collapsed under "Show solution", their code highlighted
    solutions = page.select("div.tag_solution > details.hide.above-input")
    assert len(solutions) == sum(map(is_solution, nb.cells)), path.stem
    for details in solutions:
        assert not details.has_attr("open") and "Show solution" in details.summary.get_text()
        assert details.select(".highlight pre span.k, .highlight pre span.n"), "solution code is not highlighted"
    assert page.select(".cell_input .highlight pre span.n"), "code is not highlighted"


def test_index_lists_the_chapters_and_search_covers_them(site, pages):
    index = pages["index.html"]
    links = [a["href"] for a in index.select("article a[href]")]
    assert [f"{p.stem}.html" for p in NOTEBOOKS] == [h for h in dict.fromkeys(links) if h[:1].isdigit()]
    assert (site / "search.html").exists() and index.select("form[action*=search]")
    searchindex = (site / "searchindex.js").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f'"{path.stem}"' in searchindex, f"{path.stem} is not in the search index"


def test_no_cdn_math_from_the_bundled_mathjax(site, pages):
    for name, page in pages.items():
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src")):
            for el in page.find_all(tag):
                if tag == "link" and "stylesheet" not in el.get("rel", []) and el.get("as") not in ("script", "style"):
                    continue
                assert not WEB.match(el.get(attr, "")), f"{name} loads {el.get(attr)} from the web"
        for script in page.find_all("script", src=False):
            assert not re.search(r"https?://", script.get_text()), f"{name}: a script names a web address"
    chapter = pages["02_neurons_and_activations.html"]
    mathjax = [s["src"] for s in chapter.find_all("script", src=True) if "MathJax.js" in s["src"]]
    assert mathjax == ["_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"]
    assert (site / "_static/mathjax/config/TeX-AMS-MML_HTMLorMML-full.js").exists()
    assert chapter.select(".math"), "chapter 02 shows no math"


def test_chapter_links_resolve_to_pages(site, pages):
    """Links between chapters (``[chapter 03](03_training_a_network.ipynb)`` in the notebooks) lead to their
    pages; every internal link and anchor of every page exists."""
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        wanted = {re.sub(r"\.ipynb\b", ".html", m) for c in cells if c.cell_type == "markdown"
                  for m in re.findall(r"\]\(([0-9][^)\s]*\.ipynb(?:#[^)\s]*)?)\)", c.source)}
        hrefs = {a["href"] for a in pages[f"{path.stem}.html"].select("article a[href]")}
        assert wanted <= hrefs, f"{path.stem}: chapter links {wanted - hrefs} are not links to pages"
    ids = {name: {el["id"] for el in page.find_all(id=True)} for name, page in pages.items()}
    for name, page in pages.items():
        for a in page.select("a[href]"):
            href = a["href"]
            if WEB.match(href) or href.startswith(("mailto:", "javascript:")):
                continue
            target, fragment = urldefrag(href)
            assert not target.endswith(".ipynb") or target.startswith("_sources/"), f"{name}: link to {href}"
            assert (site / (target or name)).is_file(), f"{name}: {href} leads nowhere"
            if fragment and (target or name) in ids:
                assert fragment in ids[target or name], f"{name}: no anchor {href}"


# -- the real browser ----------------------------------------------------------------------------------------

MATHJAX_DONE = """() => { window.__typeset = false;   // MathJax 2's startup ends after its first typeset of the page
  const go = () => (window.MathJax && MathJax.Hub && MathJax.Hub.Register)
    ? MathJax.Hub.Register.StartupHook('End', () => { window.__typeset = true; }) : setTimeout(go, 50);
  if (document.querySelector('.math')) go(); else window.__typeset = true; }"""
INSPECT = """() => {
  const article = document.querySelector('article') || document.body;
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, .cell_output, .MathJax, .MathJax_Display, .MathJax_Preview')
       .forEach(e => e.remove());
  return {
    prose: prose.textContent,
    untypeset: [...document.querySelectorAll('.math.notranslate')].filter(e => !e.querySelector('.MathJax, .MathJax_Display'))
                 .map(e => e.textContent.slice(0, 80)),
    texErrors: [...document.querySelectorAll('.MathJax .merror, .MathJax .noError')].map(e => e.textContent),
    badImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    images: document.images.length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    closedSolutions: [...document.querySelectorAll('.tag_solution details')].filter(d => !d.open).length,
  };
}"""
RAW_MATH = re.compile(r"\$\$.+?\$\$|(?<![\w\\])\$[^$\s][^$\n]*?(?<!\s)\$(?!\w)|\\\(|\\\)|\\\[|\\\]", re.S)


@pytest.fixture(scope="module")
def served(site):
    """The book on a localhost HTTP server (a thread of this process)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)")
def test_every_page_in_chromium(served):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (see requirements.txt)")
    problems: list[str] = []
    pages = ["index.html", *(f"{p.stem}.html" for p in NOTEBOOKS)]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        where = {"page": ""}
        page.on("console", lambda m: m.type == "error" and problems.append(f"{where['page']}: console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"{where['page']}: script error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"{where['page']}: failed {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"{where['page']}: {r.status} {r.url}"))
        page.on("request", lambda r: r.url.startswith(("http:", "https:")) and not r.url.startswith(served)
                and problems.append(f"{where['page']}: requests {r.url} from the web"))
        seen: dict[str, list[str]] = {}
        links: dict[str, str] = {}
        queue = list(pages)
        while queue:
            name = queue.pop(0)
            where["page"] = name
            page.goto(served + name, wait_until="load")
            page.evaluate(MATHJAX_DONE)
            try:
                page.wait_for_function("() => window.__typeset === true", timeout=30_000)
            except sync_api.TimeoutError:
                problems.append(f"{name}: MathJax did not finish typesetting within 30 s")
            info = page.evaluate(INSPECT)
            seen[name] = info["ids"]
            problems += [f"{name}: MathJax left {m!r}" for m in info["untypeset"]]
            problems += [f"{name}: TeX error {m!r}" for m in info["texErrors"]]
            problems += [f"{name}: raw math {m.group()[:60]!r}" for m in RAW_MATH.finditer(info["prose"])]
            problems += [f"{name}: figure not drawn: {src}" for src in info["badImages"]]
            for href in info["links"]:
                if href.startswith(served):
                    links.setdefault(href, name)
                    target = urldefrag(href)[0][len(served):]
                    if target.endswith(".html") and target not in seen and target not in queue:
                        queue.append(target)        # genindex.html, search.html: loaded and checked too
            if name != "index.html" and name.endswith(".html") and name[:1].isdigit():
                assert info["images"] > 0 and info["closedSolutions"] > 0, f"{name}: no figures or no solutions"
        for href, source in links.items():
            target, fragment = urldefrag(href)
            target = target[len(served):] or "index.html"
            if target in seen:
                if fragment and fragment not in seen[target]:
                    problems.append(f"{source}: broken anchor {href}")
            elif not page.request.get(href).ok:
                problems.append(f"{source}: broken link {href}")
        # search works offline: a word of several chapters finds them
        where["page"] = "search.html"
        page.goto(served + "search.html?q=gradient", wait_until="load")
        page.wait_for_function("() => /finished/.test(document.querySelector('.search-summary')?.textContent)",
                               timeout=30_000)     # (it fetches each page found for its snippet)
        page.wait_for_load_state("networkidle")   # "finished" shows before the snippets' fetches end; let them end
        found = {re.split("[?#]", a)[0] for a in page.eval_on_selector_all("#search-results a", "as => as.map(a => a.href)")}
        assert len(found) >= 3, f"searching 'gradient' found {found}"
        # a collapsed solution opens on a click and shows its highlighted code
        page.goto(served + "03_training_a_network.html", wait_until="load")
        solution = page.locator(".tag_solution details").first
        assert not solution.locator(".cell_input pre").is_visible()
        solution.locator("summary").click()
        assert solution.locator(".cell_input pre span.k").first.is_visible()
        browser.close()
    assert set(pages) <= set(seen)
    assert not problems, "\n".join(problems[:40])
