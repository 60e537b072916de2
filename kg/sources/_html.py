"""Saved web pages (HTML) as the text the page parsers read.

A registry-mirror page saved from a browser is HTML. The page parsers read the text a
reader sees: headings, labels and values, one block per line. :func:`html_to_text`
renders that text much as a browser's ``innerText`` does. Blocks (paragraphs,
headings, list items, table rows, ``div``\\ s ...) are separated by a blank line,
inline elements run on in one line, ``<br>`` breaks the line, and ``<pre>`` keeps its
lines. The cells of a table row are separated by a tab, so a row of label and value
("Enrollment", "8 patients") reads as a labelled value. Scripts, styles, the document
head and other invisible content are dropped. The HTML is parsed by lxml without
network access or entity expansion.
"""

from __future__ import annotations

import re

from lxml import etree, html

#: An HTML document starts (after white space, an XML declaration or comments) with its
#: doctype or its <html> element; "<html>" further in, inside a JSON string, does not count.
_HTML = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL
)

#: Elements whose content is not shown as text.
_HIDDEN = frozenset(
    [
        "head",
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "canvas",
        "audio",
        "video",
        "select",
        "button",
    ]
)
#: Elements that start and end a block of text.
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    ]
)
_CELLS = frozenset(("td", "th"))
_SPACE = re.compile(r"[ \t\r\n\f\u00a0]+")
_BREAK = "\x00"  # a block boundary while the text is being built
_CELL = "\t"  # ends a table cell, as in a browser's innerText
_AROUND_CELL = re.compile(r" *\t[ \t]*")


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes of a file are an HTML document."""
    return _HTML.match(head[:4096]) is not None


def html_to_text(data: bytes) -> bytes:
    """The visible text of an HTML document, one block per paragraph, as UTF-8.

    Bytes that are valid UTF-8 are read as UTF-8 whatever the page declares (a saved
    page often keeps a stale ``<meta charset>``); other bytes by the declared charset."""
    try:
        data.decode("utf-8")
        encoding: str | None = "utf-8"
    except UnicodeDecodeError:
        encoding = None
    parser = html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True, no_network=True, recover=True)
    root = html.document_fromstring(data, parser=parser)
    parts: list[str] = []
    _render(root, parts)
    text = "".join(parts)
    paragraphs = []
    for block in text.split(_BREAK):
        lines = [_AROUND_CELL.sub(_CELL, line).strip() for line in block.split("\n")]
        if any(lines):
            paragraphs.append("\n".join(line for line in lines if line))
    return ("\n\n".join(paragraphs) + "\n").encode("utf-8")


def _render(el: etree._Element, parts: list[str]) -> None:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in _HIDDEN:
        parts.append(_inline(el.tail))
        return
    if tag == "br":
        parts.append("\n" + _inline(el.tail).lstrip())
        return
    block = tag in _BLOCKS or tag == "pre"
    if block:
        parts.append(_BREAK)
    if tag == "pre":
        parts.append(el.text_content())
    else:
        parts.append(_inline(el.text))
        for child in el:
            _render(child, parts)
    if block:
        parts.append(_BREAK)
    elif tag in _CELLS:
        parts.append(_CELL)
    parts.append(_inline(el.tail))


def _inline(text: str | None) -> str:
    """Text as a browser lays it out inline: every run of white space is one space."""
    return _SPACE.sub(" ", text) if text else ""
