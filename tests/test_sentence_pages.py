"""A sentence is cited on its own page: a passage that spans a page break keeps where each page
begins (`Passage.page_breaks`), so an evidence sentence or a quote from its second page says that
page, not the passage's first (generated PDFs, real chunker, Chroma and MiniLM)."""

from __future__ import annotations

from support import pdfgen

FIRST = ["Fever protocol.", "Give paracetamol 15 mg/kg by mouth every 6 hours for fever in children."]
SECOND = ["Refer any child whose fever lasts more than 5 days to the paediatric clinic the same week.",
          "Record the temperature twice a day until the fever settles."]


def test_sentences_of_a_passage_that_spans_pages_are_cited_on_their_own_page(tmp_path):
    from ragmed import RagMed
    from ragmed.ground.citations import resolve

    pdf = pdfgen.make_text_pdf(tmp_path / "fever.pdf", [FIRST, SECOND, ["Annex.", "Contact details of the clinic."]])
    rag = RagMed(collection="pages", index_dir=tmp_path / "idx")
    assert rag.ingest([pdf], progress=False).ok
    spanning = [p for p in rag.search("paracetamol fever refer child 5 days temperature", 5) if p.page_end > p.page_start]
    assert spanning, "the generated text should make one chunk across the page break"
    p = spanning[0]
    assert len(p.page_breaks) == p.page_end - p.page_start
    assert p.page_of(FIRST[1])[0] == 1 and p.page_of(SECOND[0])[0] == 2 and p.page_of(SECOND[1])[0] == 2

    answer = rag.evidence("When is a child with fever referred to the paediatric clinic?")
    refer = [e for e in answer.evidence if "5 days" in e.text]
    assert refer and refer[0].page == 2 and refer[0].page_label == "2", answer.evidence
    dose = [e for e in answer.evidence if "15 mg/kg" in e.text]
    assert all(e.page == 1 for e in dose), dose

    # an answer's citation is on the page of the sentence it quotes
    cites, _ = resolve("Refer a child whose fever lasts more than 5 days [1].", [p])
    assert cites[0].page == 2 and "5 days" in cites[0].quote, cites
    # the JSON carries the breaks (the local server path rebuilds passages from it)
    from ragmed.cli.local_server import passage_from_dict

    assert passage_from_dict(p.to_dict()).page_of(SECOND[0])[0] == 2
