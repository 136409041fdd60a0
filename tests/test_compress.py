"""Extractive prompt compression (prompt/compress.py) on real text: the bundled sample protocol, a
real guideline PDF (../shared/eval; skipped when absent), the real MiniLM embedder and the real
SmolLM2 tokenizer and model."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from click.testing import CliRunner

from ragmed import RagMed, SearchFilter
from ragmed.pipeline import EVIDENCE_PASSAGES
from ragmed.cli import cli
from ragmed.config import DEFAULT_COMPRESS_TOKENS, Settings
from ragmed.errors import ConfigError
from ragmed.ground.relevance import CONTENT, passage_sentences, scores
from ragmed.prompt.compress import (
    GAP,
    NUMBER_BONUS,
    asks_quantity,
    compress,
    prompt_text,
    ranked,
)
from ragmed.types import Passage

Q = "How often are stable patients seen for follow-up?"
ANSWER = "6 months"  # the sample protocol's answer to Q
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_END = re.compile(r"[.!?:;][\"'\u201d\u2019)\]]*$")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _segments(p: Passage) -> list[str]:
    """The runs of consecutive kept sentences of a compressed passage."""
    return p.text.split(GAP.strip())


def check_extract(compressed: list[Passage], sources: list[Passage]) -> int:
    """Each compressed passage keeps its source's provenance and rank order, and its text is made of
    whole sentences quoted verbatim from its source, every number intact. Returns the sentences' count."""
    by_id = {p.id: p for p in sources}
    assert [p.rank for p in compressed] == sorted(p.rank for p in compressed)
    runs = 0
    for p in compressed:
        src = by_id[p.id]
        for name in ("source", "file_sha256", "page_start", "page_end", "page_labels", "section", "rank", "doc_id"):
            assert getattr(p, name) == getattr(src, name), name
        assert p.context_before == p.context_after == ""
        body = _flat(src.body)
        for seg in _segments(p):
            seg = seg.strip()
            assert seg, p.text
            at = body.find(seg)
            assert at >= 0, f"not verbatim in the source: {seg!r}"
            # whole sentences: starts at the body's start or after a sentence end, ends at one
            assert at == 0 or _END.search(body[:at].rstrip()), f"cut at the start: {body[max(0, at - 40):at]!r}|{seg[:40]!r}"
            assert at + len(seg) == len(body) or _END.search(seg), f"cut at the end: {seg[-40:]!r}"
            # every number of the kept text is one of the source's numbers, whole
            assert set(_NUMBER.findall(seg)) <= set(_NUMBER.findall(_flat(src.text))), seg
            runs += 1
    return runs


@pytest.fixture(scope="module")
def demo(demo_rag):
    passages = demo_rag.search(Q, k=5)
    assert len(passages) == 5
    return demo_rag, passages


def _tokens(rag: RagMed, passages: list[Passage]) -> int:
    return sum(rag.generator.count_tokens(prompt_text(p)) for p in passages)


def test_compression_keeps_whole_cited_sentences_within_the_budget(demo):
    rag, passages = demo
    before = _tokens(rag, passages)
    kept = []
    for budget in (40, 90, 160):
        c = rag.compress(Q, passages, budget)
        assert c.compressed and c.budget == budget and c.tokens_before == before > budget
        assert c.tokens_after == _tokens(rag, c.passages) <= budget
        assert 0 < c.kept < c.sentences and c.passages_before == 5
        assert c.passages_dropped == 5 - len(c.passages)
        check_extract(c.passages, passages)
        kept.append(c.kept)
    assert kept == sorted(kept) and kept[0] < kept[-1]
    # the answer survives even the tightest budget, in the passage retrieval ranked for it
    tight = rag.compress(Q, passages, 40)
    holder = next(p for p in tight.passages if ANSWER in p.text)
    assert ANSWER in next(p for p in passages if p.id == holder.id).text


def test_the_best_sentence_is_kept_even_over_the_budget(demo):
    rag, passages = demo
    c = rag.compress(Q, passages, 1)
    assert c.compressed and c.kept == 1 and len(c.passages) == 1 and c.passages_dropped == 4
    assert c.tokens_after > 1 and GAP.strip() not in c.passages[0].text
    assert ANSWER in c.passages[0].text
    check_extract(c.passages, passages)


def test_budget_zero_or_roomy_leaves_the_passages_unchanged_without_embedding(demo):
    rag, passages = demo
    before = _tokens(rag, passages)
    for budget in (0, before, before + 500):
        # embedder=None: any attempt to embed would fail
        c = compress(Q, passages, None, rag.generator.count_tokens, budget)
        assert not c.compressed and c.passages == passages and c.passages is not passages
        assert c.tokens_before == c.tokens_after == before and c.kept == c.sentences == 0


def test_duplicates_and_boilerplate_are_dropped_and_counted(demo):
    rag, passages = demo
    best = rag.compress(Q, passages, 1).passages[0]
    n_best = next(i for i, p in enumerate(passages) if p.id == best.id)
    # a lower-ranked passage that repeats the answer sentence and carries page furniture and links
    noisy = (f"Page 3 of 12\n{best.text.upper()}\nhttps://doi.org/10.1000/xyz-123\n- 4 -\nTable 2.\n"
             f"{passages[4].text}")
    docs = [*passages[:4], replace(passages[4], text=noisy)]
    if n_best == 4:
        pytest.fail("retrieval ranked the answer last; this test needs it above the noisy passage")
    c = rag.compress(Q, docs, 120)
    assert c.compressed and c.duplicates >= 1 and c.boilerplate >= 4
    text = " ".join(p.text for p in c.passages)
    assert text.lower().count(best.text.lower()) == 1  # the copy of the higher-ranked passage only
    assert best.text in next(p for p in c.passages if p.id == best.id).text
    for junk in ("Page 3 of 12", "doi.org", "- 4 -", "Table 2."):
        assert junk not in text
    plain = rag.compress(Q, passages, 120)
    assert plain.duplicates < c.duplicates and plain.boilerplate < c.boilerplate


def test_quantity_questions_favour_sentences_with_numbers(demo):
    rag, passages = demo
    content = [s for s in passage_sentences(passages) if s.kind == CONTENT]
    with_number = {s.i + 1000 * s.n for s in content if re.search(r"\d", s.text)}
    assert 0 < len(with_number) < len(content)
    for q, bonus in ((Q, NUMBER_BONUS), ("Who sees stable patients for follow-up?", 0.0)):
        base = dict(zip((s.i + 1000 * s.n for s in content), scores(q, content, passages, rag.embedder)))
        got = ranked(q, content, passages, rag.embedder)
        assert [x for x, _ in got] == sorted((x for x, _ in got), reverse=True)
        for score, s in got:
            key = s.i + 1000 * s.n
            assert score == pytest.approx(base[key] + (bonus if key in with_number else 0.0))
    for q in (Q, "What dose of amlodipine is used?", "How long is TB treatment?", "Target BP in mmHg?",
              "How many tablets per day?"):
        assert asks_quantity(q), q
    for q in ("Who should be referred urgently?", "What are the symptoms of TB disease?"):
        assert not asks_quantity(q), q


def test_compress_tokens_setting_is_validated(monkeypatch):
    monkeypatch.setenv("RAGMED_COMPRESS_TOKENS", "300")
    assert Settings.from_env().compress_tokens == 300
    assert Settings().compress_tokens == DEFAULT_COMPRESS_TOKENS == 200  # chosen by benchmarks/ttft.py
    monkeypatch.setenv("RAGMED_COMPRESS_TOKENS", "0")
    assert Settings.from_env().compress_tokens == 0  # off
    monkeypatch.setenv("RAGMED_COMPRESS_TOKENS", "-5")
    with pytest.raises(ConfigError, match="compress_tokens"):
        Settings.from_env()


def test_ask_with_compression_cites_the_answer_with_a_shorter_prompt(demo_rag):
    plain = RagMed(collection="demo", index_dir=demo_rag.index.index_dir, max_tokens=96, compress_tokens=0).ask(Q)
    assert plain.compression is None and plain.to_dict()["compression"] is None
    rag = RagMed(collection="demo", index_dir=demo_rag.index.index_dir, max_tokens=96, compress_tokens=60)
    a = rag.ask(Q)
    c = a.compression
    assert c is not None and c.compressed and c.tokens_after <= 60 < c.tokens_before
    given = {p.id for p in c.passages}  # citations and verification ran on what the model saw,
    assert [p for p in a.passages if p.id in given] == c.passages  # each given passage in its retrieved place
    # [n] numbered as retrieved (evidence lines too): the model's top k first, then the rest of the evidence pool
    assert c.passages_before == rag.settings.k and len(a.passages) == max(rag.settings.k, EVIDENCE_PASSAGES)
    assert a.usage.prompt_tokens < plain.usage.prompt_tokens
    assert a.citations, a.answer
    cited = {cit.passage_id: cit for cit in a.citations}
    holder = next(p for p in c.passages if ANSWER in p.text)
    assert holder.id in cited
    assert cited[holder.id].page == holder.page and cited[holder.id].source == holder.source
    check_extract(c.passages, demo_rag.search(Q, k=3))
    d = a.to_dict()
    assert d["compression"]["tokens_after"] == c.tokens_after and d["compression"]["passages_after"] == len(c.passages)
    assert "passages" not in d["compression"] and "compress_s" in d["timings"]


def test_cli_ask_compress_tokens(demo_rag):
    args = ["ask", Q, "--collection", "demo", "--index-dir", str(demo_rag.index.index_dir), "--max-tokens", "64",
            "--compress-tokens", "60"]
    res = CliRunner().invoke(cli, args + ["--no-stream"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("Prompt compressed: "))
    before, after = (int(x) for x in re.match(r"Prompt compressed: (\d+) \u2192 (\d+) passage tokens", line).groups())
    assert after <= 60 < before
    res = CliRunner().invoke(cli, args + ["--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["compression"]["compressed"] is True
    res = CliRunner().invoke(cli, args[:-1] + ["-3"])
    assert res.exit_code == 1 and "compress_tokens" in res.output
    assert "--compress-tokens" in CliRunner().invoke(cli, ["ask", "--help"]).output


def test_real_guideline_passages(guideline_index):
    """CDC 2022 opioid guideline (../shared/eval): wrapped PDF lines, bullets, "≥50 MME/day"."""
    rag, _ = guideline_index
    q = "At what daily dosage in MME should clinicians reassess benefits and risks?"
    passages = rag.search(q, k=4, filter=SearchFilter(documents=("cdc-2022-opioid",)))
    assert len(passages) == 4 and all("opioid" in p.source for p in passages)
    before = _tokens(rag, passages)
    c = rag.compress(q, passages, 150)
    assert c.compressed and c.tokens_after <= 150 < before and c.kept < c.sentences
    assert check_extract(c.passages, passages) >= 2
    assert any("\u226550 MME/day" in p.text for p in c.passages), [p.text for p in c.passages]
