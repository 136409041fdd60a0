"""Pronoun follow-ups (issue 21) on real indexed text: "it" is replaced by one noun phrase of the
previous turn (never a verb or participle), the running topic carries into a third turn, and
retrieval searches the resolved query (real PDFs of ../shared/eval, real MiniLM, Chroma and BM25).

The conversations are generated from the collection's own chunks: a term E (a name or term, rare in
the collection) found in two chunks A and B gives turn 1 = a short window of a sentence of A around
E, follow-up = a short window of a sentence of B with E replaced by "it" (gold: chunk B)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import GUIDELINES, need_eval
from ragmed.retrieve.followup import PHRASE_MAX, antecedent, collection_rarity, fuse, resolve
from ragmed.retrieve.nounphrase import plural
from ragmed.tokenize import tokenize

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
PRONOUNS = {"it", "its", "they", "them", "their", "this", "these", "those"}
PDFS = ("cdc-2023-what-you-need-to-know-about-tb.pdf", "niddk-eating-and-diabetes.pdf", "who-emro-2019-healthy-diet.pdf")


@pytest.fixture(scope="module")
def small_guidelines(tmp_path_factory):
    need_eval("guidelines")
    from ragmed import RagMed

    rag = RagMed(collection="followup", index_dir=tmp_path_factory.mktemp("fidx"))
    report = rag.ingest([GUIDELINES / p for p in PDFS], progress=False)
    assert report.ok, report.to_dict()
    return rag


def window(words: list[str], i: int, replace: str | None = None) -> str:
    """Up to 10 words from 3 before word i; word i replaced by `replace` when given."""
    lo = max(0, i - 3)
    ws = words[lo:lo + 10]
    if replace is not None:
        ws[i - lo] = replace
    text = " ".join(ws).strip(" ,;:.")
    return text[:1].upper() + text[1:] + "?"


def ends_phrase(words: list[str], e: str) -> bool:
    """E ends a noun phrase in the sentence (no content word follows it: "it" stands for a thing,
    not for an adjective as in "it patterns") and is no verb or adverb form."""
    i = words.index(e)
    return not e.endswith(("ly", "ed", "ing")) and (i + 1 == len(words) or not tokenize(words[i + 1]))


def conversations(rag) -> list[dict]:
    """Generated 2- and 3-turn pronoun conversations over the collection's chunks (see the module
    docstring), at most one per term, deterministic."""
    from wordfreq import zipf_frequency

    got = rag.index.chroma().get(include=["documents", "metadatas"])
    # ordered by file name and chunk number, not by chunk id: ids hash the file's path, and the
    # generated set must not change with the folder the project is checked out in
    rows = sorted(zip(got["ids"], got["documents"], got["metadatas"]),
                  key=lambda r: (Path(r[2]["source"]).name, r[2]["index"]))
    order = {cid: n for n, (cid, _, _) in enumerate(rows)}
    sentences: dict[str, list[tuple[str, list[str]]]] = {}
    for cid, doc, _ in rows:
        for s in re.split(r"(?<=[.?!])\s+", " ".join(doc.split())):
            ws = WORD.findall(s)
            # a sentence that already holds a pronoun would make a follow-up with two of them
            if 8 <= len(ws) <= 40 and not PRONOUNS & {w.lower() for w in ws}:
                for w in set(ws):
                    if (w.isalpha() and w.islower() and len(w) >= 6 and zipf_frequency(w, "en") < 4.0
                            and len(tokenize(w)) == 1):
                        sentences.setdefault(w, []).append((cid, ws))
    out = []
    for e, found in sorted(sentences.items()):
        chunks = {c for c, _ in found}
        if len(chunks) < 2 or len(found) < 3:
            continue
        pairs = [(x, y) for x in found for y in found if order[x[0]] < order[y[0]] and ends_phrase(y[1], e)]
        if not pairs:
            continue
        (_, a), (cb, b) = pairs[0]
        c = next(ws for cid, ws in found if ws is not a and ws is not b)
        first = window(a, a.index(e))
        follow = window(b, b.index(e), "it")
        full = window(b, b.index(e))
        out.append({"term": e, "turns": [first], "followup": follow, "full": full, "gold": cb})
        out.append({"term": e, "turns": [first, window(c, c.index(e), "it")], "followup": follow,
                    "full": full, "gold": cb})
    return out


def resolved(conv: dict, rarity):
    history: list[str] = []
    for turn in conv["turns"]:
        history.append(resolve(turn, history, rarity).query)
    return resolve(conv["followup"], history, rarity), history


def test_pronoun_is_replaced_by_one_phrase_of_the_previous_turn(small_guidelines):
    rag = small_guidelines
    rarity = collection_rarity(rag.index.lexical_snapshot())
    convs = [c for c in conversations(rag) if len(c["turns"]) == 1]
    assert len(convs) >= 15, "too few generated conversations to measure"
    right = 0
    for c in convs:
        r, _ = resolved(c, rarity)
        assert r.kind in ("pronoun", "standalone", "elliptical"), (c, r)
        if r.kind == "elliptical":
            # a topic word before the pronoun ("Calcium vitamins and it?"): the follow-up continues turn 1
            assert r.query.startswith(c["turns"][0].rstrip(" ?")), (c, r)
        if r.kind != "pronoun":
            continue
        # one contiguous phrase of turn 1, never a bag of its rare words, and no "it" left
        assert r.carried in c["turns"][0] and len(r.carried.split()) <= PHRASE_MAX, (c, r)
        assert " it " not in f" {r.query.lower()} ", r
        right += c["term"] in r.carried.lower()
    # the referent is a guess: 10 of these 22 conversations carry the term (the old resolver carried
    # a bag of the rarest words of turn 1, failing the phrase check above)
    assert right / len(convs) >= 0.4, (right, len(convs))


def test_third_turn_keeps_the_running_topic(small_guidelines):
    rag = small_guidelines
    rarity = collection_rarity(rag.index.lexical_snapshot())
    convs = [c for c in conversations(rag) if len(c["turns"]) == 2]
    same = 0
    for c in convs:
        r, history = resolved(c, rarity)
        second = resolve(c["turns"][1], history[:1], rarity)
        if r.kind == "pronoun" and second.kind == "pronoun":
            same += r.carried.lower() == second.carried.lower()
    # "it" in turn 3 means what "it" meant in turn 2 (14 of these 22 conversations; the others
    # mostly resolve turn 2 or 3 as self-contained, or the generated list text has no phrase bounds)
    assert same / len(convs) >= 0.3, (same, len(convs))


def test_own_topic_and_self_contained_questions_are_left_alone(small_guidelines):
    rag = small_guidelines
    rarity = collection_rarity(rag.index.lexical_snapshot())
    before = ["What are the symptoms of latent tuberculosis infection?"]
    for q in ("Is the BCG vaccine given at birth and how long does it protect?",
              "What foods help manage diabetes?"):
        assert resolve(q, before, rarity).query == q
    r = resolve("How long is it treated?", before, rarity)
    assert r.kind == "pronoun" and "tuberculosis" in r.carried.lower() and len(r.carried.split()) <= PHRASE_MAX
    assert antecedent("What foods help manage diabetes?", "Is it safe?", rarity) != ""


def test_history_aware_retrieval_finds_the_follow_ups_passage(small_guidelines):
    """History-aware retrieval as the pipeline does it (the resolved query alone) finds the
    follow-up's chunk in the top 3 about as often as the follow-up alone, and the pipeline
    retrieves exactly that way (the fused alternative, `fuse`, lost on the benchmark's dev split)."""
    from ragmed import Turn

    rag = small_guidelines
    rarity = collection_rarity(rag.index.lexical_snapshot())
    convs = [c for c in conversations(rag) if len(c["turns"]) == 1]
    last = found = 0
    for c in convs:
        r, _ = resolved(c, rarity)
        alone = [p.id for p in rag.search(c["followup"], 10)]
        got = rag.search(r.query, 10)
        both = fuse(got, rag.search(c["followup"], 10), 10)
        assert [p.rank for p in both] == list(range(1, len(both) + 1))
        assert {p.id for p in both} <= {p.id for p in got} | set(alone)
        last += c["gold"] in alone[:3]
        found += c["gold"] in [p.id for p in got][:3]
    # these generated follow-ups keep 9 of their 10 words, so the follow-up alone is strong here (19 of
    # 22); the resolved query finds 18 (one wrong referent: "taking it" -> "active TB disease", not
    # "medicines"). The benchmark's pronoun conversations are where history matters (dev split,
    # Recall@3: 0.674 alone -> 0.811 resolved on guidelines)
    assert found >= 0.8 * len(convs) and found >= last - 1, (found, last, len(convs))
    c = next(c for c in convs if resolved(c, rarity)[0].kind == "pronoun")
    retrieval = rag.pipeline.retrieve(c["followup"], k=10, history=[Turn(question=c["turns"][0])])
    assert retrieval.resolution.kind == "pronoun"
    r, _ = resolved(c, rarity)
    assert [p.id for p in retrieval.passages] == [p.id for p in rag.search(r.query, 10, dedup=rag.settings.dedup)]


# a passive auxiliary makes the "-ed" word after it a participle ("should be prepared"), whatever
# the lexicon says: an oracle independent of the resolver's word classes (retrieve/nounphrase.py)
PASSIVE = re.compile(r"\b(?:be|been|being|is|are|was|were)\s+([a-z]{4,}ed)\b")
FOLLOW_UPS = ("How is it treated?", "What is it?", "Is it safe?", "How often is it needed?")


def participle_conversations(rag) -> list[dict]:
    """Turn 1 = a short window of a chunk sentence ending on a passive participle ("... formula
    should be prepared?"), follow-up = a pronoun question; one per participle, deterministic."""
    got = rag.index.chroma().get(include=["documents", "metadatas"])
    rows = sorted(zip(got["documents"], got["metadatas"]), key=lambda r: (Path(r[1]["source"]).name, r[1]["index"]))
    out, seen = [], set()
    for doc, _ in rows:
        text = " ".join(doc.split())
        for m in PASSIVE.finditer(text):
            p = m.group(1)
            if p in seen:
                continue
            before = WORD.findall(text[max(0, m.start() - 60):m.start()])[-4:]
            if len(before) < 2 or PRONOUNS & {w.lower() for w in before}:
                continue
            seen.add(p)
            first = " ".join(["How", *before[-3:], m.group(0).split()[0], p]) + "?"
            out.append({"participle": p, "turns": [first], "followup": FOLLOW_UPS[len(out) % len(FOLLOW_UPS)]})
    return out


def test_a_participle_is_never_carried_as_the_antecedent(small_guidelines):
    """"How should infant formula be prepared?" then "How is it treated?" must not search for "How is
    prepared treated?": the antecedent is a noun phrase, never the earlier question's verb or
    participle (a newcomer's finding), on generated questions ending on a participle."""
    rag = small_guidelines
    rarity = collection_rarity(rag.index.lexical_snapshot())
    convs = participle_conversations(rag)
    assert len(convs) >= 15, "too few generated conversations to measure"
    carried = 0
    for c in convs:
        r, _ = resolved(c, rarity)
        if r.kind != "pronoun":
            continue
        carried += 1
        words = [w.lower() for w in WORD.findall(r.carried)]
        assert c["participle"] not in words, (c, r)
        assert r.carried in c["turns"][0], (c, r)
    # the resolver before this test carried the participle in 10 of these 18 ("How is diagnosed
    # treated?"); most resolve to a noun phrase of turn 1 instead ("breast milk", "nutrition targets")
    assert carried >= 0.5 * len(convs), (carried, len(convs))
    for rarity_ in (None, rarity):  # the newcomer's own case, with and without collection statistics
        r = resolve("How is it treated?", ["How should infant formula be prepared?"], rarity_)
        assert r.kind == "pronoun" and "prepared" not in r.query and "formula" in r.carried, r


@pytest.mark.parametrize("drug", ["ramipril", "amlodipine", "praziquantel", "metformin"])
def test_they_stands_for_a_plural_phrase_not_a_drug_named_alone(drug):
    """'How often are they seen once stable?' after '... dose of ramipril?' is not about ramipril;
    'it' still is, and 'they' still takes a plural phrase."""
    history = [f"What is the starting dose of {drug}?"]
    assert drug not in resolve("How often are they seen once stable?", history).query
    assert drug in resolve("How long does it take to work?", history).query
    found = resolve("How often are they checked?", [f"Which blood tests do {drug} users need?"])
    assert found.kind == "pronoun" and plural(found.carried) and drug not in found.carried, found
