"""The report's document model (report_doc) and its two renderings: Markdown and HTML.

Unit tests of the blocks, anchors and escaping; tests/test_report.py renders whole
reports end to end.
"""

from __future__ import annotations

import re
from pathlib import Path

from proplab.report_doc import (
    Bullets,
    Code,
    Document,
    Figure,
    Heading,
    Para,
    Table,
    link_target,
    md_text,
    slug,
    to_markdown,
)
from proplab.report_html import inline, png_width, to_html

# --- anchors -------------------------------------------------------------------------


def test_slugs_follow_github_one_dash_per_space_keeping_dashes():
    assert slug("leaky-relu vs tanh") == "leaky-relu-vs-tanh"
    assert slug("a  b") == "a--b" and slug("1 - 2") == "1---2"  # GitHub: each space a dash
    assert slug(" Why? ") == "why" and slug("(tanh)") == "tanh"  # no dash at either end


def test_a_given_anchor_is_kept_and_used_as_the_html_id(tmp_path: Path):
    doc = Document("T")
    doc.add(Heading(2, "Results", anchor="res"), Heading(3, "Detail", anchor="more"))
    assert [b.anchor for b in doc.blocks] == ["res", "more"]
    page = to_html(doc, tmp_path)
    assert '<section id="res">' in page and '<h3 id="more">' in page
    assert '<a href="#res">Results</a>' in page


def test_repeated_headings_get_numbered_anchors_in_one_add_or_many():
    doc = Document("T")
    doc.add(Heading(2, "Run"), Heading(3, "Run"), Heading(3, "Run"))
    doc.add(Heading(2, "Run"))  # needs -1 and -2 skipped: -3
    assert [b.anchor for b in doc.blocks] == ["run", "run-1", "run-2", "run-3"]


def test_the_contents_list_the_sections_by_their_anchors_only_when_there_are_some(
    tmp_path: Path,
):
    doc = Document("T")
    doc.add(Heading(2, "Setup"), Heading(3, "Data"), Heading(2, "Setup"))
    md = to_markdown(doc)
    # the level-2 headings only, the repeated one by its numbered anchor
    assert md.startswith("# T\n\nContents: [Setup](#setup) · [Setup](#setup-1)\n\n## Setup\n")
    assert "\n### Data\n" in md
    page = to_html(doc, tmp_path)
    assert '<nav>Contents: <a href="#setup">Setup</a> <a href="#setup-1">Setup</a></nav>' in page
    # no sections: no contents line, no <nav>, no <section>
    bare = Document("T", [Para("x"), Heading(4, "Note")])
    assert to_markdown(bare) == "# T\n\nx\n\n#### Note\n"
    page = to_html(bare, tmp_path)
    assert "<nav>" not in page and "<section" not in page and '<h4 id="note">Note</h4>' in page


def test_every_section_is_closed_before_the_next_and_at_the_end(tmp_path: Path):
    doc = Document("T")
    doc.add(Para("intro"), Heading(2, "A"), Para("a"), Heading(3, "A.1"), Heading(2, "B"))
    tags = re.findall(r"</?section[^>]*>", to_html(doc, tmp_path))
    assert tags == ['<section id="a">', "</section>", '<section id="b">', "</section>"]


def test_figures_lists_every_figure_in_order():
    a, b = Figure("a.png", "first"), Figure("b.png", "second")
    doc = Document("T", [a, Para("x"), b])
    assert doc.figures == [a, b]


# --- Markdown text ---------------------------------------------------------------------


def test_link_targets_are_normalised_paths_with_spaces_encoded():
    assert link_target("./runs//seed=0,lr=1/a b.png") == "runs/seed=0,lr=1/a%20b.png"


def test_markdown_marks_at_a_line_start_stay_text():
    # "> x" would be a quote, "1) x" a list item, a lone "-" an empty item
    assert md_text("> quote") == "\\> quote"
    assert md_text("1) one") == "1\\) one"
    assert md_text("-") == "\\-"


def test_markdown_escapes_strike_and_keeps_code_and_bold_alike():
    assert md_text("~~gone~~") == "\\~\\~gone\\~\\~"
    # code is shown as written (no backslashes inside backticks); bold text is escaped
    assert md_text("`a_b*c`") == "`a_b*c`"
    assert md_text("**<b>**") == "**\\<b>**"
    # a carriage return ends a table row as a newline does: both become spaces
    assert md_text("a\r\nb") == "a  b"


def test_markdown_headings_figures_and_code_blocks():
    doc = Document("T")
    doc.add(Heading(2, "A"), Heading(4, "B"), Figure("f.png", "the caption", alt="the alt"))
    doc.add(Code("x = 1\n"))
    md = to_markdown(doc)
    assert "\n## A\n\n#### B\n" in md
    assert "![the alt](f.png)\n\n*the caption*\n" in md
    assert md.endswith("```\nx = 1\n```\n")  # no blank line before the closing fence


# --- HTML ------------------------------------------------------------------------------


def _png(path: Path, width: int, height: int = 400) -> None:
    """The first 24 bytes of a PNG: signature, IHDR length and type, width, height."""
    header = b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR"
    path.write_bytes(header + width.to_bytes(4, "big") + height.to_bytes(4, "big"))


def test_png_width_reads_the_header_and_refuses_other_files(tmp_path: Path):
    _png(tmp_path / "a.png", 1920, 400)
    assert png_width((tmp_path / "a.png").read_bytes()) == 1920
    gif = b"GIF89a\x00\x00" + (13).to_bytes(4, "big") + b"IHDR" + (1920).to_bytes(4, "big")
    assert png_width(gif) == 0


def test_only_a_figure_wider_than_1_25_columns_may_use_the_window(tmp_path: Path):
    # the text column is 1100 px: a figure is wide above 1375 px
    for width, wide in ((1200, False), (1375, False), (1376, True)):
        _png(tmp_path / "f.png", width)
        page = to_html(Document("T", [Figure("f.png", "cap")]), tmp_path)
        assert ('<figure id="fig-1" class="wide">' in page) is wide, width


def test_html_figures_alt_and_caption(tmp_path: Path):
    _png(tmp_path / "f.png", 800)
    doc = Document("T", [Figure("f.png", "**bold** caption", alt='a "quoted" <b>')])
    page = to_html(doc, tmp_path)
    assert (
        'alt="enlarge: a &quot;quoted&quot; &lt;b&gt;" width=' in page
    )  # the attribute stays closed
    assert '<figcaption id="cap-1"><strong>bold</strong> caption <a class="shrink"' in page


def test_html_bullets_code_and_tables(tmp_path: Path):
    doc = Document("T")
    doc.add(Bullets(["**b** & c"]), Code("a < b && c"))
    doc.add(Table(["k", "v"], [["x", "**1**"]], caption="the `cap`"))
    page = to_html(doc, tmp_path)
    assert "<ul><li><strong>b</strong> &amp; c</li></ul>" in page
    assert "<pre><code>a &lt; b &amp;&amp; c</code></pre>" in page
    assert "<table>\n<caption><span>the <code>cap</code></span></caption>\n<thead>" in page
    # the first column left (the row's header), the others right-aligned (class "r"),
    # marks read in cells
    assert '<thead><tr><th scope="col">k</th><th scope="col" class="r">v</th></tr></thead>' in page
    assert '<tr><th scope="row">x</th><td class="r"><strong>1</strong></td></tr>' in page


def test_empty_code_marks_stay_text_in_html_as_in_markdown():
    assert inline("a `` b") == "a `` b" and md_text("a `` b") == "a \\`\\` b"


def test_html_numbers_do_not_break_and_tables_scroll_in_their_own_box(tmp_path: Path):
    table = Table(["lr", "final loss", "XOR"], [["1e-06", "2.14e-03 ± 1.1e-03", "100.0 ± 0.0 %"]])
    page = to_html(Document("T", [table]), tmp_path)
    style = page[page.index("<style>") : page.index("</style>")]
    assert re.search(r"td\.r, \.nw \{ white-space: nowrap; \}", style)
    assert re.search(r"div\.table \{ overflow-x: auto;", style)
    assert re.search(r'<div class="table">\n<table>.*</table>\n</div>', page, re.S)
    # numbers kept whole, in the left (setting) column too: "1e-" / "06" read as another value
    assert '<th scope="row"><span class="nw">1e-06</span></th>' in page
    assert '<td class="r"><span class="nw">2.14e-03 ± 1.1e-03</span></td>' in page
    assert '<td class="r"><span class="nw">100.0 ± 0.0 %</span></td>' in page
    setting = to_html(Document("T", [Table(["setting", "n"], [["lr=1e-06, tanh", "3"]])]), tmp_path)
    assert '<th scope="row">lr=<span class="nw">1e-06</span>, tanh</th>' in setting


def test_html_figures_enlarge_in_the_page_and_wide_ones_scroll(tmp_path: Path):
    from matplotlib.figure import Figure as MplFigure

    (tmp_path / "figures").mkdir()
    for name, inches in (("wide.png", (16.0, 3.0)), ("narrow.png", (6.0, 3.0))):
        fig = MplFigure(figsize=inches)
        fig.savefig(tmp_path / "figures" / name, dpi=120)
    doc = Document("T", [Figure("figures/wide.png", "w"), Figure("figures/narrow.png", "n")])
    page = to_html(doc, tmp_path)
    # the link enlarges the figure in the page (the page stands alone: no file beside it),
    # not a second copy of the data URI
    assert page.count('<a href="#fig-1" title="enlarge"><img src="data:') == 1
    assert page.count('<a href="#fig-2" title="enlarge"><img src="data:') == 1
    assert page.count("data:image/png") == 2
    assert '<figure id="fig-1" class="wide"><div class="scroll"><a href="#fig-1"' in page
    assert '<figure id="fig-2"><div class="scroll"><a href="#fig-2"' in page
    style = page[page.index("<style>") : page.index("</style>")]
    assert "figure div.scroll { overflow-x: auto; }" in style
    assert re.search(
        r"figure\.wide img \{ width: auto; max-width: 100%; min-width: \d+px; \}", style
    )


def test_html_header_numbers_stay_whole_and_a_word_ending_in_digits_is_left_alone(tmp_path: Path):
    # mutation testing: header cells are kept whole as body cells are; "run2e-3" is a name
    table = Table(["setting", "lr 1e-06"], [["run2e-3", "3"]])
    page = to_html(Document("T", [table]), tmp_path)
    assert '<th scope="col" class="r">lr <span class="nw">1e-06</span></th>' in page
    assert '<th scope="row">run2e-3</th>' in page and '<td class="r">3</td>' in page


def test_a_long_linked_code_block_is_folded_a_short_one_shown_whole(tmp_path: Path):
    # report21 M3: the lab's 100 + 21 "Iter:" lines, XOR's in full, linear's folded
    lines = [f"Iter: {i} | Ground truth: 1 | Predict: 0.9" for i in range(100)] + ["loss=0.1"]
    doc = Document("t")
    doc.add(Code("\n".join(lines), link="linear/predictions.txt"), Code("\n".join(lines[:21])))
    md = to_markdown(doc)
    assert "Iter: 99 |" not in md and md.count("Iter: 10 |") == 1  # the short one's
    assert "Iter: 9 | Ground truth: 1 | Predict: 0.9\n... 90 more lines ...\nloss=0.1\n```" in md
    assert "All of it: [linear/predictions.txt](linear/predictions.txt)" in md
    assert md.count("Iter: 0 |") == 2  # the short one whole, unlinked
    page = to_html(doc, tmp_path)
    assert "<details><summary>all 101 lines</summary><pre><code>Iter: 0" in page
    assert "Iter: 99 | Ground truth" in page  # the page stands alone: every line is in it
    assert page.count("<details>") == 1
