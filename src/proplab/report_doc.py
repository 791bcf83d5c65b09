"""A report as a list of blocks, rendered to Markdown here and to HTML in ``report_html``.

Writing the content once as blocks keeps ``report.md`` and ``report.html``
saying the same thing. Text may use two inline marks, ``**bold**`` and
```code```; figures are paths relative to the report's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import quote


@dataclass
class Heading:
    level: int  # 2..4 (the document title is level 1)
    text: str
    anchor: str = ""  # HTML id; Markdown hosts derive theirs from the text (see slug)

    def __post_init__(self) -> None:
        self.anchor = self.anchor or slug(self.text)


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    align: str = ""  # one of "l"/"r" per column ("" = first left, rest right)


@dataclass
class Figure:
    path: str  # relative to the report folder, POSIX separators
    caption: str
    alt: str = ""


@dataclass
class Code:
    """A block of fixed-width text. With ``link`` (a file beside the report holding the
    whole text), a text longer than FOLD_LINES is folded: Markdown shows its first and
    last lines and links the file, HTML puts it all in a block the reader opens."""

    text: str
    link: str = ""


FOLD_LINES = 25  # a linked Code block longer than this is folded
FOLD_HEAD = 10  # ... Markdown then shows its first 10 lines and its last


Block = Heading | Para | Bullets | Table | Figure | Code


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        taken = {b.anchor for b in self.blocks if isinstance(b, Heading)}
        for b in blocks:
            if isinstance(b, Heading) and b.anchor in taken:
                # two experiments may share a title: HTML ids must stay unique (GitHub
                # numbers repeated headings the same way, so Markdown links agree)
                n = 1
                while f"{b.anchor}-{n}" in taken:
                    n += 1
                b.anchor = f"{b.anchor}-{n}"
            if isinstance(b, Heading):
                taken.add(b.anchor)
            self.blocks.append(b)

    @property
    def sections(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading) and b.level == 2]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


def slug(text: str) -> str:
    """GitHub-style anchor: lower case, spaces to dashes, punctuation dropped."""
    text = re.sub(r"[^\w\- ]", "", text.lower()).strip()
    return re.sub(r"\s", "-", text)


def link_target(path: str) -> str:
    """A relative path as a Markdown/HTML link target (spaces and the like percent-encoded)."""
    return quote(str(PurePosixPath(path)), safe="/=,.-_")


# the two marks both renderers read; everything else shows as written (see md_text)
_MARKS = re.compile(r"(`[^`]+`|\*\*[^*]+\*\*)")
# what Markdown would read as markup: emphasis, links, HTML, headings, tables, math, strike;
# an underscore only at a word's edge (leaky_relu stays as it is)
_SPECIAL = re.compile(r"[\\`*\[\]<#|~$&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BLOCK_START = re.compile(r"^(\s*)([-+>]|\d+[.)])(?=\s|$)")


def _escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def md_text(text: str) -> str:
    """Text for Markdown that renders as ``report_html.inline`` shows it: ``**bold**`` and
    ```code``` are kept, any other markup (tags, links, emphasis) is escaped, and newlines
    become spaces (a label's newline would otherwise end a bullet or a table row)."""
    text = text.replace("\r", " ").replace("\n", " ")
    parts = []
    for i, part in enumerate(_MARKS.split(text)):
        if i % 2 == 0:
            parts.append(_escape(part))
        elif part.startswith("`"):
            parts.append(part)
        else:
            parts.append("**" + _escape(part[2:-2]) + "**")
    # "- x", "1. x" or "> x" at the start would become a list or a quote: escape its mark
    # ("\\-", "1\\.")
    return _BLOCK_START.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", "".join(parts))


def _align(table: Table) -> str:
    return table.align or "l" + "r" * (len(table.header) - 1)


def to_markdown(doc: Document) -> str:
    """The document as GitHub-flavoured Markdown (figures as relative image links)."""
    out = [f"# {md_text(doc.title)}", ""]
    sections = doc.sections
    if sections:
        links = [f"[{md_text(h.text)}](#{h.anchor})" for h in sections]
        out += ["Contents: " + " · ".join(links), ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {md_text(b.text)}", ""]
        elif isinstance(b, Para):
            out += [md_text(b.text), ""]
        elif isinstance(b, Bullets):
            out += [f"- {md_text(item)}" for item in b.items] + [""]
        elif isinstance(b, Table):
            if b.caption:
                out += [f"*{md_text(b.caption)}*", ""]
            out.append("| " + " | ".join(md_text(h) for h in b.header) + " |")
            out.append("|" + "|".join(":---" if a == "l" else "---:" for a in _align(b)) + "|")
            out += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            alt, caption = md_text(b.alt or b.caption), md_text(b.caption)
            out += [f"![{alt}]({link_target(b.path)})", "", f"*{caption}*", ""]
        elif isinstance(b, Code):
            lines = b.text.rstrip("\n").split("\n")
            if b.link and len(lines) > FOLD_LINES:
                hidden = len(lines) - FOLD_HEAD - 1
                lines = [*lines[:FOLD_HEAD], f"... {hidden} more lines ...", lines[-1]]
                out += [
                    "```",
                    *lines,
                    "```",
                    "",
                    f"All of it: [{b.link}]({link_target(b.link)})",
                    "",
                ]
            else:
                out += ["```", *lines, "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"
