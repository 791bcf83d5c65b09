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
    text: str


Block = Heading | Para | Bullets | Table | Figure | Code


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

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


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _align(table: Table) -> str:
    return table.align or "l" + "r" * (len(table.header) - 1)


def to_markdown(doc: Document) -> str:
    """The document as GitHub-flavoured Markdown (figures as relative image links)."""
    out = [f"# {doc.title}", ""]
    sections = doc.sections
    if sections:
        out += ["Contents: " + " · ".join(f"[{h.text}](#{slug(h.text)})" for h in sections), ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {b.text}", ""]
        elif isinstance(b, Para):
            out += [b.text, ""]
        elif isinstance(b, Bullets):
            out += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, Table):
            if b.caption:
                out += [f"*{b.caption}*", ""]
            out.append("| " + " | ".join(_md_cell(h) for h in b.header) + " |")
            out.append("|" + "|".join(":---" if a == "l" else "---:" for a in _align(b)) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"![{b.alt or b.caption}]({link_target(b.path)})", "", f"*{b.caption}*", ""]
        elif isinstance(b, Code):
            out += ["```", b.text.rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"
