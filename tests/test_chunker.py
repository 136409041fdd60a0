import re

from support import pdfgen
import pytest

from ragmed.ingest.chunker import chunk_document
from ragmed.ingest.extract import extract


@pytest.fixture(scope="module")
def guideline(tmp_path_factory):
    path = tmp_path_factory.mktemp("g") / "guideline.pdf"
    facts = pdfgen.make_guideline_pdf(path)
    return extract(path), facts


def test_pages_labels_and_running_lines(guideline):
    doc, facts = guideline
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5]
    assert [p.label for p in doc.pages] == facts["page_labels"]
    assert facts["header"] not in doc.text
    assert not re.search(r"Page \d of 5", doc.text)
    assert "treatment" in pdfgen.norm(doc.text) and "treat- ment" not in pdfgen.norm(doc.text)


def test_outline_gives_section_paths(guideline, embedder):
    doc, facts = guideline
    assert {h.title for h in doc.headings} >= set(facts["headings"])
    assert all(h.source == "outline" for h in doc.headings)
    chunks, _ = chunk_document(doc, embedder, 200, "doc")
    sentence, page = facts["facts"]["fever_definition"]
    holder = [c for c in chunks if pdfgen.norm(sentence) in pdfgen.norm(c.text)]
    assert holder and holder[0].page_start <= page <= holder[0].page_end
    vital = [c for c in chunks if "2.1 Vital signs" in c.section]
    assert vital and all(c.section[0] == "2 Assessment" for c in vital)


def test_detected_headings_without_outline(tmp_path, embedder):
    facts = pdfgen.make_guideline_pdf(tmp_path / "n.pdf", outline=False)
    doc = extract(tmp_path / "n.pdf")
    assert all(h.source == "detected" for h in doc.headings)
    assert {h.title for h in doc.headings} >= set(facts["headings"])
    chunks, _ = chunk_document(doc, embedder, 200, "doc")
    assert any(c.section == ("2 Assessment", "2.1 Vital signs") for c in chunks)


@pytest.mark.parametrize("budget", [48, 120, 200])
def test_chunks_fit_the_embedder_and_keep_provenance(guideline, embedder, budget):
    doc, facts = guideline
    chunks, _ = chunk_document(doc, embedder, budget, "doc")
    assert chunks
    for c in chunks:
        # exact count of what the embedder will read, header included, within the budget
        assert embedder.count_tokens([c.embed_text])[0] <= budget
        assert c.n_tokens <= budget
        # a table row group repeats its header row above the rows (ingest/tables.py)
        assert c.text in (doc.text[c.start:c.end], "Drug | Dose | Interval\n" + doc.text[c.start:c.end])
        assert 1 <= c.page_start <= c.page_end <= 5
        assert c.page_labels == tuple(facts["page_labels"][c.page_start - 1 : c.page_end])
    assert len({c.id for c in chunks}) == len(chunks)
    # chunks cover the text in order without overlap
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))


def test_chunks_end_on_sentence_boundaries_and_rows_stay_whole(guideline, embedder):
    doc, facts = guideline
    chunks, forced = chunk_document(doc, embedder, 100, "doc")
    assert forced == 0
    for c in chunks:
        # a chunk ends where a sentence ends, or at the end of a line (heading, list item, row)
        ends_sentence = re.search(r"[.!?][\"')\]]*$", c.text)
        ends_line = c.end == len(doc.text) or doc.text[c.end] == "\n"
        assert ends_sentence or ends_line, c.text[-80:]
    rows = [" ".join(r) for r in facts["table_rows"]]
    texts = [pdfgen.norm(c.text.replace(" | ", " ")) for c in chunks]  # cells are joined by " | "
    for row in rows:
        assert any(row in t for t in texts), f"table row cut in half: {row}"
    for item in facts["bullets"][0]:
        assert any(pdfgen.norm(item) in t for t in texts), f"list item cut in half: {item}"


def test_chunk_ids_are_stable(guideline, embedder):
    doc, _ = guideline
    a, _ = chunk_document(doc, embedder, 120, "doc")
    b, _ = chunk_document(doc, embedder, 120, "doc")
    assert [c.id for c in a] == [c.id for c in b]
    c, _ = chunk_document(doc, embedder, 120, "other-doc")
    assert not set(x.id for x in a) & set(x.id for x in c)


def test_overlong_sentence_is_split_and_counted(tmp_path, embedder):
    path = tmp_path / "long.txt"
    path.write_text("Intro line.\n" + " ".join(f"word{i}" for i in range(600)) + ".\n")
    doc = extract(path)
    chunks, forced = chunk_document(doc, embedder, 64, "d")
    assert forced == 1
    assert all(embedder.count_tokens([c.embed_text])[0] <= 64 for c in chunks)
    assert "word599" in chunks[-1].text
