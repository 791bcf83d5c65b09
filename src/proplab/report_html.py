"""A report Document as one self-contained HTML file: figures embedded, no scripts, no network.

Figures become ``data:image/png;base64,...`` URIs and the style sheet is
inline, so the file opens offline in any browser and can be mailed as is.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from proplab.report_doc import FOLD_LINES, Bullets, Code, Document, Figure, Heading, Para, Table

STYLE = """
body { font: 100%/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; max-width: 1100px; margin: 2rem auto; padding: 0 1.2rem; }
h1 { font-size: 1.9rem; margin-bottom: .3rem; }
h2 { border-bottom: 2px solid #e3e3e8; padding-bottom: .2rem; margin-top: 2.4rem; }
h3 { margin-top: 1.8rem; }
nav { background: #f5f5f7; padding: .5rem .9rem; border-radius: 6px; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d8d8de; padding: .25rem .6rem; }
th { background: #f2f2f5; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.r, .nw { white-space: nowrap; }
div.table { overflow-x: auto; max-width: 100%; }
th[scope=row] { background: none; font-weight: 400; text-align: left; }
caption { caption-side: top; text-align: left; font-style: italic; padding: 1rem 0 .2rem;
          contain: inline-size; }
caption span { display: block; width: max-content; max-width: min(1100px, calc(100vw - 3rem)); }
figure { margin: 1rem 0 1.6rem; }
figure div.scroll { overflow-x: auto; }
figure img { width: var(--w); max-width: none; height: auto; border: 1px solid #eee; }
figure.wide { width: max-content; max-width: calc(100vw - 2.4rem);
              position: relative; left: 50%; transform: translateX(-50%); }
figure.wide figcaption { max-width: 1100px; margin: 0 auto; }
figure.wide img { width: auto; max-width: 100%; min-width: 1200px; }
figure:target img { width: var(--big); max-width: none; min-width: 0; }
figure a.shrink { display: none; }
figure:target a.shrink { display: inline; }
figcaption { font-style: italic; color: #555; font-size: .92rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em;
            background: #f5f5f7; border-radius: 4px; }
code { padding: 0 .2rem; }
pre { padding: .6rem .8rem; overflow-x: auto; }
"""


def inline(text: str) -> str:
    """Escape ``text`` for HTML and turn ``**bold**`` and ```code``` into tags."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


COLUMN_PX = 1100  # the text column: the body's max-width
# a figure wider than 1.25 columns (a grid of decision boundaries, 1920 px) would be
# shrunk to half size and its 9 pt panel titles to ~5 pt: it may use the window's width
WIDE_PX = 1.25 * COLUMN_PX


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's (width, height) in pixels, from its header ((0, 0) if ``data`` is no PNG)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return 0, 0
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def png_width(data: bytes) -> int:
    """A PNG's width in pixels, from its header (0 if ``data`` is no PNG)."""
    return png_size(data)[0]


def to_html(doc: Document, root: Path) -> str:
    """The document as a standalone HTML page; figure paths are read relative to ``root``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(doc.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{inline(doc.title)}</h1>",
    ]
    sections = doc.sections
    if sections:
        links = " ".join(f'<a href="#{h.anchor}">{inline(h.text)}</a>' for h in sections)
        parts.append(f"<nav>Contents: {links}</nav>")
    open_section = False
    figures = 0
    for b in doc.blocks:
        if isinstance(b, Heading):
            if b.level == 2:
                if open_section:
                    parts.append("</section>")
                parts.append(f'<section id="{b.anchor}">')
                open_section = True
                parts.append(f"<h2>{inline(b.text)}</h2>")
            else:
                parts.append(f'<h{b.level} id="{b.anchor}">{inline(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            parts.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            parts.append(_table(b))
        elif isinstance(b, Figure):
            figures += 1
            parts.append(_figure(b, root, figures))
        elif isinstance(b, Code):
            block = f"<pre><code>{html.escape(b.text)}</code></pre>"
            lines = b.text.rstrip("\n").count("\n") + 1
            if b.link and lines > FOLD_LINES:  # the page stands alone: folded, not linked
                block = f"<details><summary>all {lines} lines</summary>{block}</details>"
            parts.append(block)
    if open_section:
        parts.append("</section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


SHORT_CHARS = 80  # an alt text's title: at most this long


def short_title(caption: str) -> str:
    """A caption's head, for the alt text of the figure's link: up to its first ";", "," or
    " (", at most SHORT_CHARS ("XOR: cross-entropy per epoch, median ..." -> "XOR:
    cross-entropy per epoch"). The caption follows in full; a screen reader reading the
    whole of it as the alt too would read it twice (a11y24 L2)."""
    text = re.sub(r"\*\*|`", "", caption)
    head = re.split(r";|,| \(", text, maxsplit=1)[0].strip()
    if len(head) > SHORT_CHARS:
        head = head[:SHORT_CHARS].rsplit(" ", 1)[0] + " …"
    return head


ENLARGE = 2  # a figure's enlarged view (a click on it): twice its width in the column
ENLARGE_WIDE = 1.5  # a wide one's: 1.5 times its PNG's width


def _figure(b: Figure, root: Path, number: int) -> str:
    """Figure ``number`` (1, 2, ... in the page), embedded, in a box that scrolls sideways.

    Its width is set in CSS pixels (its PNG's, at most the text column's), not as a share
    of the column, so page zoom enlarges it as it does the text (a11y24 M6); a narrow
    window scrolls the figure, not the page. A wide figure scrolls at a readable 1200
    pixels or more. A click on it shows it enlarged in the page (the figure is the URL's
    target; "normal size" in its caption ends that): the page stands alone, with no file
    beside it to link to and no script.
    """
    data = (root / b.path).read_bytes()
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    # the link's name: what it does and which figure; the caption says the rest
    alt = html.escape("enlarge: " + (b.alt or short_title(b.caption)))
    width, height = png_size(data)
    wide = width > WIDE_PX
    shown = width if wide else min(width, COLUMN_PX)
    size = ""  # (a file whose size cannot be read is shown at its own)
    if shown:
        big = round((ENLARGE_WIDE if wide else ENLARGE) * shown)
        size = (
            f' width="{shown}" height="{round(height * shown / width)}"'
            f' style="--w: {shown}px; --big: {big}px"'
        )
    img = f'<a href="#fig-{number}" title="enlarge"><img src="{src}" alt="{alt}"{size}></a>'
    shrink = f' <a class="shrink" href="#cap-{number}">normal size</a>'
    caption = f'<figcaption id="cap-{number}">{inline(b.caption)}{shrink}</figcaption>'
    cls = ' class="wide"' if wide else ""
    return f'<figure id="fig-{number}"{cls}><div class="scroll">{img}</div>{caption}</figure>'


# a number whose exponent, "± std" or "%" a browser would break onto the next line:
# 2.14e-03, 1e-06, 100.0 ± 0.0 %, 3.5 %
_NUMBER = r"[-+\u2212]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?"
_UNBREAKABLE = re.compile(rf"(?<![\w.]){_NUMBER}(?:\s*±\s*{_NUMBER})?(?:\s*%)?(?![\w])")


def _cell(text: str) -> str:
    """A table cell's text as HTML, its numbers (with exponent, std and %) kept whole."""

    def keep(m: re.Match[str]) -> str:
        token = m.group(0)
        if not re.search(r"[e±%]", token):
            return token  # nothing in it a line could break at
        return f'<span class="nw">{token}</span>'

    return _UNBREAKABLE.sub(keep, inline(text))


def _table(t: Table) -> str:
    align = t.align or "l" + "r" * (len(t.header) - 1)
    cls = [' class="r"' if a == "r" else "" for a in align]
    # in a box that scrolls sideways by itself: a wide table must not widen the page
    rows = ['<div class="table">', "<table>"]
    if t.caption:
        # the table's title, read with it (a11y24 L3); the span may be wider than a narrow
        # table (CSS: the caption's own width does not count), so the title wraps at the
        # column's width, not the table's, and the table keeps its own
        rows.append(f"<caption><span>{inline(t.caption)}</span></caption>")
    rows.append(
        "<thead><tr>"
        + "".join(f'<th scope="col"{c}>{_cell(h)}</th>' for c, h in zip(cls, t.header, strict=True))
        + "</tr></thead>"
    )
    rows.append("<tbody>")
    for row in t.rows:
        cells = [f"<td{c}>{_cell(v)}</td>" for c, v in zip(cls, row, strict=True)]
        if align[0] == "l":  # a left-aligned first column names its row: a setting, a dataset
            cells[0] = f'<th scope="row">{_cell(row[0])}</th>'
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</tbody></table>")
    rows.append("</div>")
    return "\n".join(rows)
