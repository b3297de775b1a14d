"""Readers and chunking: Markdown decks, PDF, PowerPoint, and files that must be skipped."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.corpus.chunking import chunk_slides, plain_text, split_text
from assistant.corpus.readers import parse_markdown_deck, read_corpus

from .conftest import DECK


def _content(slides):
    return [s for s in slides if not s.divider]


def test_shipped_deck_has_one_chunk_per_content_slide():
    slides, report = read_corpus(DECK.parent)
    headings = [line for line in DECK.read_text(encoding="utf-8").splitlines() if line.startswith("# ")]
    dividers = [s for s in slides if s.divider]
    chunks = chunk_slides(slides)
    assert len(slides) == len(headings) == 48
    assert [d.title for d in dividers] == [
        "Modeling sequential data",
        "Sequence to sequence models",
        "Distribution shift and robustness",
        "Deep Unsupervised Learning",
        "Massive models + the last guest lectures",
    ]
    assert len(chunks) == len(headings) - len(dividers) == report.slides == 43
    assert len({c.id for c in chunks}) == len(chunks)


def test_logistics_slide_holds_the_room_and_stable_id():
    chunks = chunk_slides(read_corpus(DECK.parent)[0])
    logistics = next(c for c in chunks if c.title == "Midterm 2 logistics")
    assert "Dwinelle 155" in logistics.text
    assert logistics.id == "cs182-lecture24-midterm2-review#3"
    assert logistics.section == "Lecture 24: Midterm 2 review"
    gans = next(c for c in chunks if c.title == "GANs summary")
    assert gans.section == "Deep Unsupervised Learning"


def test_image_only_slides_after_a_divider_are_reported_near_empty():
    _, report = read_corpus(DECK.parent)
    titles = {title for _, title in report.near_empty}
    assert {"Attention", "Seq2seq transformers", "RNN (LSTM) seq2seq, the basic version"} <= titles


def test_sections_and_headings_inside_slides():
    text = (
        "# Deck\nintro\n# Part A\n# One\n## sub heading\nbody one\n"
        "# Part B\n\n# Two\nbody two\n```\n# not a slide\n```\n"
    )
    slides = parse_markdown_deck(text, "d")
    content = _content(slides)
    assert [s.title for s in content] == ["Deck", "One", "Two"]
    assert [s.section for s in content] == ["Deck", "Part A", "Part B"]
    assert "## sub heading" in content[1].body
    assert "# not a slide" in content[2].body
    assert [s.number for s in slides] == [1, 2, 3, 4, 5]


def test_editing_a_slide_keeps_every_id():
    before = chunk_slides(parse_markdown_deck("# A\nx\n# B\ny\n# C\nz", "d"))
    after = chunk_slides(parse_markdown_deck("# A\nx\n# B\ny changed a lot\n# C\nz", "d"))
    assert [c.id for c in before] == [c.id for c in after]
    assert [c.digest for c in before][0::2] == [c.digest for c in after][0::2]
    assert before[1].digest != after[1].digest


def test_long_slide_is_split_but_keeps_its_slide_id():
    body = "\n".join(f"- point number {i} about transformers and attention" for i in range(200))
    chunks = chunk_slides(parse_markdown_deck(f"# Long\n{body}", "d"))
    assert len(chunks) > 1
    assert {c.slide_id for c in chunks} == {"d#1"}
    assert len({c.id for c in chunks}) == len(chunks)


def test_bad_files_are_skipped_and_reported(corpus_copy: Path, tmp_path: Path):
    (corpus_copy / "photo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (corpus_copy / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (corpus_copy / "empty.md").write_text("", encoding="utf-8")
    (corpus_copy / "fake.pdf").write_text("not a pdf", encoding="utf-8")
    (corpus_copy / "notes.docx").write_text("unsupported", encoding="utf-8")
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\nthe exam answers", encoding="utf-8")
    os.symlink(secret, corpus_copy / "link.md")
    slides, report = read_corpus(corpus_copy)
    skipped = dict(report.skipped)
    assert "binary" in skipped["photo.md"]
    assert "UTF-8" in skipped["latin1.txt"]
    assert skipped["empty.md"] == "no text"
    assert "PDF" in skipped["fake.pdf"]
    assert "unsupported" in skipped["notes.docx"]
    assert "outside" in skipped["link.md"]
    assert not any("exam answers" in s.body for s in slides)
    assert report.slides == 43


def test_huge_file_is_skipped(corpus_copy: Path, monkeypatch):
    import assistant.corpus.readers as corpus

    monkeypatch.setattr(corpus, "MAX_FILE_BYTES", 1000)
    (corpus_copy / "huge.md").write_text("# Big\n" + "x" * 5000, encoding="utf-8")
    _, report = read_corpus(corpus_copy)
    assert "limit" in dict(report.skipped)["huge.md"]


def test_pptx_reader_reads_title_body_and_notes(tmp_path: Path):
    from pptx import Presentation

    deck = Presentation()
    for title, body, notes in [
        ("Intro deck", "welcome", ""),
        ("Attention", "queries keys values", "softmax of scores"),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    folder = tmp_path / "c"
    folder.mkdir()
    deck.save(folder / "lecture.pptx")
    slides, report = read_corpus(folder)
    assert [s.title for s in slides] == ["Intro deck", "Attention"]
    assert "queries keys values" in slides[1].body and "softmax of scores" in slides[1].body
    assert slides[1].id == "lecture#2" and slides[1].deck_title == "Intro deck"


def _tiny_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        page_no, content_no = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_no} 0 R")
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_no} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_pdf_reader_makes_a_slide_per_page(tmp_path: Path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "week3.pdf").write_bytes(_tiny_pdf(["Gradient descent", "Momentum helps"]))
    slides, report = read_corpus(folder)
    assert report.skipped == []
    assert [s.number for s in slides] == [1, 2]
    assert slides[0].title == "Gradient descent" and slides[1].title == "Momentum helps"
    assert slides[0].id == "week3#1"


def test_plain_text_strips_latex_for_matching():
    assert plain_text(r"use $-\max_k \mathbf{z}_k$ as the **score**") == "use -max_k z_k as the score"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000))
def test_markdown_parser_never_loses_heading_count(text: str):
    slides = parse_markdown_deck(text, "d")
    assert all(s.number == i for i, s in enumerate(slides, start=1))
    for chunk in chunk_slides(slides):
        assert chunk.slide_id.startswith("d#")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000), st.integers(min_value=20, max_value=400))
def test_split_text_respects_limit_and_keeps_text(text: str, limit: int):
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    squash = lambda s: "".join(s.split())  # noqa: E731
    assert squash("".join(pieces)) == squash(text)
