"""Evaluation data for the trust features, built from the third-party material in ../shared/eval.

- `gold_statements`: the page-located verbatim statements of the CDC 2022 opioid guideline.
- `checker_pairs`: claim-passage pairs for the citation checker. For each gold sentence: the true
  passage (the indexed chunk that contains it), with the sentence as written and paraphrased (fixed
  synonym table, e.g. "clinicians should" -> "doctors ought to"); plausible wrong ones (chunks of
  the same document from another page: the `NEGATIVE_RANK`-th most similar, and the most similar,
  which is often a genuine restatement); and, when it states numbers, the true passage with the
  claim's numbers altered.
- `answerable_questions`: questions rewritten from gold statements ("Clinicians should X" ->
  "Should clinicians X?"), which the opioid guideline answers.
- `unanswerable_questions`: MedQuAD and PubMedQA questions whose topic is outside the 8 guidelines
  (any question mentioning a guideline topic word is left out).

Splits follow the project rule: dev = sha1(id) starts with 0-b, test = c-f.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import split_sentences

OPIOID_PDF = "cdc-2022-opioid-prescribing-guideline.pdf"

# Topics of the 8 guideline PDFs (opioids and pain, infection prevention, TB, diabetes and eating,
# schistosomiasis, malaria, healthy diet): a question mentioning any of these is not "unanswerable".
GUIDELINE_TOPICS = re.compile(
    r"opioid|opiate|pain|analges|morphine|fentanyl|oxycod|hydrocod|heroin|naloxone|buprenorph|methadone|"
    r"overdose|substance|addict|drug use|infect|hygien|hand wash|steril|disinfect|tubercul|\btb\b|latent|"
    r"diabet|glucose|insulin|sugar|diet|eat|food|nutri|obes|weight|salt|sodium|fat\b|fats|malaria|plasmod|"
    r"mosquito|schistosom|bilharz|praziquantel|worm|parasit|artemisin|hiv|aids\b|pregnan|vaccin|antibiot|"
    r"surgery|surgical|sepsis|mask|glove|outbreak|isolation|health.?care.associated|cough|fever|vegetable|"
    r"fruit|drink|alcohol|cannabis|benzodiazep|dose|prescri|tapering",
    re.IGNORECASE,
)


def gold_statements(base: Path) -> list[tuple[str, int, str]]:
    """(region id, physical page, verbatim text) of the CDC opioid gold set (718 regions)."""
    gold = []
    for f in sorted(base.glob("*-extraction.txt")):
        if f.name.startswith("box3"):
            continue
        lines = f.read_text(encoding="utf-8").split("\n")
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
    body = box[box.index("") + 1:] if "" in box else []
    regions = [re.sub(r"^\d+\.\s+", "", ln).strip() for ln in body if ln.strip()]
    if len(regions) == 16 and len(pages) == 16:
        gold += [(f"B3-{i:02d}", pages[f"B3-{i:02d}"], text) for i, text in enumerate(regions, 1)]
    return gold


def alnum(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", s.lower())


def gold_sentences(gold, min_words: int = 8) -> list[tuple[str, int, str]]:
    """The gold statements split into sentences (the unit a claim is), with ids "<region>#<i>"."""
    out = []
    for gid, page, text in gold:
        spans = split_sentences(text, 0, len(text))
        for i, (s, e) in enumerate(spans):
            sent = text[s:e].strip()
            if len(_words(sent)) >= min_words:
                out.append((f"{gid}#{i}", page, sent))
    return out


@dataclass(frozen=True)
class Pair:
    id: str  # gold sentence id + ":true" | ":other-page" | ":numbers"
    claim: str
    passage: str
    supported: bool  # the truth


def _shingles(words: list[str], n: int = 8) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _alter_numbers(claim: str, passage_numbers: set[str]) -> str | None:
    """The claim with every number changed to one the passage does not state (None: no number)."""
    changed = False

    def swap(m: re.Match) -> str:
        nonlocal changed
        v = float(m.group(0))
        for cand in (v * 2, v + 1, v + 3, v * 3 + 1, v + 7):
            s = f"{cand:g}"
            if s not in passage_numbers:
                changed = True
                return s
        return m.group(0)

    out = re.sub(r"(?<![\w.])\d+(?:\.\d+)?(?![\d])", swap, claim)
    return out if changed else None


# A fixed synonym table for paraphrased claims: the way an answer restates a guideline sentence.
PARAPHRASE = {
    "clinicians": "doctors", "clinician": "doctor", "patients": "people", "patient": "person",
    "should": "ought to", "consider": "think about", "considered": "taken into account",
    "discuss": "talk about", "benefits": "advantages", "risks": "dangers", "risk": "danger",
    "before": "prior to", "increase": "raise", "increased": "raised", "reduce": "lower",
    "reduced": "lowered", "evaluate": "assess", "evaluated": "assessed", "avoid": "stay away from",
    "use": "usage", "therapy": "treatment", "therapies": "treatments", "prescribing": "ordering",
    "prescribe": "order", "determine": "decide", "ensure": "make sure", "including": "such as",
    "however": "but", "recommended": "advised", "recommends": "advises", "additional": "extra",
    "approximately": "about", "individuals": "people", "persons": "people", "offer": "provide",
    "assess": "evaluate", "important": "essential", "difficult": "hard", "obtain": "get",
    "physicians": "doctors", "medications": "medicines", "medication": "medicine", "start": "begin",
    "starting": "beginning", "initiating": "beginning", "help": "assist", "harms": "damage",
}
_PARA = re.compile(r"\b(" + "|".join(sorted(PARAPHRASE, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def paraphrase(sentence: str, min_changes: int = 2) -> str | None:
    """The sentence with `PARAPHRASE` synonyms swapped in (None: fewer than `min_changes` swaps)."""
    n = 0

    def swap(m: re.Match) -> str:
        nonlocal n
        n += 1
        word = PARAPHRASE[m.group(0).lower()]
        return word.capitalize() if m.group(0)[0].isupper() else word

    out = _PARA.sub(swap, sentence)
    return out if n >= min_changes else None


# The "other page" negative is the NEGATIVE_RANK-th most similar chunk of another page: the very
# nearest ones often restate the claim in other words (the guideline repeats each recommendation in
# boxes, summaries and discussion), so they are kept as a separate, noisier "nearest-other-page" set.
NEGATIVE_RANK = 6


def checker_pairs(sentences, chunks: list[tuple[str, int, int]], embedder) -> tuple[list[Pair], int]:
    """Claim-passage pairs (see the module docstring) and how many sentences had no single chunk
    containing them (skipped). `chunks` = (text, page_start, page_end) of the guideline's chunks."""
    from ..ground.verify import numbers

    norm = [alnum(t) for t, _, _ in chunks]
    chunk_words = [_words(t) for t, _, _ in chunks]
    chunk_vecs = np.asarray(embedder.embed([t for t, _, _ in chunks]))
    kept = []
    for sid, page, sent in sentences:
        a = alnum(sent)
        true = next((i for i, n in enumerate(norm) if a in n), None)
        if true is not None:
            kept.append((sid, page, sent, true))
    claim_vecs = np.asarray(embedder.embed([s for _, _, s, _ in kept])) if kept else np.zeros((0, 1))
    pairs: list[Pair] = []
    for (sid, page, sent, true), vec in zip(kept, claim_vecs):
        text = chunks[true][0]
        pairs.append(Pair(f"{sid}:true", sent, text, True))
        para = paraphrase(sent)
        if para:
            pairs.append(Pair(f"{sid}:paraphrase", para, text, True))
        sh = _shingles(_words(sent))
        order = [int(i) for i in np.argsort(-(chunk_vecs @ vec), kind="stable")]
        rank = 0
        for i in order:
            t, a, b = chunks[i]
            if a <= page <= b or chunks[true][1] <= a <= chunks[true][2]:
                continue  # same page: not "another page"
            if sh & _shingles(chunk_words[i]):
                continue  # restates the claim word for word: not a wrong passage
            rank += 1
            if rank == 1:
                pairs.append(Pair(f"{sid}:nearest-other-page", sent, t, False))
            if rank == NEGATIVE_RANK:
                pairs.append(Pair(f"{sid}:other-page", sent, t, False))
                break
        altered = _alter_numbers(sent, numbers(text))
        if altered:
            pairs.append(Pair(f"{sid}:numbers", altered, text, False))
    return pairs, len(sentences) - len(kept)


NOISY = "nearest-other-page"  # often a genuine restatement: reported, not part of the goal


def guideline_chunks(rag, pdf: Path) -> list[tuple[str, int, int]]:
    """(text, page_start, page_end) of every indexed chunk of one document."""
    got = rag.index.chroma().get(where={"source": str(pdf.resolve())}, include=["documents", "metadatas"])
    return [(d, m["page_start"], m["page_end"]) for d, m in zip(got["documents"], got["metadatas"])]


def check_pairs(checker, pairs: list[Pair]) -> list:
    """The checker's `Verdict` on each pair (passages embedded in one batch)."""
    checker.prepare([p.passage for p in pairs])
    vecs = checker.embed_claims([p.claim for p in pairs])
    return [checker.check(p.claim, [p.passage], v) for p, v in zip(pairs, vecs)]


def checker_scores(verdicts, pairs: list[Pair], decide, noisy: bool = False) -> dict:
    """Precision and recall of "supported" (`decide(verdict)`), and correct answers by pair kind;
    the noisy kind is left out of precision/recall unless `noisy`."""
    tp = fp = fn = 0
    by_kind: dict[str, list[int]] = {}
    for v, p in zip(verdicts, pairs):
        said = decide(v)
        kind = p.id.rsplit(":", 1)[1]
        by_kind.setdefault(kind, [0, 0])
        by_kind[kind][0] += said == p.supported
        by_kind[kind][1] += 1
        if kind == NOISY and not noisy:
            continue
        tp += said and p.supported
        fp += said and not p.supported
        fn += (not said) and p.supported
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0, "pairs": len(pairs),
            "correct_by_kind": {k: f"{a}/{n}" for k, (a, n) in sorted(by_kind.items())}}


# -- abstention questions -----------------------------------------------------------------------

_MODAL = re.compile(r"^(?P<subj>[A-Z][^,;:()]{2,80}?) (?P<verb>should|can|could|may|might|must|will|is|are|does|do)"
                    r" (?P<rest>.+)$")


def to_question(statement: str) -> str | None:
    """A guideline statement's first sentence as a question: "Clinicians should X." -> "Should
    clinicians X?"; other statements -> "What does the guideline say about <its first words>?"."""
    spans = split_sentences(statement, 0, len(statement))
    first = statement[spans[0][0]:spans[0][1]].strip() if spans else statement.strip()
    first = re.sub(r"\s*\([^)]*\)", "", first).rstrip(" .;:")
    words = first.split()
    if len(words) < 6 or words[0].lower() in {"this", "these", "that", "those", "it", "they", "such"}:
        return None  # needs the sentence before it to make sense
    if len(words[0]) > 1 and words[0][1:].islower():
        words[0] = words[0].lower()
    m = _MODAL.match(first)
    if m and len(m.group("subj").split()) <= 8:
        subj = " ".join(words)[: len(m.group("subj"))]
        return f"{m.group('verb').capitalize()} {subj} {m.group('rest')}?"
    return f"What does the guideline say about {' '.join(words[:12]).rstrip(',;')}?"


def answerable_questions(gold) -> list[tuple[str, str]]:
    """(id, question) from the gold statements, one per region that yields a question."""
    out, seen = [], set()
    for gid, _, text in gold:
        q = to_question(text)
        if q and q.lower() not in seen:
            seen.add(q.lower())
            out.append((gid, q))
    return out


def unanswerable_questions(eval_dir: Path, per_source: int = 400) -> list[tuple[str, str]]:
    """(id, question): MedQuAD and PubMedQA questions off the guidelines' topics, a deterministic
    sample of `per_source` from each (ordered by a salted sha1 of the id, so that the sample does not
    depend on the dev/test split, which is by the plain sha1)."""
    import hashlib

    def sample(items):
        items = [(i, q) for i, q in items if not GUIDELINE_TOPICS.search(q)]
        items.sort(key=lambda x: hashlib.sha1(b"sample:" + x[0].encode()).hexdigest())
        return items[:per_source]

    medquad, seen = [], set()
    path = eval_dir / "liveqa_medquad" / "medquad" / "medquad_answered_qa.jsonl"
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            q = " ".join(r["question"].split())
            if q.lower() not in seen and not GUIDELINE_TOPICS.search(r.get("focus", "")):
                seen.add(q.lower())
                medquad.append((f"medquad:{r['qid']}", q))
    pqa = json.loads((eval_dir / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    pubmed = [(f"pubmedqa:{pid}", " ".join(r["QUESTION"].split())) for pid, r in pqa.items()]
    return sample(medquad) + sample(pubmed)
