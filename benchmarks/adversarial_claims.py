"""Adversarial claims: does the citation checker mark distorted guideline sentences unsupported?
(issue 19, "claim checks on meaning")

Cases come from ragmed/eval/distort.py over the CDC 2022 opioid gold statements and sentences of six
other guideline PDFs (ragmed/eval/adversarial.py): controls (as written, synonym paraphrase, freely
reworded) that the passage supports, and distortions of each kind (negation, direction, another
entity of the passage, another number of the passage, another unit, another population, another
strength), made on the sentence as written and on the reworded one. The meaning rules were chosen
on the dev split (sha1 of the region/page id, first hex digit 0-b); the test split (c-f) is reported.
Also reported: the same verdicts without the meaning checks (the checker before issue 19), and the
time to check a 10-sentence answer against 10 passages with a cold cache (embedding included).

    nice -n 10 .venv/bin/python -m benchmarks.adversarial_claims      # or: make bench-adversarial

Writes benchmarks/results/adversarial_claims.{json,md}. Goals on test: false support <= 5% per kind,
control recall >= 0.95.
"""

from __future__ import annotations

import json
import statistics
import time

from benchmarks._common import GOLD, GUIDELINES, RESULTS, cpu_name, require

from ragmed.eval.adversarial import gold_sources, pdf_sources, score
from ragmed.eval.beir import split_of
from ragmed.eval.distort import distortions
from ragmed.ground import verify

GOAL_FALSE_SUPPORT, GOAL_RECALL = 0.05, 0.95


def main() -> int:
    require(GOLD, GUIDELINES)
    from ragmed.config import DEFAULT_EMBEDDER_BACKEND
    from ragmed.embed.sentence import Embedder

    t0 = time.time()
    gold, pdf = gold_sources(GOLD), pdf_sources(GUIDELINES)
    cases = [c for sid, key, sent, passage in gold + pdf for c in distortions(sid, sent, passage)]
    split = {sid: split_of(key) for sid, key, _, _ in gold + pdf}
    embedder = Embedder(backend=DEFAULT_EMBEDDER_BACKEND)  # what a new collection uses
    checker = verify.SupportChecker(embedder)
    checker.prepare([c.passage for c in cases])
    vecs = checker.embed_claims([c.claim for c in cases])
    t1 = time.time()
    verdicts = [checker.check(c.claim, [c.passage], v) for c, v in zip(cases, vecs)]
    check_s = time.time() - t1
    said = [v.supported for v in verdicts]
    old = [checker.decide(v.overlap, v.similarity, v.missing_numbers) for v in verdicts]
    result = {
        "benchmark": "adversarial_claims",
        "command": "nice -n 10 .venv/bin/python -m benchmarks.adversarial_claims",
        "data": "CDC 2022 opioid gold statements (../shared/eval/guideline_gold_text) and sentences of 6 other "
                "guideline PDFs (../shared/eval/guidelines); distortions by ragmed/eval/distort.py",
        "sources": {"gold_sentences": len(gold), "pdf_sentences": len(pdf)},
        "cases": len(cases), "cpu": cpu_name(), "embedder": f"{embedder.id} ({embedder.backend})",
    }
    for name in ("dev", "test"):
        idx = [i for i, c in enumerate(cases) if split[c.source] == name]
        sub = [cases[i] for i in idx]
        result[name] = score(sub, [said[i] for i in idx])
        result[f"{name}_without_meaning_checks"] = score(sub, [old[i] for i in idx])
        result[f"{name}_cases"] = len(idx)
    test = result["test"]
    result["goals_met_on_test"] = {
        "false_support_per_kind": all(k["rate"] <= GOAL_FALSE_SUPPORT for k in test["false_support"].values()),
        "control_recall": test["control_recall"] >= GOAL_RECALL,
    }
    result["examples"] = _examples(cases, verdicts, split)
    result["timing"] = _timing(embedder, [c for c in cases if c.kind == "as-written"])
    result["check_seconds_per_claim_warm"] = round(check_s / max(1, len(cases)), 5)
    result["seconds"] = round(time.time() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "adversarial_claims.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    md = _markdown(result)
    (RESULTS / "adversarial_claims.md").write_text(md)
    print(md)
    return 0


def _examples(cases, verdicts, split, per_kind: int = 2) -> list[dict]:
    """A few test-split verdicts per kind: what a user reads."""
    out, seen = [], {}
    for c, v in zip(cases, verdicts):
        if split[c.source] != "test" or c.id.endswith("@reworded") or seen.get(c.kind, 0) >= per_kind:
            continue
        seen[c.kind] = seen.get(c.kind, 0) + 1
        out.append({"kind": c.kind, "claim": c.claim, "supported": v.supported, "reason": v.reason})
    return out


def _timing(embedder, controls, runs: int = 5) -> dict:
    """Seconds to check a 10-sentence answer citing 10 passages, with a fresh checker (no cache)."""
    secs = []
    for r in range(runs):
        group = controls[r * 10:(r + 1) * 10]
        answer = " ".join(f"{c.claim.rstrip('.')} [{i}]." for i, c in enumerate(group, 1))
        checker = verify.SupportChecker(embedder)
        t = time.perf_counter()
        verify.check_text(answer, [c.passage for c in group], checker)
        secs.append(time.perf_counter() - t)
    return {"answer_sentences": 10, "passages": 10, "runs": runs, "median_s": round(statistics.median(secs), 3),
            "max_s": round(max(secs), 3)}


def _markdown(r: dict) -> str:
    from ragmed.eval.distort import CONTROLS, KINDS

    def rate(block, k):
        x = block["false_support"].get(k)
        return f"{x['rate']:.3f} ({x['n']})" if x else "–"

    def rew(block, k):
        x = block["false_support_in_reworded"].get(k)
        return f"{x['rate']:.3f} ({x['n']})" if x else "–"

    lines = [
        "# Adversarial claims (distorted guideline sentences)", "",
        f"Command: `{r['command']}`. {r['sources']['gold_sentences']} CDC opioid gold sentences and "
        f"{r['sources']['pdf_sentences']} sentences of 6 other guideline PDFs; {r['cases']} cases "
        f"({r['dev_cases']} dev, {r['test_cases']} test). CPU: {r['cpu']}.", "",
        "False support = share of distorted claims the checker marks supported (lower is better); "
        "in brackets the number of cases. \"Before\" = the same checker without the meaning checks "
        "(numbers present anywhere + word overlap + MiniLM similarity, as shipped before issue 19).", "",
        "| kind | test | test, inside reworded claims | dev | test before |",
        "|---|---:|---:|---:|---:|",
    ]
    for k in KINDS:
        lines.append(f"| {k} | **{rate(r['test'], k)}** | {rew(r['test'], k)} | {rate(r['dev'], k)} | "
                     f"{rate(r['test_without_meaning_checks'], k)} |")
    lines += ["", "| controls (recall: share marked supported) | test | dev | test before |", "|---|---:|---:|---:|"]
    for k in CONTROLS:
        t, d, b = (r[x]["controls"].get(k) for x in ("test", "dev", "test_without_meaning_checks"))
        lines.append(f"| {k} | {t['recall']:.3f} ({t['n']}) | {d['recall']:.3f} | {b['recall']:.3f} |")
    lines.append(f"| **all controls** | **{r['test']['control_recall']:.3f}** | {r['dev']['control_recall']:.3f} | "
                 f"{r['test_without_meaning_checks']['control_recall']:.3f} |")
    g, t = r["goals_met_on_test"], r["timing"]
    lines += ["", f"Goals on test (false support <= 0.05 for every kind; control recall >= 0.95): "
                  f"per kind {'met' if g['false_support_per_kind'] else 'NOT met'}, "
                  f"recall {'met' if g['control_recall'] else 'NOT met'}.", "",
              f"Speed: a 10-sentence answer citing 10 passages, checked with an empty cache (claims and "
              f"passages embedded, {t['runs']} runs): median {t['median_s']} s, max {t['max_s']} s.", "",
              "Examples (test split):", ""]
    for e in r["examples"]:
        mark = "✓" if e["supported"] else "✗"
        lines.append(f"- {e['kind']}: {mark} “{e['claim'][:160]}”" + (f" — {e['reason']}" if e["reason"] else ""))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
