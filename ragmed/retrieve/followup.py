"""History-aware retrieval: a follow-up question turned into a standalone search query.

    resolve("and for children?", ["What are the symptoms of TB?"])
    -> Resolution(query="What are the symptoms of TB for children?", kind="elliptical", ...)
    resolve("How is it treated?", ["What are the symptoms of tuberculosis?"], rarity)
    -> Resolution(query="How is tuberculosis treated?", kind="pronoun", ...)
    resolve("What is the dose of amoxicillin for otitis media?", [...])
    -> Resolution(query=<unchanged>, kind="standalone")

Deterministic and fast (no model): a follow-up is *dependent* when it
- uses a pronoun or a demonstrative noun phrase ("it", "they", "this drug", "these patients") that
  no topic word of its own comes before (a rare word of the collection that is not everyday
  English): the pronoun is replaced by ONE noun phrase of the previous question (`antecedent`: the
  conversation's running topic first, else the phrase the collection mentions together with the
  follow-up's own words, else the rarest), not by every topic word of it, which diluted the query;
  retrieval then also searches the follow-up as written and fuses both lists (`fuse`), since the
  referent is a guess;
- else is elliptical: it opens with "and", "what about", "how about", "also", "or" ..., or with a
  preposition ("in children?"), or has at most `MAX_ELLIPTICAL_TERMS` search terms and no topic of
  its own; the earlier question is carried whole, the follow-up's own words appended
  ("... of TB" + "for children").
A self-contained question is left alone. The earlier questions should be the earlier turns'
*resolved* queries, so a topic carries over several turns.

The rules and constants were chosen on the dev split of benchmarks/followup_retrieval.py (results in
benchmarks/results/followup_retrieval_dev_*.md), which also measures them against the last message alone
and the fully specified question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from ..tokenize import tokenize

# Openers that make a question elliptical: it continues the previous one.
OPENERS = ("and what about", "and how about", "what about", "how about", "what if", "and also", "and",
           "also", "or", "but", "same for", "then")
PRONOUNS = frozenset("it its they them their theirs itself themselves he she him his her".split())
DEMONSTRATIVES = frozenset("this these those that such the same".split())
# Nouns that, after a demonstrative ("this drug", "these patients"), stand for the earlier topic.
ANAPHORIC_NOUNS = frozenset(
    """drug drugs medicine medicines medication medications treatment treatments therapy therapies
    condition conditions disease diseases disorder disorders infection infections illness gene genes
    protein proteins patient patients group groups population populations test tests procedure
    procedures vaccine vaccines agent agents compound compounds one ones case cases syndrome
    recommendation recommendations guideline guidelines intervention interventions virus bacteria
    mutation mutations""".split())
# Question words that carry no topic (a fallback when no collection statistics are given).
GENERIC = frozenset(
    """what which who whom whose when where why how describe explain list name tell give show does do
    is are was were can could should would may might must effect effects role cause causes caused
    treatment treated treat symptoms symptom sign signs risk risks dose doses dosage use used using
    mechanism action function associated association patients people type types common main best
    recommended recommendation recommend guideline guidelines clinicians clinician say says said""".split())
# Words that end a noun phrase (with the prepositions and question words below); an adverb ("-ly") and
# an everyday first word ("Avoid ...", "Arrange ...": a verb) do too.
BREAKS = frozenset("and or but nor not than as if whether because although while so".split())
MAX_ELLIPTICAL_TERMS = 2  # a question with this many search terms or fewer continues the previous one
TOPIC_DF = 0.02  # a topic word occurs in at most this share of the collection's chunks
TOPIC_MAX = 3  # at most this many topic words (the rarest) name an earlier question's topic
ANTECEDENT_DF = 0.1  # an antecedent phrase holds a word in at most this share of the chunks (dev split;
# looser than TOPIC_DF: the candidates are few, and in a small collection a topic fills many chunks)
PHRASE_MAX = 3  # a pronoun is replaced by a noun phrase of at most this many words
HISTORY_WEIGHT = 1.5  # `fuse`: the resolved query's list weighs this much against the follow-up's own (1)
EVERYDAY_ZIPF = 4.5  # wordfreq Zipf scale: 4.5 = ~30 per million words ("approximately" 4.6, "diabetes" 4.2)

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass(frozen=True)
class Resolution:
    """The search query for a question in a conversation.

    `query`: what retrieval searched for (the question itself when `kind` is "standalone");
    `kind`: "standalone" (no history used), "elliptical" or "pronoun"; `carried`: the earlier
    words carried into the query."""

    question: str
    query: str
    kind: str = "standalone"
    carried: str = ""

    @property
    def rewritten(self) -> bool:
        return self.query != self.question

    def to_dict(self) -> dict:
        return {"question": self.question, "query": self.query, "kind": self.kind, "carried": self.carried}


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def opener(question: str) -> str:
    """The elliptical opener the question starts with ("" when none)."""
    low = " ".join(_words(question.lower()))
    for o in OPENERS:
        if low == o or low.startswith(o + " "):
            return o
    return ""


def anaphor(question: str) -> tuple[int, int] | None:
    """(start, end) of the first pronoun or demonstrative noun phrase in the question, else None.
    "that" and "this" count only before an anaphoric noun or at the end ("what causes this?")."""
    ms = list(_WORD.finditer(question))
    for i, m in enumerate(ms):
        w = m.group(0).lower()
        if w in PRONOUNS:
            return m.start(), m.end()
        if w in DEMONSTRATIVES and w not in ("the", "same"):
            nxt = ms[i + 1].group(0).lower() if i + 1 < len(ms) else ""
            if nxt in ANAPHORIC_NOUNS:
                return m.start(), ms[i + 1].end()
            if not nxt and w in ("this", "that", "these", "those"):
                return m.start(), m.end()
    return None


def everyday(word: str) -> bool:
    """An everyday English word ("case", "approximately", "children": Zipf frequency at least
    `EVERYDAY_ZIPF` in wordfreq's lookup tables), which names no topic however rare in the collection."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en") >= EVERYDAY_ZIPF


def topic_words(question: str, rarity: Callable[[list[str]], dict[str, float]] | None = None,
                earlier: Sequence[str] = ()) -> list[str]:
    """The words of an earlier question that name its topic, in their order.

    `rarity(terms)`: each search term's share of the collection's chunks that contain it (0-1; see
    `collection_rarity`). Words whose terms are all at most `TOPIC_DF` are kept, else the rarest
    word. Without `rarity`: the words outside `GENERIC` and the stopwords. `earlier`: the questions
    before it; their words rank first (a topic running through the conversation)."""
    words = [w for w in _words(question) if tokenize(w)]
    if rarity is None:
        return [w for w in words if w.lower() not in GENERIC]
    terms = {w: tokenize(w) for w in words}
    share = rarity(sorted({t for ts in terms.values() for t in ts}))
    score = {w: max(share.get(t, 0.0) for t in ts) for w, ts in terms.items()}
    limit = max(TOPIC_DF, getattr(rarity, "floor", 0.0))
    keep = [w for w in words if score[w] <= limit and w.lower() not in GENERIC and not everyday(w)]
    if not keep and words:
        keep = [min(words, key=lambda w: (score[w], words.index(w)))]
    seen: set[str] = set()
    keep = [w for w in keep if not (w.lower() in seen or seen.add(w.lower()))]
    running = {w.lower() for q in earlier for w in _words(q)}  # the conversation's running topic first
    rarest = set(sorted(keep, key=lambda w: (w.lower() not in running, score[w], keep.index(w)))[:TOPIC_MAX])
    return [w for w in keep if w in rarest]


def resolve(question: str, history: Sequence[str],
            rarity: Callable[[list[str]], dict[str, float]] | None = None) -> Resolution:
    """The standalone search query of `question` given the earlier questions (oldest first; best:
    their resolved queries). See the module docstring for the rules."""
    q = question.strip()
    earlier = [h.strip() for h in history if h and h.strip()]
    if not earlier:
        return Resolution(q, q)
    prev = earlier[-1]
    op = opener(q)
    span = anaphor(q)
    if span is not None and _own_topic(q[:span[0]], rarity):
        span = None  # "What is X and how is it given?": the pronoun points inside the question
    if span is not None:
        topic = antecedent(prev, q, rarity, earlier[:-1])
        if topic:
            a, b = span
            w = q[a:b].lower()
            filler = topic + ("'s" if w in ("its", "their", "theirs", "his") else "")
            query = (q[:a] + filler + q[b:]).strip()
            rest = _strip_opener(query, op) if op else query
            return Resolution(q, rest[:1].upper() + rest[1:], "pronoun", topic)
    if op or (span is None and _fragment(q, rarity)):
        rest = _strip_opener(q, op).rstrip(" ?.!")
        base = prev.rstrip(" ?.!")
        if rest[:1].isupper() and not rest[1:2].isupper():
            rest = rest[:1].lower() + rest[1:]  # "In children" continues the sentence
        if rest and re.search(rf"(?<!\w){re.escape(rest.lower())}$", base.lower()):
            rest = ""  # the earlier query already ends so ("... for children" + "and for children?")
        query = f"{base} {rest}?" if rest else f"{base}?"
        return Resolution(q, query, "elliptical", base)
    return Resolution(q, q)


def antecedent(prev: str, question: str, rarity: Callable[[list[str]], dict[str, float]] | None = None,
               earlier: Sequence[str] = ()) -> str:
    """The noun phrase of `prev` a pronoun in `question` stands for: the best of `antecedents` ("" when
    none)."""
    found = antecedents(prev, question, rarity, earlier)
    return found[0] if found else ""


def antecedents(prev: str, question: str, rarity: Callable[[list[str]], dict[str, float]] | None = None,
                earlier: Sequence[str] = ()) -> list[str]:
    """The noun phrases of the previous question `prev` that a pronoun in `question` may stand for,
    best first ([] when none): each one phrase, not every topic word of `prev` (carrying them all
    diluted the query).

    Candidates: runs of adjacent content words of `prev` (not `GENERIC`, not stopwords; a comma, a
    function word, an adverb or an everyday first word ends a run; words carried from an earlier turn
    form their own run) holding a topic word (in at most `ANTECEDENT_DF` of the chunks and not
    everyday English; without `rarity`, any word), cut to `PHRASE_MAX` words from the rarest on,
    and not already all in `question`. The chosen one is, in this order: a phrase the earlier turns
    also name (the conversation's running topic: in a third turn "it" still means the first turn's
    subject); the phrase found in one chunk together with the most of the follow-up's own rare terms
    (`rarity.cooccurrence`, summed inverse document frequency: the referent that makes the follow-up
    a thing the collection says); the rarest; the latest."""
    ms = list(_WORD.finditer(prev))
    runs: list[list[int]] = []
    for i, m in enumerate(ms):
        low = m.group(0).lower()
        ok = (bool(tokenize(low)) and not any(low in ws for ws in (GENERIC, PRONOUNS, DEMONSTRATIVES, BREAKS,
                                                                    PREPOSITIONS, QUESTION_WORDS))
              and not low.endswith("ly") and not (i == 0 and everyday(low)))
        joined = bool(runs) and runs[-1] and runs[-1][-1] == i - 1 and not prev[ms[i - 1].end():m.start()].strip()
        if ok and joined:
            runs[-1].append(i)
        elif ok:
            runs.append([i])
    if not runs:
        return []
    words = [m.group(0) for m in ms]
    terms = {w: tokenize(w) for w in words}
    limit = max(ANTECEDENT_DF, getattr(rarity, "floor", 0.0))
    share: dict[str, float] = rarity(sorted({t for ts in terms.values() for t in ts})) if rarity else {}
    score = {w: max((share.get(t, 0.0) for t in ts), default=1.0) for w, ts in terms.items()}
    asked = {w.lower() for w in _words(question)}
    running = {w.lower() for q in earlier for w in _words(q)}
    if running:  # a phrase carried from an earlier turn stays one candidate, apart from its neighbours
        runs = [part for run in runs for part in _split_where(run, lambda i: words[i].lower() in running)]
    own = [t for t in tokenize(question) if t not in share or share[t] <= 0.5]
    cands = []
    for run in runs:
        topic = [i for i in run if rarity is None or (score[words[i]] <= limit and not everyday(words[i]))]
        if not topic:
            continue
        r = min(topic, key=lambda i: (score[words[i]], i))
        lo = max(run[0], min(r, run[-1] - PHRASE_MAX + 1))
        span = [i for i in run if lo <= i < lo + PHRASE_MAX]
        if all(words[i].lower() in asked for i in span):
            continue
        phrase_terms = [t for i in span for t in terms[words[i]]]
        cooc = rarity.cooccurrence(phrase_terms, own) if hasattr(rarity, "cooccurrence") else 0.0
        cont = sum(words[i].lower() in running for i in span if i in topic) / len(topic)
        text = prev[ms[span[0]].start():ms[span[-1]].end()]
        cands.append(((cont, round(cooc, 6), -score[words[r]], span[0]), text))
    if not cands and rarity is not None:
        best = min((w for w in words if terms[w] and w.lower() not in asked), key=lambda w: score[w], default="")
        return [best] if best else []
    return [text for _, text in sorted(cands, reverse=True)]


def _split_where(run: list[int], inside: Callable[[int], bool]) -> list[list[int]]:
    """`run` cut where `inside` changes value: [1, 2, 3] with inside(2) only -> [[1], [2], [3]]."""
    parts: list[list[int]] = []
    for i in run:
        if parts and inside(parts[-1][-1]) == inside(i):
            parts[-1].append(i)
        else:
            parts.append([i])
    return parts


PREPOSITIONS = frozenset("in for during with after before among at on without within by from versus vs".split())
QUESTION_WORDS = frozenset("what which who whom whose when where why how is are was were does do did can could "
                           "should would may might must will".split())


def _own_topic(text: str, rarity) -> bool:
    """Whether `text` (the words before a pronoun) names a topic of its own: a word rare in the
    collection (with `rarity`), else a word outside `GENERIC`."""
    if rarity is None:
        return bool(topic_words(text)) if text.strip() else False
    words = [w for w in _words(text) if tokenize(w) and w.lower() not in GENERIC and not everyday(w)]
    if not words:
        return False
    share = rarity(sorted({t for w in words for t in tokenize(w)}))
    limit = max(TOPIC_DF, getattr(rarity, "floor", 0.0))
    # a word the collection does not hold (share 0) cannot be what the question is searched by
    return any(0 < max(share.get(t, 0.0) for t in tokenize(w)) <= limit for w in words)


def _fragment(q: str, rarity) -> bool:
    """A fragment that continues the previous question: it opens with a preposition ("in
    children?"), or it has at most `MAX_ELLIPTICAL_TERMS` search terms and is not a question of its
    own about a topic of its own ("What is tuberculosis?" is one)."""
    words = _words(q.lower())
    if not words:
        return False
    if words[0] in PREPOSITIONS:
        return True
    if len(tokenize(q)) > MAX_ELLIPTICAL_TERMS:
        return False
    return words[0] not in QUESTION_WORDS or not _own_topic(q, rarity)


def _strip_opener(q: str, op: str) -> str:
    if not op:
        return q.strip()
    pattern = r"^\W*" + r"\W+".join(map(re.escape, op.split())) + r"\b[\s,]*"
    return re.sub(pattern, "", q.strip(), flags=re.I).strip()


def fuse(resolved: Sequence, asked: Sequence, k: int) -> list:
    """The passages (types.Passage) found for a pronoun follow-up's resolved query and for the
    follow-up as written, in weighted reciprocal rank fusion order (retrieve/fusion.py `rrf`, the
    resolved list weighted `HISTORY_WEIGHT`, the other 1), the first `k`, ranks renumbered from 1;
    each keeps its own scores. Why: the referent of "it" is a guess (`antecedent`); when it is wrong
    the follow-up's own words still find its passages. Dev split of benchmarks/followup_retrieval.py
    (Recall@3, resolved query alone -> fused): guidelines 2 turns 0.758 -> 0.758, 3 turns 0.665 ->
    0.708 (there the referent is often wrong); BioASQ 0.419 -> 0.389 and 0.377 -> 0.357 (there it is
    more often right): over both a tie (nDCG@10 too), kept for the wrong-referent case at the cost
    of a second search. Elliptical follow-ups, whose carried question is no guess, lost with fusion
    (0.946 -> 0.844 on guidelines): only pronoun resolutions are fused."""
    from dataclasses import replace

    from .fusion import rrf

    by_id = {p.id: p for p in asked}
    by_id.update({p.id: p for p in resolved})
    order = rrf({"resolved": [p.id for p in resolved], "asked": [p.id for p in asked]},
                {"resolved": HISTORY_WEIGHT, "asked": 1.0})
    return [replace(by_id[pid], rank=i) for i, (pid, _) in enumerate(order[:k], 1)]


def collection_rarity(snapshot) -> Callable[[list[str]], dict[str, float]]:
    """`rarity` over a lexical snapshot (store/lexical.py `LexicalSnapshot`): each term's document
    frequency divided by the number of chunks. Its `floor` (one chunk's share) makes a word found in
    a single chunk rare even in a small collection."""
    n = max(len(snapshot), 1)

    def rarity(terms: list[str]) -> dict[str, float]:
        return {t: df / n for t, df in snapshot.doc_freq(terms).items()}

    def postings(term: str):
        import numpy as np

        bm25 = getattr(snapshot, "bm25", None)
        i = bm25.vocab_dict.get(term) if bm25 is not None else None
        if i is None or i + 1 >= len(bm25.scores["indptr"]):
            return np.zeros(0, dtype=np.int64)
        ptr = bm25.scores["indptr"]
        return np.unique(bm25.scores["indices"][ptr[i]:ptr[i + 1]])

    def cooccurrence(phrase_terms: list[str], context_terms: list[str]) -> float:
        """max over the chunks holding every phrase term of the summed log(n / df) of the context
        terms they hold (0 when no chunk holds the phrase)."""
        import numpy as np

        if not phrase_terms:
            return 0.0
        chunks = postings(phrase_terms[0])
        for t in phrase_terms[1:]:
            chunks = np.intersect1d(chunks, postings(t), assume_unique=True)
        if not len(chunks):
            return 0.0
        total = np.zeros(len(chunks))
        for t in set(context_terms) - set(phrase_terms):
            p = postings(t)
            if len(p):
                total += np.log(n / len(p)) * np.isin(chunks, p, assume_unique=True)
        return float(total.max())

    rarity.floor = 1.0 / n  # type: ignore[attr-defined]
    rarity.cooccurrence = cooccurrence  # type: ignore[attr-defined]
    return rarity


__all__ = ["Resolution", "resolve", "topic_words", "anaphor", "antecedent", "antecedents", "fuse", "opener",
           "collection_rarity"]
