"""End to end with the bundled model: what a clinician is shown for questions the documents answer.

The answerable questions of benchmarks/data/realistic_questions.jsonl (written as staff and patients
type: typos, lay words, short queries, abbreviations; each with the document and page that answers
it) are asked of the 8 guideline PDFs with `RagMed.ask` and the bundled SmolLM2-135M model. For each
question it records:

- **evidence shown**: the user is shown supported evidence for the answer: a sentence from the
  answering page (the question's document and page) among the evidence sentences shown first, or
  a supported (✓) model sentence citing a passage from that page;
- **evidence states the answer**: stricter, a shown evidence sentence from the answering page matches
  the question's `evidence` pattern (the words that state the answer); also for the first sentence;
- **answer page retrieved**: a passage from the answering page is among those retrieved (the
  evidence can only come from them);
- **refused**: the gate refused (nothing from the model, evidence not shown);
- **withheld**: no sentence of the model's answer was supported (the evidence sentences are shown);
- the share of shown model sentences that are ✓ (by construction every shown sentence is checked;
  the figure counts it), and the share of all model sentences that were supported.

Dev split (sha1(id) 0-b) and test split (c-f) reported separately; nothing is tuned here.

    .venv/bin/python -m benchmarks.end_to_end_trust [--limit N]    # or: make bench-e2e

Writes benchmarks/results/end_to_end_trust.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from benchmarks._common import RESULTS, ROOT, cpu_name, guideline_rag

from ragmed.eval.beir import split_of

QUESTIONS = ROOT / "benchmarks" / "data" / "realistic_questions.jsonl"


def on_page(source: str, page: int, q: dict) -> bool:
    return Path(source).name == q["doc"] and page in q["pages"]


def record(rag, q: dict) -> dict:
    t0 = time.perf_counter()
    a = rag.ask(q["question"])
    by_n = {n: p for n, p in enumerate(a.passages, 1)}
    page_retrieved = any(on_page(p.source, pg, q) for p in a.passages for pg in range(p.page_start, p.page_end + 1))
    ev_ok = any(on_page(e.source, e.page, q) for e in a.evidence)
    states = re.compile(q["evidence"], re.I)  # the question's answer pattern (checked against its page)
    ev_states = any(on_page(e.source, e.page, q) and states.search(" ".join(e.text.split())) for e in a.evidence)
    first_states = bool(a.evidence) and on_page(a.evidence[0].source, a.evidence[0].page, q) and bool(
        states.search(" ".join(a.evidence[0].text.split())))
    shown = [c for c in a.claims if c.status == "supported"]
    claim_ok = any(on_page(by_n[n].source, by_n[n].page, q) for c in shown for n in c.cites if n in by_n)
    stage = a.abstention.stage if a.abstention else ""
    return {"id": q["id"], "question": q["question"], "refused": stage == "gate", "withheld": stage == "verification",
            "model_found_nothing": stage == "model", "evidence_on_answer_page": ev_ok,
            "supported_sentence_on_answer_page": claim_ok,
            "evidence_states_answer": ev_states and stage != "gate", "first_evidence_states_answer": first_states and stage != "gate",
            "shown_supported_evidence": (ev_ok or claim_ok) and stage != "gate", "answer_page_retrieved": page_retrieved,
            "model_sentences": len(a.claims), "model_sentences_supported": len(shown),
            "shown_model_sentences": len(shown), "seconds": round(time.perf_counter() - t0, 2)}


def summary(recs: list[dict]) -> dict:
    n = len(recs) or 1
    sent = sum(r["model_sentences"] for r in recs)
    shown = sum(r["shown_model_sentences"] for r in recs)
    return {
        "questions": len(recs),
        "shown_supported_evidence": round(sum(r["shown_supported_evidence"] for r in recs) / n, 4),
        "evidence_states_answer": round(sum(r.get("evidence_states_answer", False) for r in recs) / n, 4),
        "first_evidence_states_answer": round(sum(r.get("first_evidence_states_answer", False) for r in recs) / n, 4),
        "answer_page_retrieved": round(sum(r.get("answer_page_retrieved", False) for r in recs) / n, 4),
        "refused": round(sum(r["refused"] for r in recs) / n, 4),
        "withheld": round(sum(r["withheld"] for r in recs) / n, 4),
        "model_found_nothing": round(sum(r["model_found_nothing"] for r in recs) / n, 4),
        "answered_with_a_supported_sentence": round(sum(r["model_sentences_supported"] > 0 for r in recs) / n, 4),
        "model_sentences": sent,
        "model_sentences_supported_share": round(sum(r["model_sentences_supported"] for r in recs) / sent, 4) if sent else None,
        "shown_model_sentences": shown,
        "shown_model_sentences_supported_share": 1.0 if shown else None,
        "median_seconds": sorted(r["seconds"] for r in recs)[len(recs) // 2] if recs else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="questions per split (default: all)")
    args = ap.parse_args()
    qs = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [q for q in qs if q["kind"] == "answerable"]
    rag = guideline_rag(progress=False)
    rag.settings = rag.settings.with_(max_tokens=96)
    cmd = ".venv/bin/python -m benchmarks.end_to_end_trust" + (f" --limit {args.limit}" if args.limit else "")
    out: dict = {"benchmark": "end_to_end_trust", "command": cmd,
                 "model": "smollm2-135m (bundled)", "cpu": cpu_name(), "collection": "the 8 guideline PDFs",
                 "max_tokens": 96, "splits": {}}
    records = {}
    for split in ("dev", "test"):
        sel = [q for q in qs if split_of(q["id"]) == split][: args.limit]
        recs = [record(rag, q) for q in sel]
        records[split] = recs
        out["splits"][split] = summary(recs)
        print(split, json.dumps(out["splits"][split]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "end_to_end_trust.json").write_text(json.dumps({**out, "records": records}, indent=2))
    lines = ["# End to end: what the user is shown (bundled SmolLM2-135M, 8 guideline PDFs)", "",
             f"Command: `{out['command']}`. CPU: {out['cpu']}. Answerable realistic questions; "
             "each row is a share of questions unless it says sentences.", "",
             "| | dev | test |", "|---|---|---|"]
    for key in out["splits"]["test"]:
        lines.append(f"| {key} | {out['splits']['dev'].get(key)} | {out['splits']['test'].get(key)} |")
    (RESULTS / "end_to_end_trust.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
