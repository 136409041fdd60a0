"""Follow-up retrieval (issue 21): does history-aware retrieval find a follow-up's passages?

    python -m benchmarks.followup_retrieval [--split dev|test] [--limit N]   # or: make bench-followup

Conversations are built from two question sets whose gold passages are known:
- guidelines: the CDC 2022 opioid guideline's gold statements (../shared/eval/guideline_gold_text) as
  questions (`eval.trust.to_question`); gold = the indexed chunks of the guideline that contain the
  statement (its first 60 letters and digits), in the 8-guideline collection;
- bioasq: BioASQ questions with their gold snippets (BEIR folder), in a collection of the gold
  snippets of the conversations' targets plus other snippets up to `--bioasq-passages` (default
  8000, to bound the embedding time; 0 = the whole corpus).
For each target question T (split by sha1 of its id: 0-b dev, c-f test) the script builds:
- pronoun (2 turns): T's topic word E is the word of T that is rarest among the set's questions,
  occurs in at least one other question Q1, is a name or term (wordfreq Zipf below `ENTITY_ZIPF`)
  and is rare in the collection (`TOPIC_DF`); T has at most `MAX_WORDS` words; the topic span (E and the adjacent words T shares with
  Q1) is replaced by "it" ("its" for a possessive). Turn 1 = Q1, follow-up = T with "it";
- pronoun3 (3 turns): as pronoun, with two other questions on E, the second also with "it";
- elliptical (2 turns): T ending in a short phrase "in/for/during/among/with/after ... ?" is split:
  turn 1 = T without the phrase, follow-up = "And <phrase>?";
- standalone (2 turns): the follow-up is T itself, after Q1 (a question sharing E, else the previous
  question of the set): history-aware retrieval must be no worse than T alone.
The fully specified follow-up is T. Scored for the follow-up: Recall@3 and nDCG@10 (eval/metrics.py)
with the last message only, history-aware (retrieve/followup.py `resolve`, earlier turns resolved in
turn) and fully specified (T). Retrieval is `RagMed.search` (hybrid, k=10).

Writes benchmarks/results/followup_retrieval_<split>.{json,md}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict

from benchmarks._common import BIOASQ, EVAL_INDEXES, GOLD, GUIDELINES, RESULTS, require

from ragmed.eval.beir import load_beir, split_of
from ragmed.eval.metrics import ndcg_at, recall_at
from ragmed.eval.trust import alnum, answerable_questions, gold_statements
from ragmed.retrieve.followup import GENERIC, TOPIC_DF, collection_rarity, resolve
from ragmed.tokenize import tokenize
from wordfreq import zipf_frequency

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
TAIL = re.compile(r"^(?P<head>.{12,}?\S)\s+(?P<pp>(?:in|for|during|among|with|after)\s+[^,;?]{3,40})\?\s*$", re.I)
KINDS = ("pronoun", "pronoun3", "elliptical", "standalone")
GOALS = {"ratio_to_full": 0.90}
MAX_WORDS = 20  # targets longer than this are not turned into pronoun follow-ups
ENTITY_ZIPF = 4.0  # the pronoun's referent is a name or term: wordfreq Zipf below this ("naloxone" 2.5)


def content(w: str) -> bool:
    return bool(tokenize(w)) and w.lower() not in GENERIC and len(w) >= 3


def key(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def build(questions: dict[str, str], split: str, limit: int, rarity=None, targets=None) -> list[dict]:
    """The conversations (see the module docstring) whose target is in `split`; `rarity` (the
    collection's term shares, retrieve/followup.py) restricts topic words to rare ones."""
    words = {qid: [w for w in WORD.findall(q)] for qid, q in questions.items()}
    lowered = {qid: {w.lower() for w in ws} for qid, ws in words.items()}
    df = Counter(w for s in lowered.values() for w in s)
    by_word = defaultdict(list)
    for qid, s in lowered.items():
        for w in s:
            if df[w] <= 50:
                by_word[w].append(qid)
    ids = sorted(q for q in questions if split_of(q) == split and (targets is None or q in targets))
    ids.sort(key=lambda q: key("order", q))
    out: list[dict] = []
    prev = None
    for tid in ids:
        t = questions[tid]
        cands = [w for w in words[tid] if content(w) and 2 <= df[w.lower()] <= 50]
        cands = [w for w in cands if zipf_frequency(w.lower(), "en") < ENTITY_ZIPF]  # a name, not a common word
        if rarity is not None:
            share = rarity(sorted({x for w in cands for x in tokenize(w)}))
            cands = [w for w in cands if max(share.get(x, 1.0) for x in tokenize(w)) <= TOPIC_DF]
        if len(words[tid]) > MAX_WORDS:
            cands = []  # follow-ups are short: long targets only make standalone conversations
        convs = []
        if cands:
            e = min(cands, key=lambda w: (df[w.lower()], -len(w)))
            others = sorted((q for q in by_word[e.lower()] if q != tid), key=lambda q: key(tid, q))
            q1 = questions[others[0]]
            shared = lowered[others[0]]
            ws = list(WORD.finditer(t))
            i = next(j for j, m in enumerate(ws) if m.group(0) == e)
            a = b = i
            while a > 0 and ws[a - 1].group(0).lower() in shared and content(ws[a - 1].group(0)):
                a -= 1
            while b + 1 < len(ws) and ws[b + 1].group(0).lower() in shared and content(ws[b + 1].group(0)):
                b += 1
            start, end = ws[a].start(), ws[b].end()
            possessive = t[end:end + 2] in ("'s", "’s")
            pronoun = "its" if possessive else "it"
            follow = t[:start] + pronoun + t[end + (2 if possessive else 0):]
            convs.append({"kind": "pronoun", "turns": [q1], "followup": follow})
            if len(others) >= 2:
                q2 = questions[others[1]]
                m2 = re.search(re.escape(e), q2)
                if m2:
                    convs.append({"kind": "pronoun3", "followup": follow,
                                  "turns": [q1, q2[:m2.start()] + "it" + q2[m2.end():]]})
            convs.append({"kind": "standalone", "turns": [q1], "followup": t})
        elif prev is not None:
            convs.append({"kind": "standalone", "turns": [questions[prev]], "followup": t})
        m = TAIL.match(t)
        if m and len(tokenize(m.group("head"))) >= 3:
            pp = m.group("pp")
            convs.append({"kind": "elliptical", "turns": [m.group("head") + "?"], "followup": f"And {pp}?"})
        for c in convs:
            out.append({"id": tid, "full": t, **c})
        prev = tid
    per_kind: dict[str, list[dict]] = defaultdict(list)
    for c in out:
        if len(per_kind[c["kind"]]) < limit:
            per_kind[c["kind"]].append(c)
    return [c for k in KINDS for c in per_kind[k]]


def evaluate(rag, convs: list[dict], qrels: dict[str, dict[str, int]]) -> tuple[dict, list[dict]]:
    rarity = collection_rarity(rag.index.lexical_snapshot())
    rows = []
    for c in convs:
        resolved: list[str] = []
        for turn in c["turns"]:
            resolved.append(resolve(turn, resolved, rarity).query)
        r = resolve(c["followup"], resolved, rarity)
        row = {**c, "query": r.query, "resolved_kind": r.kind}
        for name, q in (("last", c["followup"]), ("history", r.query), ("full", c["full"])):
            ranked = [p.id for p in rag.search(q, 10)]
            row[name] = {"recall@3": recall_at(ranked, qrels[c["id"]], 3), "ndcg@10": ndcg_at(ranked, qrels[c["id"]], 10)}
        rows.append(row)
    summary = {}
    for kind in KINDS:
        rs = [r for r in rows if r["kind"] == kind]
        if not rs:
            continue
        s = {"n": len(rs), "rewritten": sum(r["query"] != r["followup"] for r in rs) / len(rs)}
        for name in ("last", "history", "full"):
            for m in ("recall@3", "ndcg@10"):
                s[f"{name} {m}"] = sum(r[name][m] for r in rs) / len(rs)
        for m in ("recall@3", "ndcg@10"):
            s[f"ratio {m}"] = s[f"history {m}"] / s[f"full {m}"] if s[f"full {m}"] else None
        summary[kind] = s
    return summary, rows


def subcorpus(ds, questions: dict[str, str], split: str, limit: int, size: int):
    """(dataset with a smaller corpus, the target question ids): the gold snippets of the targets the
    conversations of either split may use (built without collection statistics, twice the limit, so
    dev and test share one collection), plus other snippets in sha1 order up to `size` passages.
    Every condition searches the same corpus."""
    from dataclasses import replace

    targets = {c["id"] for sp in ("dev", "test") for c in build(questions, sp, 2 * limit)}
    keep = {p for t in targets for p, g in ds.qrels.get(t, {}).items() if g > 0 and p in ds.corpus}
    for pid in sorted(ds.corpus, key=lambda p: key("distractor", p)):
        if len(keep) >= size:
            break
        keep.add(pid)
    corpus = {p: ds.corpus[p] for p in sorted(keep)}
    sha = key(ds.sha256["corpus.jsonl"], *sorted(keep))
    return replace(ds, corpus=corpus, sha256={**ds.sha256, "corpus.jsonl": sha}), targets


def guideline_set(rag):
    from ragmed.eval.trust import guideline_chunks  # noqa: F401 (same collection)

    pdf = GUIDELINES / "cdc-2022-opioid-prescribing-guideline.pdf"
    got = rag.index.chroma().get(where={"source": str(pdf.resolve())}, include=["documents"])
    chunks = [(i, alnum(d)) for i, d in zip(got["ids"], got["documents"])]
    gold = {g[0]: g for g in gold_statements(GOLD)}
    questions, qrels = {}, {}
    for gid, q in answerable_questions(list(gold.values())):
        needle = alnum(gold[gid][2])[:60]
        rel = {i: 1 for i, t in chunks if needle and needle in t}
        if rel:
            questions[gid], qrels[gid] = q, rel
    return questions, qrels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--limit", type=int, default=150, help="conversations per kind and dataset")
    ap.add_argument("--dataset", default="all", choices=["guidelines", "bioasq", "all"])
    ap.add_argument("--bioasq-passages", type=int, default=8000,
                    help="BioASQ corpus: the gold snippets of the split's conversation targets plus other "
                         "snippets (a deterministic sample) up to this many; 0 = all 21,257 (slow to embed)")
    args = ap.parse_args()
    require(GOLD, GUIDELINES, BIOASQ)
    from benchmarks._common import guideline_rag
    from ragmed import RagMed
    from ragmed.embed.sentence import Embedder
    from ragmed.errors import IndexBusyError
    from ragmed.eval.retrieval import build_collection

    t0 = time.time()
    results, all_rows = {}, {}
    sets = []
    if args.dataset in ("guidelines", "all"):
        try:
            g = guideline_rag(progress=False)
        except IndexBusyError:  # another process is ingesting: read the committed collection
            g = RagMed(collection="guidelines-8", index_dir=EVAL_INDEXES)
        sets.append(("guidelines", g, *guideline_set(g)))
    targets: dict[str, set] = {}
    if args.dataset in ("bioasq", "all"):
        ds = load_beir(BIOASQ)
        qs = {q: ds.queries[q] for q in ds.query_ids("all")}
        if args.bioasq_passages:
            ds, targets["bioasq"] = subcorpus(ds, qs, args.split, args.limit, args.bioasq_passages)
        index = build_collection(ds, EVAL_INDEXES, Embedder(), progress=sys.stderr.isatty(),
                                 name=f"followup-bioasq-{len(ds.corpus)}" if args.bioasq_passages else None)
        b = RagMed(collection=index.name, index_dir=EVAL_INDEXES)
        sets.append(("bioasq", b, qs, ds.qrels))
    for name, rag, qs, qrels in sets:
        convs = build(qs, args.split, args.limit, collection_rarity(rag.index.lexical_snapshot()), targets.get(name))
        results[name], all_rows[name] = evaluate(rag, convs, qrels)
    data = {"split": args.split, "limit": args.limit, "results": results, "goals": GOALS,
            "seconds": round(time.time() - t0, 1),
            "command": f"python -m benchmarks.followup_retrieval --split {args.split} --limit {args.limit}"
                       f" --dataset {args.dataset} --bioasq-passages {args.bioasq_passages}"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / (f"followup_retrieval_{args.split}" + ("" if args.dataset == "all" else f"_{args.dataset}"))
    out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    examples = {n: [{k: r[k] for k in ("kind", "turns", "followup", "query", "full")} for r in rows[:: max(1, len(rows) // 6)]]
                for n, rows in all_rows.items()}
    out.with_suffix(".md").write_text(render(data, examples))
    print(out.with_suffix(".md").read_text())


def render(data: dict, examples: dict) -> str:
    lines = [f"# Follow-up retrieval ({data['split']} split)", "",
             f"`{data['command']}` ({data['seconds']} s). Retrieval: `RagMed.search` (hybrid), k = 10. "
             "Recall@3 and nDCG@10 of the follow-up, searched as the last message only, history-aware "
             "(ragmed/retrieve/followup.py) and fully specified; ratio = history-aware / fully specified "
             f"(goal >= {GOALS['ratio_to_full']}); standalone = a self-contained follow-up (goal: history-aware "
             "no worse than alone, i.e. than `last`).", ""]
    for name, res in data["results"].items():
        lines += [f"## {name}", "", "| kind | n | rewritten | R@3 last | R@3 history | R@3 full | ratio | "
                  "nDCG@10 last | nDCG@10 history | nDCG@10 full | ratio |", "|" + "---|" * 11]
        for kind, s in res.items():
            def f(x):
                return "-" if x is None else f"{x:.3f}"
            lines.append(f"| {kind} | {s['n']} | {s['rewritten']:.2f} | {f(s['last recall@3'])} | "
                         f"{f(s['history recall@3'])} | {f(s['full recall@3'])} | {f(s['ratio recall@3'])} | "
                         f"{f(s['last ndcg@10'])} | {f(s['history ndcg@10'])} | {f(s['full ndcg@10'])} | "
                         f"{f(s['ratio ndcg@10'])} |")
        lines += ["", "Examples (turns -> follow-up -> searched for):", ""]
        for e in examples[name]:
            lines.append(f"- {e['kind']}: {' / '.join(e['turns'])} -> \"{e['followup']}\" -> \"{e['query']}\"")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
