"""Abstention gate on the 8 guideline PDFs: answerable vs unanswerable questions.

Answerable: questions rewritten from the CDC opioid gold statements (ragmed/eval/trust.py).
Unanswerable: MedQuAD and PubMedQA questions whose topic is outside the 8 guidelines. The gate is
fitted (`RagMed.calibrate`'s method) on the dev split and reported on the test split; the default
gate shipped in ragmed/ground/gate.py is also reported on the test split.

    .venv/bin/python -m benchmarks.abstention        # or: make bench-trust

Writes benchmarks/results/abstention.{json,md}.
"""

from __future__ import annotations

import json
import time

from benchmarks._common import EVAL, GOLD, RESULTS, guideline_rag, require

from ragmed.eval.beir import split_of
from ragmed.eval.trust import answerable_questions, gold_statements, unanswerable_questions
from ragmed.ground import gate


def main() -> int:
    require(GOLD, EVAL / "liveqa_medquad", EVAL / "pubmedqa")
    t0 = time.time()
    rag = guideline_rag()
    pos = answerable_questions(gold_statements(GOLD))
    neg = unanswerable_questions(EVAL)
    t = time.time()
    fx = dict(zip([i for i, _ in pos + neg], rag.gate_features([q for _, q in pos + neg])))
    per_q_ms = (time.time() - t) / len(fx) * 1000

    def part(items, split):
        return [fx[i] for i, _ in items if split_of(i) == split]

    cal = gate.fit(part(pos, "dev"), part(neg, "dev"))
    rows = {}
    for name, c in (("fitted on dev", cal), ("shipped default", gate.DEFAULT)):
        for split in ("dev", "test"):
            m = gate.metrics([c.score(x) for x in part(pos, split)], [c.score(x) for x in part(neg, split)],
                             c.threshold)
            rows[f"{name} / {split}"] = m.to_dict()
    result = {
        "benchmark": "abstention",
        "command": ".venv/bin/python -m benchmarks.abstention",
        "collection": "the 8 PDFs of ../shared/eval/guidelines",
        "questions": {"answerable": len(pos), "unanswerable": len(neg)},
        "features": list(gate.FEATURES),
        "fitted": cal.to_dict(),
        "results": rows,
        "gate_ms_per_question": round(per_q_ms, 1),
        "seconds": round(time.time() - t0, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "abstention.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# Abstention gate (8 guideline PDFs)", "",
        f"Command: `{result['command']}`. {len(pos)} answerable questions (from CDC opioid gold statements), "
        f"{len(neg)} unanswerable (MedQuAD + PubMedQA, off-topic for the guidelines). Threshold fitted on dev.",
        "",
        "| gate / split | answerable | unanswerable | unanswerable abstained | answerable abstained | abstention precision |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in rows.items():
        md.append(f"| {name} | {m['answerable']} | {m['unanswerable']} | {m['abstained_unanswerable']:.1%} | "
                  f"{m['abstained_answerable']:.1%} | {m['precision']:.3f} |")
    md += ["", f"Threshold {cal.threshold:.3f}; the gate costs {per_q_ms:.0f} ms per question (retrieval included)."]
    (RESULTS / "abstention.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    print("fitted:", json.dumps(cal.to_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
