"""Evidence ranking: is the first evidence sentence shown the one that answers the question?

For each question the passages are retrieved as `ask` retrieves them (the gate's spelling and
abbreviation re-search included), and the candidate sentences of those passages are ranked
(ragmed/ground/evidence.py). A candidate is an **answer sentence**:

- realistic questions (benchmarks/data/realistic_questions.jsonl, answerable): a sentence of a
  passage from the answering document and page that matches the question's `evidence` pattern;
- gold questions (benchmarks/abstention.py's: CDC 2022 opioid gold statements rewritten as
  questions): a sentence contained in the statement the question was made from (rapidfuzz
  partial ratio >= 90 on lower-cased text, at least 25 characters).

Only questions with an answer sentence among the candidates count (ranking cannot show what
retrieval did not find; that share is reported). Reported per split: precision@1 (the first sentence
shown is an answer sentence), hit@5 (one of the 5 shown is), MRR — for the ranking before this
change (cosine + 0.3 x share of the question's terms, `relevance.scores`, of the question as typed)
and now (`best_sentences` of the question as the gate searched it, as `ask` does).

    .venv/bin/python -m benchmarks.evidence_ranking [--limit N]   # N questions per set and split

Writes benchmarks/results/evidence_ranking.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from benchmarks._common import GOLD, RESULTS, ROOT, guideline_rag, require

from ragmed.eval.beir import split_of
from ragmed.eval.trust import answerable_questions, gold_statements
from ragmed.ground.evidence import MIN_CHARS, best_sentences
from ragmed.ground.relevance import CONTENT, passage_sentences, scores

DATA = ROOT / "benchmarks" / "data" / "realistic_questions.jsonl"


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w%/.]+", " ", s.lower()).split())


def ranks(question, passages, embedder, is_answer, asked: str = "") -> dict:
    """1-based rank of the first answer sentence, before and now ({} when none is a candidate);
    `asked`: the question as the gate searched it (spelling, abbreviations), which `ask` ranks by now."""
    cands = [s for s in passage_sentences(passages) if s.kind == CONTENT and len(s.text) >= MIN_CHARS]
    good = {(s.n, s.text) for s in cands if is_answer(s, passages[s.n - 1])}
    if not good:
        return {}
    out = {}
    old = sorted(zip(scores(question, cands, passages, embedder), range(len(cands))), key=lambda x: (-x[0], cands[x[1]].n))
    old_order = [cands[i] for _, i in old]
    # now: evidence sentences are split into list items and lose glued headings (ground/passage_units.py),
    # so they are judged as shown; none judged an answer sentence counts as not found (rank MISSED)
    new_order = best_sentences(asked or question, passages, embedder, limit=len(cands) * 4)
    for name, order in (("before", old_order), ("now", new_order)):
        first = next((i for i, s in enumerate(order) if is_answer(s, passages[s.n - 1])), MISSED - 1)
        out[name] = first + 1
    return out


MISSED = 10 ** 6  # the rank of an answer sentence no longer among the shown candidates (1/MISSED ~ 0 in MRR)


def summary(rows: list[dict], asked: int) -> dict:
    out = {"questions": asked, "answer_sentence_retrieved": len(rows)}
    for name in ("before", "now"):
        r = [x[name] for x in rows]
        out[name] = {"precision_at_1": round(sum(v == 1 for v in r) / len(r), 4) if r else None,
                     "hit_at_5": round(sum(v <= 5 for v in r) / len(r), 4) if r else None,
                     "mrr": round(sum(1 / v for v in r) / len(r), 4) if r else None}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="questions per set and split")
    args = ap.parse_args()
    require(GOLD)
    rag = guideline_rag(progress=False)
    t0 = time.time()
    real = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines() if x.strip()]
    real = [r for r in real if r["kind"] == "answerable"]
    gold = {gid: text for gid, _, text in gold_statements(GOLD)}
    sets = {"realistic": [(r["id"], r["question"], r) for r in real],
            "gold": [(gid, q, gold[gid]) for gid, q in answerable_questions(gold_statements(GOLD))]}
    out: dict = {"benchmark": "evidence_ranking", "command": ".venv/bin/python -m benchmarks.evidence_ranking"
                 + (f" --limit {args.limit}" if args.limit else ""), "sets": {}, "misses_now_test": []}
    for set_name, items in sets.items():
        for split in ("dev", "test"):
            sel = [x for x in items if split_of(x[0]) == split][: args.limit]
            rows = []
            for qid, q, ref in sel:
                r = rag.pipeline.retrieve(q)
                if set_name == "realistic":
                    rx = re.compile(ref["evidence"], re.I)

                    def is_answer(s, p, ref=ref, rx=rx):
                        pages = set(range(p.page_start, p.page_end + 1))
                        return Path(p.source).name == ref["doc"] and bool(pages & set(ref["pages"])) and bool(rx.search(" ".join(s.text.split())))
                else:
                    gn = _norm(ref)

                    def is_answer(s, p, gn=gn):
                        from rapidfuzz import fuzz

                        return fuzz.partial_ratio(_norm(s.text), gn) >= 90 and len(_norm(s.text)) <= len(gn) + 5
                rk = ranks(q, r.passages, rag.embedder, is_answer, getattr(r.decision, "query", ""))
                if rk:
                    rows.append(rk)
                    if split == "test" and rk["now"] > 1:
                        out["misses_now_test"].append((set_name, qid, q, rk["now"]))
            out["sets"][f"{set_name} / {split}"] = summary(rows, len(sel))
            print(set_name, split, json.dumps(out["sets"][f"{set_name} / {split}"]), flush=True)
    out["seconds"] = round(time.time() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "evidence_ranking.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    md = ["# Evidence ranking: the first sentence shown answers the question", "",
          f"Command: `{out['command']}` ({out['seconds']:.0f} s). Questions whose answer sentence is among "
          "the retrieved passages' sentences; before = cosine + 0.3 x term share (relevance.scores), "
          "now = ground/evidence.py's ranking.", "",
          "| set / split | questions | answer retrieved | P@1 before | P@1 now | hit@5 before | hit@5 now | MRR before | MRR now |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k, v in out["sets"].items():
        b, n = v["before"], v["now"]
        md.append(f"| {k} | {v['questions']} | {v['answer_sentence_retrieved']} | {b['precision_at_1']} | {n['precision_at_1']} | "
                  f"{b['hit_at_5']} | {n['hit_at_5']} | {b['mrr']} | {n['mrr']} |")
    (RESULTS / "evidence_ranking.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
