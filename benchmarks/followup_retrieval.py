"""Follow-up retrieval (issue 21): does history-aware retrieval find a follow-up's passages?

    python -m benchmarks.followup_retrieval [--split dev|test] [--limit N]   # or: make bench-followup

Conversations are built from two question sets whose gold passages are known:
- guidelines: the CDC 2022 opioid guideline's gold statements (../shared/eval/guideline_gold_text) as
  questions (`eval.trust.to_question`); gold = the indexed chunks of the guideline that contain the
  statement (its first 60 letters and digits), in the 8-guideline collection;
- bioasq: BioASQ questions with their gold snippets (BEIR folder), in a sub-corpus (to bound the
  embedding time): the gold snippets of the first `--bioasq-questions` (250) questions of each split
  (sha1 order; the targets) plus other snippets in sha1 order up to `--bioasq-passages` (6000)
  passages; 0 = the whole corpus (21,257 snippets).
For each target question T (split by sha1 of its id: 0-b dev, c-f test) the script builds:
- pronoun (2 turns): T's topic word E is the word of T that is rarest among the set's questions,
  occurs in at least one other question Q1, is a name or term (wordfreq Zipf below `ENTITY_ZIPF`, a
  noun by `nounlike`) and is rare in the collection (`TOPIC_DF`); T has at most `MAX_WORDS` words.
  The topic span (E and the adjacent words T shares with Q1) must end a noun phrase. As clinicians
  write follow-ups ("what dose of it for children?") the follow-up is short (`pronoun_version`: at
  most `FOLLOW_WORDS` words of T around the span) with the span replaced by "it" ("its" for a
  possessive); the fully specified follow-up is the same words with the span. Turn 1 = the same
  kind of short window of Q1 around E (a first question about E);
- pronoun3 (3 turns): as pronoun, with a second turn from another question on E, also with "it";
- elliptical (2 turns): T ending in a short phrase "in/for/during/among/with/after ... ?" is split:
  turn 1 = T without the phrase, follow-up = "And <phrase>?"; fully specified = T;
- standalone (2 turns): the follow-up is T itself, after Q1 (the window on E, else the previous
  question of the set): history-aware retrieval must be no worse than T alone.
Scored for the follow-up: Recall@3 and nDCG@10 (eval/metrics.py) with the last message only,
history-aware as ragmed retrieves (pipeline.py: the resolved query alone, retrieve/followup.py
`resolve`, earlier turns resolved in turn), the measured alternative "fused" (the resolved query
fused with the follow-up as written when a pronoun was resolved, `fuse`) and fully specified.
Retrieval is `RagMed.search` (hybrid, k=10).

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
from ragmed.ground.substitute import substituted
from ragmed.retrieve.followup import GENERIC, TOPIC_DF, collection_rarity, fuse, resolve
from ragmed.tokenize import tokenize
from wordfreq import zipf_frequency

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
TAIL = re.compile(r"^(?P<head>.{12,}?\S)\s+(?P<pp>(?:in|for|during|among|with|after)\s+[^,;?]{3,40})\?\s*$", re.I)
KINDS = ("pronoun", "pronoun3", "elliptical", "standalone")
GOALS = {"ratio_to_full": 0.90}
MAX_WORDS = 20  # targets longer than this are not turned into pronoun follow-ups
ENTITY_ZIPF = 4.0  # the pronoun's referent is a name or term: wordfreq Zipf below this ("naloxone" 2.5)
FOLLOW_WORDS = 12  # a pronoun follow-up has at most this many words (clinicians write short follow-ups)


def content(w: str) -> bool:
    return bool(tokenize(w)) and w.lower() not in GENERIC and len(w) >= 3


def key(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


VERB_BEFORE = frozenset("to not should can could will would may might must it they we clinicians".split())


def nounlike(w: str, words: list[str]) -> bool:
    """Whether `w` can be the topic a pronoun stands for: no adverb ("-ly") or verb form ("-ed",
    "-ing", "-ize"), and not right after a word that makes it a verb ("should reevaluate", "to collaborate").
    A heuristic (no part-of-speech tagger ships with ragmed); it keeps "it" standing for a thing."""
    low = w.lower()
    if low.endswith(("ly", "ed", "ing", "ize", "ise")):
        return False
    return all(words[i - 1].lower() not in VERB_BEFORE for i, x in enumerate(words) if x == w and i > 0)


def topic_span(ws: list, e: str, shared: set[str]) -> tuple[int, int]:
    """(first, last) word index of the topic span of `e` in the word matches `ws`: `e` and the
    adjacent content words also in `shared` (the other question's words)."""
    i = next(j for j, m in enumerate(ws) if m.group(0).lower() == e.lower())
    a = b = i
    while a > 0 and ws[a - 1].group(0).lower() in shared and content(ws[a - 1].group(0)):
        a -= 1
    while b + 1 < len(ws) and ws[b + 1].group(0).lower() in shared and content(ws[b + 1].group(0)):
        b += 1
    return a, b


def pronoun_version(text: str, ws: list, a: int, b: int) -> tuple[str, str]:
    """(follow-up, fully specified follow-up): words a..b of `text` (its topic span; `ws` its word
    matches) replaced by "it" ("its" before 's), as a short question as clinicians write one ("what
    dose of it for children?"): at most `FOLLOW_WORDS` words, from up to 4 words before the span
    (from its first content word).
    The fully specified follow-up is the same words with the span."""
    lo = max(0, a - 4)
    while lo < a and not content(ws[lo].group(0)):
        lo += 1  # not from "about" or "say"
    hi = min(len(ws), max(b + 1, lo + FOLLOW_WORDS))
    start, end = ws[a].start(), ws[b].end()
    possessive = text[end:end + 2] in ("'s", "’s")
    head, tail_end = ws[lo].start(), ws[hi - 1].end()
    tail_end += 2 if text[tail_end:tail_end + 2] in ("'s", "’s") else 0

    def sentence(x: str) -> str:
        x = x.strip(" ,;:")
        return x[:1].upper() + x[1:] + "?"

    follow = text[head:start] + ("its" if possessive else "it") + text[end + (2 if possessive else 0):tail_end]
    return sentence(follow), sentence(text[head:tail_end])


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
        cands = [w for w in cands if zipf_frequency(w.lower(), "en") < ENTITY_ZIPF and nounlike(w, words[tid])]
        if rarity is not None:
            share = rarity(sorted({x for w in cands for x in tokenize(w)}))
            cands = [w for w in cands if max(share.get(x, 1.0) for x in tokenize(w)) <= TOPIC_DF]
        if len(words[tid]) > MAX_WORDS:
            cands = []  # follow-ups are short: long targets only make standalone conversations
        convs = []
        found = None
        for e in sorted(cands, key=lambda w: (df[w.lower()], -len(w))):
            others = sorted((q for q in by_word[e.lower()] if q != tid), key=lambda q: key(tid, q))
            ws = list(WORD.finditer(t))
            a, b = topic_span(ws, e, lowered[others[0]])
            if a > 0 and (ws[a - 1].group(0).lower() in VERB_BEFORE or ws[a].group(0).lower().endswith("ly")):
                continue  # "should carefully weigh": a verb phrase
            if b + 1 >= len(ws) or not content(ws[b + 1].group(0)) or t[ws[b].end():ws[b + 1].start()].strip():
                found = e, others, ws, a, b  # the span ends a noun phrase ("it therapies" is no follow-up)
                break
        if found:
            e, others, ws, a, b = found
            w1 = list(WORD.finditer(questions[others[0]]))  # turn 1 asks about E, briefly
            q1 = pronoun_version(questions[others[0]], w1, *topic_span(w1, e, lowered[tid]))[1]
            follow, full = pronoun_version(t, ws, a, b)
            convs.append({"kind": "pronoun", "turns": [q1], "followup": follow, "full": full})
            if len(others) >= 2:
                q2 = questions[others[1]]
                w2 = list(WORD.finditer(q2))
                if any(m.group(0).lower() == e.lower() for m in w2):
                    convs.append({"kind": "pronoun3", "followup": follow, "full": full,
                                  "turns": [q1, pronoun_version(q2, w2, *topic_span(w2, e, lowered[tid]))[0]]})
            convs.append({"kind": "standalone", "turns": [q1], "followup": t})
        elif prev is not None:
            convs.append({"kind": "standalone", "turns": [questions[prev]], "followup": t})
        m = TAIL.match(t)
        if m and len(tokenize(m.group("head"))) >= 3:
            pp = m.group("pp")
            convs.append({"kind": "elliptical", "turns": [m.group("head") + "?"], "followup": f"And {pp}?"})
        for c in convs:
            out.append({"id": tid, "full": t, **c})  # a pronoun follow-up brings its own (shortened) full
        prev = tid
    per_kind: dict[str, list[dict]] = defaultdict(list)
    for c in out:
        if len(per_kind[c["kind"]]) < limit:
            per_kind[c["kind"]].append(c)
    return [c for k in KINDS for c in per_kind[k]]


CONDITIONS = ("last", "history", "fused", "full")


def evaluate(rag, convs: list[dict], qrels: dict[str, dict[str, int]]) -> tuple[dict, list[dict]]:
    """Scores of each conversation's follow-up under `CONDITIONS`: the last message alone;
    history-aware as ragmed retrieves (pipeline.py: the resolved query alone); fused (the resolved
    query fused with the follow-up as written when a pronoun was resolved, retrieve/followup.py
    `fuse`: the alternative the pipeline does not use); fully specified."""
    rarity = collection_rarity(rag.index.lexical_snapshot())
    rows = []
    for c in convs:
        resolved: list[str] = []
        for turn in c["turns"]:
            resolved.append(substituted(resolve(turn, resolved, rarity)).query)
        r = substituted(resolve(c["followup"], resolved, rarity))  # as pipeline.py: another drug replaces the earlier one
        row = {**c, "query": r.query, "resolved_kind": r.kind, "carried": r.carried}
        found = {"last": rag.search(c["followup"], 10), "history": rag.search(r.query, 10), "full": rag.search(c["full"], 10)}
        found["fused"] = fuse(found["history"], found["last"], 10) if r.kind == "pronoun" else found["history"]
        for name in CONDITIONS:
            ranked = [p.id for p in found[name]]
            row[name] = {"recall@3": recall_at(ranked, qrels[c["id"]], 3), "ndcg@10": ndcg_at(ranked, qrels[c["id"]], 10)}
        rows.append(row)
    summary = {}
    for kind in KINDS:
        rs = [r for r in rows if r["kind"] == kind]
        if not rs:
            continue
        s = {"n": len(rs), "rewritten": sum(r["query"] != r["followup"] for r in rs) / len(rs)}
        for name in CONDITIONS:
            for m in ("recall@3", "ndcg@10"):
                s[f"{name} {m}"] = sum(r[name][m] for r in rs) / len(rs)
        for m in ("recall@3", "ndcg@10"):
            s[f"ratio {m}"] = s[f"history {m}"] / s[f"full {m}"] if s[f"full {m}"] else None
        summary[kind] = s
    return summary, rows


def subcorpus(ds, questions: dict[str, str], per_split: int, size: int):
    """(dataset with a smaller corpus, the target question ids): the first `per_split` questions of
    each split (sha1 order) are the targets; the corpus is their gold snippets plus other snippets
    in sha1 order up to `size` passages. It does not depend on how conversations are built, so dev
    and test and every version of the generator share one collection; every condition searches it."""
    from dataclasses import replace

    targets = set()
    for sp in ("dev", "test"):
        ids = sorted((q for q in questions if split_of(q) == sp), key=lambda q: key("order", q))
        targets.update(ids[:per_split])
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
    ap.add_argument("--bioasq-questions", type=int, default=250,
                    help="BioASQ targets per split (the first in sha1 order); their gold snippets are in the corpus")
    ap.add_argument("--bioasq-passages", type=int, default=6000,
                    help="BioASQ corpus: the targets' gold snippets plus other snippets (a deterministic "
                         "sample) up to this many; 0 = all 21,257 (slow to embed)")
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
            ds, targets["bioasq"] = subcorpus(ds, qs, args.bioasq_questions, args.bioasq_passages)
        index = build_collection(ds, EVAL_INDEXES, Embedder(), progress=sys.stderr.isatty(),
                                 name=f"followup-bioasq-{args.bioasq_questions}-{len(ds.corpus)}" if args.bioasq_passages else None)
        b = RagMed(collection=index.name, index_dir=EVAL_INDEXES)
        sets.append(("bioasq", b, qs, ds.qrels))
    for name, rag, qs, qrels in sets:
        convs = build(qs, args.split, args.limit, collection_rarity(rag.index.lexical_snapshot()), targets.get(name))
        results[name], all_rows[name] = evaluate(rag, convs, qrels)
    data = {"split": args.split, "limit": args.limit, "results": results, "goals": GOALS,
            "seconds": round(time.time() - t0, 1),
            "command": f"python -m benchmarks.followup_retrieval --split {args.split} --limit {args.limit}"
                       f" --dataset {args.dataset} --bioasq-questions {args.bioasq_questions}"
                       f" --bioasq-passages {args.bioasq_passages}"}
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
             "Recall@3 and nDCG@10 of the follow-up, searched as the last message only, history-aware as "
             "ragmed retrieves (the resolved query alone: ragmed/retrieve/followup.py `resolve`), fused (the "
             "alternative ragmed does not use: the resolved query fused with the follow-up as written when a "
             "pronoun was resolved, `fuse`) and fully specified; ratio = history-aware / fully specified "
             f"(goal >= {GOALS['ratio_to_full']}); standalone = a self-contained follow-up (goal: history-aware "
             "no worse than alone, i.e. than `last`).", ""]
    for name, res in data["results"].items():
        if name == "bioasq" and "--bioasq-passages 0" not in data["command"]:
            lines += ["BioASQ is searched in a sub-corpus, to bound the embedding time: the gold snippets of the first "
                      "`--bioasq-questions` questions of each split (the conversations' targets) plus other snippets "
                      "in sha1 order up to `--bioasq-passages` passages (of 21,257).", ""]
        lines += [f"## {name}", "", "| kind | n | rewritten | R@3 last | R@3 history | R@3 fused | R@3 full | ratio | "
                  "nDCG@10 last | nDCG@10 history | nDCG@10 fused | nDCG@10 full | ratio |", "|" + "---|" * 13]
        for kind, s in res.items():
            def f(x):
                return "-" if x is None else f"{x:.3f}"
            lines.append(f"| {kind} | {s['n']} | {s['rewritten']:.2f} | "
                         + " | ".join(f(s[f"{c} recall@3"]) for c in CONDITIONS) + f" | {f(s['ratio recall@3'])} | "
                         + " | ".join(f(s[f"{c} ndcg@10"]) for c in CONDITIONS) + f" | {f(s['ratio ndcg@10'])} |")
        lines += ["", "Examples (turns -> follow-up -> searched for):", ""]
        for e in examples[name]:
            lines.append(f"- {e['kind']}: {' / '.join(e['turns'])} -> \"{e['followup']}\" -> \"{e['query']}\"")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
