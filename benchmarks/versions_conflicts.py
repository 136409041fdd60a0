"""Versions and conflicting sources (issue 25): does the current edition win, and are disagreements shown?

Each generator seed (ragmed/eval/editions.py) is a fresh collection of fictional protocols in two
editions (2-3 facts changed, the rest word for word the same) and pairs of different guidelines that
disagree on one fact. Every fact is asked in evidence mode (`RagMed.evidence`: the real retriever,
editions, evidence ranking and conflict detection; no model). Reported per split (seed id
"seed{N}" by sha1, first hex digit 0-b dev, c-f test):

- current_first: questions on editions whose first evidence sentence comes from the current edition;
- superseded_marked: evidence sentences from a superseded edition that carry the superseded note;
- conflict precision: reported conflicts that are a planted change or disagreement (the two
  planted sentences); recall: changed/disagreeing facts whose planted pair is reported;
- false_conflict_rate: unchanged facts with a reported conflict that is not a planted one
  (any_conflict_rate_unchanged counts every conflict shown on an unchanged fact, planted ones of a
  neighbouring fact included).

    nice -n 10 .venv/bin/python -m benchmarks.versions_conflicts      # or: make bench-versions

Writes benchmarks/results/versions_conflicts.{json,md}. Goals on test: precision >= 0.9, recall >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import RESULTS, cpu_name

from ragmed.eval.beir import split_of
from ragmed.eval.editions import world

GOAL_PRECISION, GOAL_RECALL = 0.9, 0.9


def _norm(s: str) -> str:
    return " ".join(s.split())


def run_seed(seed: int, root: Path, embedder) -> dict:
    from ragmed import RagMed

    w = world(seed)
    folder = root / f"docs{seed}"
    folder.mkdir()
    for d in w.docs:
        (folder / d.name).write_text(d.text, encoding="utf-8")
    rag = RagMed(collection=f"seed{seed}", index_dir=root / "index")
    rag._embedder = embedder
    rag.ingest([folder])
    path = {d.name: str((folder / d.name).resolve()) for d in w.docs}
    planted = {frozenset(_norm(s) for s in q.statements) for q in w.questions if q.statements}
    rows = []
    for q in w.questions:
        a = rag.evidence(q.text)
        ev = [{"source": Path(e.source).name, "superseded": bool(e.superseded)} for e in a.evidence]
        found = [frozenset({_norm(c.a.text), _norm(c.b.text)}) for c in a.conflicts]
        rows.append({
            "seed": seed, "question": q.text, "expect": q.expect, "kind": q.kind, "docs": list(q.docs),
            "editions": q.expect != "disagree" and any(d.supersedes for d in w.docs if d.name in q.docs),
            "evidence": ev, "first": ev[0]["source"] if ev else "",
            "conflicts": [c.summary() for c in a.conflicts],
            "true_conflicts": sum(f in planted for f in found), "reported": len(found),
            "hit": bool(q.statements) and frozenset(_norm(s) for s in q.statements) in found,
            "old_in_passages": any(p.source == path[q.docs[0]] for p in a.passages),
        })
    rag.store.drop() if hasattr(rag.store, "drop") else None
    return {"seed": seed, "rows": rows}


def summarise(rows: list[dict]) -> dict:
    ed = [r for r in rows if r["editions"]]
    ev_old = [e for r in ed for e in r["evidence"] if e["source"] == r["docs"][0]]
    planted = [r for r in rows if r["expect"] in ("changed", "disagree")]
    unchanged = [r for r in rows if r["expect"] == "unchanged"]
    reported = sum(r["reported"] for r in rows)
    true = sum(r["true_conflicts"] for r in rows)
    share = lambda xs, n: round(xs / n, 4) if n else None  # noqa: E731
    return {
        "questions": len(rows), "edition_questions": len(ed),
        "current_first": share(sum(r["first"] == r["docs"][1] for r in ed), len(ed)),
        "current_first_changed": share(sum(r["first"] == r["docs"][1] for r in ed if r["expect"] == "changed"),
                                       sum(r["expect"] == "changed" for r in ed)),
        "superseded_evidence": len(ev_old),
        "superseded_marked": share(sum(e["superseded"] for e in ev_old), len(ev_old)),
        "conflicts_reported": reported,
        "precision": share(true, reported),
        "recall": share(sum(r["hit"] for r in planted), len(planted)),
        "recall_changed": share(sum(r["hit"] for r in planted if r["expect"] == "changed"),
                                sum(r["expect"] == "changed" for r in planted)),
        "recall_disagree": share(sum(r["hit"] for r in planted if r["expect"] == "disagree"),
                                 sum(r["expect"] == "disagree" for r in planted)),
        "false_conflict_rate": share(sum(r["reported"] > r["true_conflicts"] for r in unchanged), len(unchanged)),
        "any_conflict_rate_unchanged": share(sum(r["reported"] > 0 for r in unchanged), len(unchanged)),
        "planted_facts": len(planted), "unchanged_facts": len(unchanged),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=16, help="generator seeds 0..N-1 (split by sha1 of 'seed{N}')")
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--dev-seeds", type=int, default=None, help="dev: only seeds below this (a shorter run)")
    ap.add_argument("--no-save", action="store_true", help="print only (tuning runs)")
    args = ap.parse_args(argv)
    from ragmed.config import DEFAULT_EMBEDDER_BACKEND
    from ragmed.embed.sentence import Embedder

    embedder = Embedder(backend=DEFAULT_EMBEDDER_BACKEND)
    seeds = [s for s in range(args.seeds) if args.split == "both" or split_of(f"seed{s}") == args.split]
    if args.dev_seeds is not None:
        seeds = [s for s in seeds if split_of(f"seed{s}") == "test" or s < args.dev_seeds]
    t0 = time.time()
    rows: dict[str, list] = {"dev": [], "test": []}
    with tempfile.TemporaryDirectory() as tmp:
        for s in seeds:
            rows[split_of(f"seed{s}")].extend(run_seed(s, Path(tmp), embedder)["rows"])
    result = {"command": "python -m benchmarks.versions_conflicts " + " ".join(argv or sys.argv[1:]),
              "cpu": cpu_name(), "seconds": round(time.time() - t0, 1), "seeds": seeds,
              "goals": {"precision": GOAL_PRECISION, "recall": GOAL_RECALL},
              "splits": {k: summarise(v) for k, v in rows.items() if v}}
    misses = [r for v in rows.values() for r in v if (r["expect"] != "unchanged" and not r["hit"])
              or (r["expect"] == "unchanged" and r["reported"] > r["true_conflicts"])]
    result["errors"] = misses[:40]
    print(json.dumps(result["splits"], indent=1))
    if args.no_save:
        for r in misses[:15]:
            print(r["expect"], r["kind"], r["question"], r["conflicts"], r["old_in_passages"], r["first"])
        return 0
    (RESULTS / "versions_conflicts.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (RESULTS / "versions_conflicts.md").write_text(_markdown(result), encoding="utf-8")
    return 0


def _markdown(r: dict) -> str:
    keys = ["questions", "current_first", "current_first_changed", "superseded_marked", "conflicts_reported",
            "precision", "recall", "recall_changed", "recall_disagree", "false_conflict_rate",
            "any_conflict_rate_unchanged", "planted_facts", "unchanged_facts"]
    splits = list(r["splits"])
    lines = ["# Versions and conflicting sources (issue 25)", "", f"Command: `{r['command']}` ({r['seconds']} s, {r['cpu']})",
             "", "Evidence mode (no model) over generated fictional protocol editions and disagreeing guidelines "
             "(ragmed/eval/editions.py); seeds split by sha1 of 'seed{N}'. Goals on test: precision >= 0.9, recall >= 0.9.",
             "", "| measure | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(str(r["splits"][s].get(k)) for s in splits) + " |")
    lines += ["", "Definitions: benchmarks/versions_conflicts.py docstring. Misses (first 40) are in the JSON."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
