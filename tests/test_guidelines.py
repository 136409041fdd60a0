"""The 8 real CDC/NIH/WHO guideline PDFs of ../shared/eval (skipped with a reason when absent)."""

from pathlib import Path

from conftest import GUIDELINES, need_eval
from ragmed.eval.trust import alnum

OPIOID = "cdc-2022-opioid-prescribing-guideline.pdf"


def test_all_eight_guidelines_ingest(guideline_index):
    rag, report = guideline_index
    assert report.ok, [d.to_dict() for d in report.failed]
    pdfs = sorted(p.name for p in GUIDELINES.glob("*.pdf"))
    assert len(pdfs) == 8
    assert sorted(Path(d.path).name for d in report.documents) == pdfs
    assert sum(d.pages for d in report.documents) == 904
    assert all(d.chunks > 0 for d in report.documents)
    opioid = next(d for d in report.documents if d.path.endswith(OPIOID))
    assert opioid.pages == 100


def test_search_finds_a_known_recommendation_with_printed_page_label(guideline_index):
    rag, _ = guideline_index
    hits = rag.search("naloxone co-prescribing to reduce overdose risk", k=5)
    assert any(h.source.endswith(OPIOID) for h in hits)
    labels = {h.page_label for h in hits}
    assert all(labels)


def _gold_statements():
    from ragmed.eval.trust import gold_statements

    return gold_statements(need_eval("guideline_gold_text/cdc-2022-opioid"))


def test_page_attribution_cdc_opioid(guideline_index):
    rag, _ = guideline_index
    gold = _gold_statements()
    assert len(gold) >= 702
    col = rag.index.chroma()
    got = col.get(where={"source": str((GUIDELINES / OPIOID).resolve())}, include=["documents", "metadatas"])
    chunks = [(alnum(d), m["page_start"], m["page_end"]) for d, m in zip(got["documents"], got["metadatas"])]
    found = [
        gid for gid, page, text in gold
        if any(alnum(text) in body and a <= page <= b for body, a, b in chunks)
    ]
    share = len(found) / len(gold)
    print(f"page attribution: {len(found)}/{len(gold)} = {share:.1%}")
    assert share >= 0.97


def test_citation_checker_meets_its_goal_on_gold_pairs(guideline_index):
    """The checker benchmark on its test split: precision >= 0.95, recall >= 0.90."""
    from ragmed.eval.beir import split_of
    from ragmed.eval.trust import check_pairs, checker_pairs, checker_scores, gold_sentences, guideline_chunks

    rag, _ = guideline_index
    pairs, skipped = checker_pairs(gold_sentences(_gold_statements()), guideline_chunks(rag, GUIDELINES / OPIOID),
                                   rag.embedder)
    assert skipped < 20
    test = [p for p in pairs if split_of(p.id.split("#")[0]) == "test"]
    assert len(test) > 500
    s = checker_scores(check_pairs(rag.checker, test), test, lambda v: v.supported)
    print("checker on test pairs:", s)
    assert s["precision"] >= 0.95 and s["recall"] >= 0.90


def test_abstention_gate_meets_its_goal(guideline_index):
    """The default gate on the test split: >= 95% of unanswerable questions abstained, <= 5% of
    answerable ones."""
    from conftest import EVAL
    from ragmed.eval.beir import split_of
    from ragmed.eval.trust import answerable_questions, unanswerable_questions
    from ragmed.ground import gate

    need_eval("liveqa_medquad")
    need_eval("pubmedqa")
    rag, _ = guideline_index
    pos = [q for i, q in answerable_questions(_gold_statements()) if split_of(i) == "test"]
    neg = [q for i, q in unanswerable_questions(EVAL) if split_of(i) == "test"]
    cal = rag.calibration
    assert cal.source == "default"
    m = gate.metrics([cal.score(x) for x in rag.gate_features(pos)], [cal.score(x) for x in rag.gate_features(neg)],
                     cal.threshold)
    print("abstention on test questions:", m)
    assert m.answerable > 100 and m.unanswerable > 150
    assert m.abstained_unanswerable >= 0.95 and m.abstained_answerable <= 0.05


def test_no_guideline_sentence_is_mistaken_for_an_injection(guideline_index):
    from ragmed.prompt.safety import neutralise

    rag, _ = guideline_index
    texts = rag.index.chroma().get(include=["documents"])["documents"]
    flagged = [r for t in texts for r in neutralise(t)[1]]
    assert len(texts) > 4000 and flagged == []
