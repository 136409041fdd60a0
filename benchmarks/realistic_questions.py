"""The abstention gate on questions written as staff and patients type them (issue 19).

Question set: benchmarks/data/realistic_questions.jsonl (our own text) over the 8 guideline PDFs:
- answerable: typos, lay words, 2-4 word queries, abbreviations; `evidence` is a pattern the
  answering page states (checked here against the indexed text: the pattern must occur on a page
  of `doc`, and `pages` lists them);
- near_miss: same topics, asking for a fact no document states (`absent`: patterns that would state
  it, checked here to occur nowhere in the collection);
- off_topic: questions the 8 guidelines do not touch.
Split by the first hex digit of sha1(id): 0-b dev, c-f test.

The shipped gate (ragmed/ground/gate.py DEFAULT) is fitted here on dev data: the answerable and
unanswerable questions of benchmarks/abstention.py (dev split) plus this set's dev questions.
Reported: refusal rates per kind, dev and test, with the reasons; the share of answerable questions
whose answering page is among the top 3 passages; and the gate-score shift when an unrelated
document (corpora/sample's hypertension protocol) is added to the collection (then removed).

    .venv/bin/python -m benchmarks.realistic_questions          # or: make bench-realistic
    .venv/bin/python -m benchmarks.realistic_questions --render # tables again from the recorded features
    .venv/bin/python -m benchmarks.realistic_questions --old-per-split 150  # bounded: 150 of each kind and
                                                        # split of abstention.py's sets (fit and table)

Writes benchmarks/results/realistic_questions.{json,md}.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter

from benchmarks._common import CACHE, EVAL, GOLD, GUIDELINES, RESULTS, ROOT, guideline_rag, require

from ragmed.eval.beir import split_of
from ragmed.eval.trust import answerable_questions, gold_statements, guideline_chunks, unanswerable_questions
from ragmed.ground import asking, gate

DATA = ROOT / "benchmarks" / "data" / "realistic_questions.jsonl"
UNRELATED = ROOT / "corpora" / "sample" / "demo-clinic-hypertension-protocol.pdf"
GOALS = {"answerable": 0.05, "near_miss": 0.90, "off_topic": 0.95, "shift": 0.02}


def load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify(rag, items: list[dict]) -> dict:
    """Check the set against the indexed text: evidence on the named pages, absent facts absent."""
    pages: dict[str, list[tuple[int, int, str]]] = {}
    for pdf in sorted(GUIDELINES.glob("*.pdf")):
        pages[pdf.name] = [(a, b, re.sub(r"\s+", " ", t)) for t, a, b in guideline_chunks(rag, pdf)]
    bad_answerable, bad_near = [], []
    for r in items:
        if r["kind"] == "answerable":
            hits = {p for a, b, t in pages[r["doc"]] if re.search(r["evidence"], t, re.I) for p in range(a, b + 1)}
            if not hits & set(r["pages"]):
                bad_answerable.append(r["id"])
        elif r["kind"] == "near_miss":
            if any(re.search(p, t, re.I) for p in r["absent"] for chunks in pages.values() for _, _, t in chunks):
                bad_near.append(r["id"])
    return {"answerable_evidence_not_found": bad_answerable, "near_miss_fact_found": bad_near}


def decisions(rag, questions: list[str]) -> list:
    return [rag.answerability(q) for q in questions]


def decide(rec: dict, cal) -> str:
    """The reason a recorded question gets under calibration `cal` (language and kind checks kept)."""
    if rec["language"]:
        return "language"
    if cal.score(rec["x"]) < cal.threshold:
        return "not_covered"
    return "covered" if rec["kind_ok"] else "no_answer_of_kind"


def rates(recs: list[dict], cal) -> dict:
    """Refusal rate and reasons per kind and split under `cal`."""
    out = {}
    for split in ("dev", "test"):
        for kind in ("answerable", "near_miss", "off_topic"):
            sel = [r for r in recs if r["kind"] == kind and r["split"] == split]
            reasons = Counter(decide(r, cal) for r in sel)
            refused = sum(n for k, n in reasons.items() if k != "covered")
            out[f"{kind} / {split}"] = {"questions": len(sel), "refused": round(refused / len(sel), 4) if sel else 0.0,
                                        "reasons": dict(sorted(reasons.items()))}
    return out


VECTORS = CACHE / "bench-sentence-vectors.pkl"  # sentence embeddings kept between runs (benchmark speed only)


def load_vectors() -> None:
    """Seed ground/relevance.py's per-process sentence-vector cache from earlier runs: the same text
    embedded by the same embedder gives the same vector, so only new sentences are embedded."""
    import pickle

    from ragmed.ground import relevance

    relevance._VECTORS_MAX = 10**7
    try:
        relevance._VECTORS.update(pickle.loads(VECTORS.read_bytes()))
    except (OSError, EOFError, pickle.UnpicklingError):
        pass


def save_vectors() -> None:
    import pickle

    from ragmed.ground import relevance

    VECTORS.parent.mkdir(parents=True, exist_ok=True)
    tmp = VECTORS.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(dict(relevance._VECTORS)))
    tmp.replace(VECTORS)


def measure() -> dict:
    """Everything that needs the collection: per-question features, the set checks, the shift."""
    require(GUIDELINES, GOLD, EVAL / "liveqa_medquad", EVAL / "pubmedqa")
    t0 = time.time()
    rag = guideline_rag(progress=False)
    items = load()
    checks = verify(rag, items)
    vocab = gate.vocabulary_of(rag.index.lexical_snapshot())
    timed = items[::18]  # the gate's cost, cold (before the cached sentence vectors are loaded)
    rag.answerability("what is this about")  # loads the embedder and the collection's abbreviation table
    t = time.time()
    for r in timed:
        rag.answerability(r["question"])
    per_q_ms = (time.time() - t) / len(timed) * 1000
    load_vectors()
    recs = []
    for r in items:
        d = rag.answerability(r["question"])
        # whether the asked kind (and any value the question names) is stated, whatever the score
        # (to re-decide other calibrations)
        q = d.query or r["question"]
        p = rag.retriever.search(q, rag.settings.k, mode="hybrid", dedup=rag.settings.dedup)
        terms = [t for t in asking.key_terms(q, gate.QUESTION_FILLER, vocab) if t.word not in {w.lower() for w in d.corrected}]
        kind_ok = not gate.unstated(d.asked, terms, p, q)  # written-out short forms skipped, as the gate does
        recs.append({"id": r["id"], "kind": r["kind"], "split": split_of(r["id"]), "question": r["question"],
                     "x": [d.features[f] for f in gate.FEATURES], "kind_ok": kind_ok,
                     "language": d.reason == "language", "asked": d.asked, "score": d.score})

    in_top3 = n_ans = 0  # answering page among the top 3 passages (retrieval, for context)
    for r in items:
        if r["kind"] == "answerable":
            n_ans += 1
            ps = rag.pipeline.retrieve(r["question"]).passages[:3]  # as `ask` retrieves (the gate's re-search included)
            in_top3 += any(p.source.endswith(r["doc"]) and any(p.page_start <= pg <= p.page_end for pg in r["pages"])
                           for p in ps)

    save_vectors()
    old_pos = answerable_questions(gold_statements(GOLD))
    old_neg = unanswerable_questions(EVAL)
    if OLD_PER_SPLIT:  # a bounded run: the first N of each kind and split, in a fixed (sha1) order
        import hashlib

        def first(qs):
            qs = sorted(qs, key=lambda x: hashlib.sha1(b"realistic:" + x[0].encode()).hexdigest())
            return [x for sp in ("dev", "test") for x in [y for y in qs if split_of(y[0]) == sp][:OLD_PER_SPLIT]]

        old_pos, old_neg = first(old_pos), first(old_neg)
    old_x = rag.gate_features([q for _, q in old_pos + old_neg])
    save_vectors()
    old = [{"id": i, "kind": "old_answerable" if n < len(old_pos) else "old_unanswerable", "split": split_of(i), "x": x}
           for n, ((i, _), x) in enumerate(zip(old_pos + old_neg, old_x))]

    # shift when an unrelated document joins the collection; `restore`/`keep_out=False`: an earlier
    # run's removal must not keep it out (ingest/identity.py), or nothing would be measured
    rep = rag.ingest([UNRELATED], progress=False, restore=True)
    if rep.count("added") + rep.count("unchanged") != 1:
        sys.exit(f"the unrelated document was not indexed: {[d.to_dict() for d in rep.documents]}")
    try:
        after, retrieved_new = [], []
        for r in items:
            q = rag.answerability(r["question"])
            ps = rag.retriever.search(q.query or r["question"], rag.settings.k, mode="hybrid", dedup=rag.settings.dedup)
            after.append([q.features[f] for f in gate.FEATURES])
            retrieved_new.append(any(p.source.endswith(UNRELATED.name) for p in ps))
    finally:
        rag.remove([UNRELATED], keep_out=False)
    assert rep.ok
    shift = shift_of([r["x"] for r in recs], after, retrieved_new, items, gate.DEFAULT)
    shift.update(features_after=after, retrieved_added=retrieved_new)
    return {"questions": dict(Counter(r["kind"] for r in items)), "set_checks": checks, "records": recs,
            "old_records": old, "answering_page_in_top3": round(in_top3 / n_ans, 4), "score_shift": shift,
            "gate_ms_per_question": round(per_q_ms, 1), "seconds": round(time.time() - t0, 1),
            "old_per_split": OLD_PER_SPLIT}


def shift_of(before: list, after: list, retrieved_new: list, items: list[dict], cal) -> dict:
    """Gate-score shifts under calibration `cal` from the features before and after the unrelated
    document was added (so `--render` can re-score them with a newly fitted gate)."""
    moved = [abs(cal.score(a) - cal.score(b)) for a, b in zip(after, before)]
    shifts = sorted(moved)
    return {"documents_added": UNRELATED.name, "questions": len(shifts), "max": round(shifts[-1], 4),
             "p95": round(shifts[int(0.95 * (len(shifts) - 1))], 4), "mean": round(sum(shifts) / len(shifts), 5),
             "over_0.02": sum(s >= 0.02 for s in shifts),
             # the added document is not unrelated to a question when its passages are retrieved for it
             "retrieving_the_added_document": sum(retrieved_new),
             "over_0.02_not_retrieving_it": sum(m >= 0.02 and not n for m, n in zip(moved, retrieved_new)),
             "moved": [(r["id"], r["question"], round(m, 4), n) for r, m, n in zip(items, moved, retrieved_new) if m >= 0.02]}



def fit_default(m: dict):
    """DEFAULT's fit: benchmarks/abstention.py's sets plus this set, dev split only (near-misses the
    kind check already refuses are left out: the score need not learn them)."""
    pos = [r["x"] for r in m["old_records"] if r["split"] == "dev" and r["kind"] == "old_answerable"]
    neg = [r["x"] for r in m["old_records"] if r["split"] == "dev" and r["kind"] == "old_unanswerable"]
    for r in m["records"]:
        if r["split"] != "dev" or r["language"]:
            continue
        if r["kind"] == "answerable":
            pos.append(r["x"])
        elif r["kind"] == "off_topic" or r["kind_ok"]:
            neg.append(r["x"])
    return gate.fit(pos, neg), len(pos), len(neg)


def render(m: dict) -> dict:
    fitted, n_pos, n_neg = fit_default(m)
    same = fitted.weights == gate.DEFAULT.weights and fitted.threshold == gate.DEFAULT.threshold
    old_rows = {}
    for name, c in (("fitted on dev", fitted), ("shipped default", gate.DEFAULT)):
        for split in ("dev", "test"):
            sel = [r for r in m["old_records"] if r["split"] == split]
            mm = gate.metrics([c.score(r["x"]) for r in sel if r["kind"] == "old_answerable"],
                              [c.score(r["x"]) for r in sel if r["kind"] == "old_unanswerable"], c.threshold)
            old_rows[f"{name} / {split}"] = mm.to_dict()
    result = {
        "benchmark": "realistic_questions",
        "command": ".venv/bin/python -m benchmarks.realistic_questions" + (
            f" --old-per-split {m['old_per_split']}" if m.get("old_per_split") else ""),
        "collection": "the 8 PDFs of ../shared/eval/guidelines",
        "features": list(gate.FEATURES),
        "shipped_default": gate.DEFAULT.to_dict(),
        "fitted_on_dev": fitted.to_dict(),
        "shipped_default_is_the_dev_fit": same,
        "fitting_data": {"answerable": n_pos, "unanswerable": n_neg},
        "refusals_shipped_default": rates(m["records"], gate.DEFAULT),
        "refusals_fitted_on_dev": rates(m["records"], fitted),
        "abstention_sets": old_rows,
        "goals": GOALS,
        "refused_answerable_test": [(r["id"], r["question"], decide(r, gate.DEFAULT)) for r in m["records"]
                                    if r["kind"] == "answerable" and r["split"] == "test" and decide(r, gate.DEFAULT) != "covered"],
        "answered_near_miss_test": [(r["id"], r["question"]) for r in m["records"]
                                    if r["kind"] == "near_miss" and r["split"] == "test" and decide(r, gate.DEFAULT) == "covered"],
        **m,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "realistic_questions.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    checks, shift = m["set_checks"], m["score_shift"]
    if "features_after" in shift:  # re-scored with the shipped gate
        shift = {**shift_of([r["x"] for r in m["records"]], shift["features_after"], shift["retrieved_added"],
                            m["records"], gate.DEFAULT),
                 "features_after": shift["features_after"], "retrieved_added": shift["retrieved_added"]}
        m["score_shift"] = shift
    md = [
        "# Abstention gate on realistic questions (8 guideline PDFs)", "",
        f"Command: `{result['command']}` (`--render` redraws the tables from the recorded features). "
        f"Questions: {m['questions']} (benchmarks/data/realistic_questions.jsonl; dev = sha1(id) 0-b, test = c-f). "
        f"Set checks against the indexed text: {len(checks['answerable_evidence_not_found'])} answerable "
        f"questions whose evidence was not found on their page, {len(checks['near_miss_fact_found'])} near-miss "
        "questions whose fact was found.", "",
        f"Gate: the shipped DEFAULT ({'the' if same else 'NOT the'} fit on dev data: {n_pos} answerable, {n_neg} "
        "unanswerable questions from this set and benchmarks/abstention.py's sets). "
        "Goals: answerable refused <= 5%, near-miss refused >= 90%, off-topic refused >= 95%.", "",
        "| kind / split | questions | refused | reasons |", "|---|---:|---:|---|",
    ]
    for k, v in result["refusals_shipped_default"].items():
        md.append(f"| {k} | {v['questions']} | {v['refused']:.1%} | {v['reasons']} |")
    md += ["", f"Answering page among the top 3 passages: {m['answering_page_in_top3']:.1%} of answerable questions.",
           "", f"Score shift when {shift['documents_added']} is added to the collection ({shift['questions']} questions): "
           f"max {shift['max']:.4f}, p95 {shift['p95']:.4f}, mean {shift['mean']:.5f}; "
           f"{shift['over_0.02']} questions moved by 0.02 or more (goal: none); the added document's passages were "
           f"retrieved for {shift.get('retrieving_the_added_document', '?')} questions (for those it is not unrelated), "
           f"and {shift.get('over_0.02_not_retrieving_it', '?')} of the questions it was not retrieved for moved by 0.02 or more.",
           "", "benchmarks/abstention.py's sets (answerable from CDC opioid gold statements; unanswerable "
           "MedQuAD/PubMedQA off-topic), scored by this gate:", "",
           "| gate / split | answerable | unanswerable | unanswerable abstained | answerable abstained |",
           "|---|---:|---:|---:|---:|"]
    for name, mm in old_rows.items():
        md.append(f"| {name} | {mm['answerable']} | {mm['unanswerable']} | {mm['abstained_unanswerable']:.1%} | "
                  f"{mm['abstained_answerable']:.1%} |")
    md += ["", f"The gate costs {m['gate_ms_per_question']:.0f} ms per question (retrieval included, 20 questions timed "
           "before the sentence vectors cached by earlier runs are loaded; 2 vCPUs shared with other jobs)."]
    (RESULTS / "realistic_questions.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    print("fitted:", json.dumps(fitted.to_dict()))
    return result


OLD_PER_SPLIT = 0  # `--old-per-split N`: only N questions of each kind and split of abstention.py's sets


def main() -> int:
    import argparse

    global OLD_PER_SPLIT
    ap = argparse.ArgumentParser(description="The abstention gate on realistic questions over the 8 guideline "
                                             "PDFs (writes benchmarks/results/realistic_questions.{json,md}).")
    ap.add_argument("--old-per-split", type=int, default=0, metavar="N",
                    help="only N questions of each kind and split of benchmarks/abstention.py's sets (bounded run)")
    ap.add_argument("--render", action="store_true", help="redraw the tables from the recorded features only")
    args = ap.parse_args()
    OLD_PER_SPLIT = args.old_per_split
    if args.render:
        m = json.loads((RESULTS / "realistic_questions.json").read_text())
        m = {k: m.get(k) for k in ("questions", "set_checks", "records", "old_records", "answering_page_in_top3",
                                   "score_shift", "gate_ms_per_question", "seconds", "old_per_split")}
    else:
        m = measure()
    render(m)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
