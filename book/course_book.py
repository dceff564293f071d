"""A Sphinx extension of the course's book (loaded by _config.yml): the book is read offline, so an image
from the web (the "Open in Colab" badge at the top of each chapter) becomes its alt text, still a link."""
from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx


def remote_images_to_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace every image with an http(s) source by a text of its alt (or its address)."""
    for image in list(doctree.findall(nodes.image)):
        uri = str(image.get("uri", ""))
        if uri.startswith(("http://", "https://", "//")):
            image.replace_self(nodes.inline(text=str(image.get("alt") or uri), classes=["remote-image"]))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-resolved", remote_images_to_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
