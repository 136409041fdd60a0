"""The 8 real CDC/NIH/WHO guideline PDFs of ../shared/eval (skipped with a reason when absent)."""

import re
from pathlib import Path

import pytest

from conftest import GUIDELINES, need_eval

OPIOID = "cdc-2022-opioid-prescribing-guideline.pdf"


@pytest.fixture(scope="module")
def guideline_index(tmp_path_factory):
    need_eval("guidelines")
    from ragmed import RagMed

    rag = RagMed(collection="guidelines", index_dir=tmp_path_factory.mktemp("gidx"))
    report = rag.ingest(sorted(GUIDELINES.glob("*.pdf")))
    return rag, report


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
    base = need_eval("guideline_gold_text/cdc-2022-opioid")
    gold = []
    for f in sorted(base.glob("*-extraction.txt")):
        lines = f.read_text(encoding="utf-8").split("\n")
        if f.name.startswith("box3"):
            continue
        for i, line in enumerate(lines[:-1]):
            m = re.match(r"^\[(\S+) \| p(\d+) \| (.*)\]$", line)
            if m:
                gold.append((m.group(1), int(m.group(2)), lines[i + 1]))
    # Box 3: the 16 regions in file order; their pages are in coverage.tsv
    pages = {}
    for row in (base / "coverage.tsv").read_text(encoding="utf-8").splitlines():
        parts = row.split("\t")
        if len(parts) >= 3 and parts[0].startswith("B3-"):
            pages[parts[0]] = int(parts[2].lstrip("p"))
    box = (base / "box3-extraction.txt").read_text(encoding="utf-8").split("\n")
    body = box[box.index("") + 1 :] if "" in box else []
    regions = [re.sub(r"^\d+\.\s+", "", ln).strip() for ln in body if ln.strip()]
    if len(regions) == 16 and len(pages) == 16:
        gold += [(f"B3-{i:02d}", pages[f"B3-{i:02d}"], text) for i, text in enumerate(regions, 1)]
    return gold


def _alnum(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def test_page_attribution_cdc_opioid(guideline_index):
    rag, _ = guideline_index
    gold = _gold_statements()
    assert len(gold) >= 702
    col = rag.index.collection()
    got = col.get(where={"source": str(GUIDELINES / OPIOID)}, include=["documents", "metadatas"])
    chunks = [(_alnum(d), m["page_start"], m["page_end"]) for d, m in zip(got["documents"], got["metadatas"])]
    found = [
        gid for gid, page, text in gold
        if any(_alnum(text) in body and a <= page <= b for body, a, b in chunks)
    ]
    share = len(found) / len(gold)
    print(f"page attribution: {len(found)}/{len(gold)} = {share:.1%}")
    assert share >= 0.97
