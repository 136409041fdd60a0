"""History-aware retrieval: a follow-up question turned into a standalone search query.

    resolve("and for children?", ["What are the symptoms of TB?"])
    -> Resolution(query="What are the symptoms of TB for children?", kind="elliptical", ...)
    resolve("How is it treated?", ["What are the symptoms of tuberculosis?"], rarity)
    -> Resolution(query="How is tuberculosis treated?", kind="pronoun", ...)
    resolve("What is the dose of amoxicillin for otitis media?", [...])
    -> Resolution(query=<unchanged>, kind="standalone")

Deterministic and fast (no model): a follow-up is *dependent* when it
- uses a pronoun or a demonstrative noun phrase ("it", "they", "this drug", "these patients") with
  no topic word of its own in an earlier clause of the question (a rare word of the collection that
  is not everyday English: "Is the BCG vaccine given at birth and how long does it protect?" is
  left alone): the pronoun is replaced by ONE noun phrase of the previous question or the one
  before it (`antecedent`: the conversation's running topic first, else the phrase the collection
  mentions together with the follow-up's own words, else the rarest), not by every topic word of
  it, which diluted the query. The phrase ends on a noun (retrieve/nounphrase.py): never a verb or
  participle. Retrieval searches the resolved query alone: fusing it with the follow-up as written
  (`fuse`, a hedge against a wrong referent) lost on every dev set once the referent was a noun
  phrase (see `fuse`);
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
from .nounphrase import PLURAL_PRONOUNS, adverb_only, can_head, plural, verb_only
from .rarity import collection_rarity, cooccurs

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
BREAKS = frozenset("""and or but nor not than as if whether because although while so more most less least many
    much several another every various certain other some any each all both few""".split())  # + determiners
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
    if span is not None and _own_topic(_earlier_clauses(q[:span[0]]), rarity):
        span = None  # "What is X and how is it given?": the pronoun points inside the question
    if span is not None:
        a, b = span
        w = q[a:b].lower()
        topic = next((t for t in antecedents(prev, q, rarity, earlier[:-1])  # "they": a plural phrase, or one
                      if w not in PLURAL_PRONOUNS or plural(t) or cooccurs(t, q, rarity)), "")  # said with q's words
        if topic:
            filler = _without_overlap(topic, q[:a], q[b:]) + ("'s" if w in ("its", "their", "theirs", "his") else "")
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
    """The noun phrases of the previous question `prev` (and of the turn before it) that a pronoun in
    `question` may stand for, best first ([] when none): each one noun phrase, not every topic word
    of `prev` (carrying them all diluted the query).

    Candidates (`_phrases`): runs of adjacent content words (not `GENERIC`, not stopwords; a comma, a
    function word, a verb form, an adverb or an everyday first word ends a run: retrieve/nounphrase.py)
    holding a topic word (in at most `ANTECEDENT_DF` of the chunks and not everyday English; without
    `rarity`, any word), cut to at most `PHRASE_MAX` words ending on a word that can head a noun
    phrase (never a verb, participle, adjective or adverb alone: "How is prepared treated?" came from
    carrying a participle), and not already all in `question`. The turn before `prev` gives
    candidates too (a third turn's "it" may mean the first turn's subject when the second turn named
    another). The chosen one is, in this order: a phrase another earlier turn also names (the
    conversation's running topic); one of `prev` (unless `prev` still holds a pronoun of its own,
    which points further back); the phrase found in one chunk together with the most of the
    follow-up's own rare terms (`rarity.cooccurrence`, summed inverse document frequency: the
    referent that makes the follow-up a thing the collection says); the rarest; the latest."""
    texts = [prev] + list(earlier[-1:])
    asked = {w.lower() for w in _words(question)}
    own = None
    cands: dict[str, tuple] = {}
    for n, text in enumerate(texts):
        others = [t for t in [prev, *earlier] if t is not text]
        running = {w.lower() for t in others for w in _words(t)}
        latest = 1 if n == 0 or anaphor(prev) is not None else 0
        for phrase, terms, cont, score, pos in _phrases(text, rarity, running, asked):
            if own is None:
                share = rarity(tokenize(question)) if rarity else {}
                own = [t for t in tokenize(question) if t not in share or share[t] <= 0.5]
            cooc = rarity.cooccurrence(terms, own) if hasattr(rarity, "cooccurrence") else 0.0
            k = (cont, latest, round(cooc, 6), -score, pos)
            if phrase.lower() not in cands or cands[phrase.lower()][0] < k:
                cands[phrase.lower()] = (k, phrase)
    if cands:
        return [text for _, text in sorted(cands.values(), reverse=True)]
    if rarity is None:
        return []
    words = [w for w in _words(prev) if tokenize(w) and w.lower() not in asked and can_head(w) and not verb_only(w)
             and w.lower() not in GENERIC and w.lower() not in PRONOUNS]
    share = rarity(sorted({t for w in words for t in tokenize(w)}))
    best = min(words, key=lambda w: max(share.get(t, 0.0) for t in tokenize(w)), default="")
    return [best] if best else []


def _phrases(prev: str, rarity, running: set[str], asked: set[str]) -> list[tuple[str, list[str], float, float, int]]:
    """The candidate noun phrases of `prev` (see `antecedents`): (text, its search terms, the share
    of its topic words in `running`, its rarest word's chunk share, its first word's index)."""
    ms = list(_WORD.finditer(prev))
    runs: list[list[int]] = []
    for i, m in enumerate(ms):
        low = m.group(0).lower()
        ok = (bool(tokenize(low)) and not any(low in ws for ws in (GENERIC, PRONOUNS, DEMONSTRATIVES, BREAKS,
                                                                    PREPOSITIONS, QUESTION_WORDS))
              and not low.endswith("ly") and not (i == 0 and everyday(low))
              and not verb_only(low) and not adverb_only(low))
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
    if running:  # a phrase carried from an earlier turn stays one candidate, apart from its neighbours
        runs = [part for run in runs for part in _split_where(run, lambda i: words[i].lower() in running)]
    out = []
    for run in runs:
        topic = [i for i in run if rarity is None or (score[words[i]] <= limit and not everyday(words[i]))]
        heads = [i for i in run if can_head(words[i])]
        if not topic or not heads:
            continue
        r = min(topic, key=lambda i: (score[words[i]], i))
        # the phrase ends on a noun: the last head within reach after the rarest word, else before it
        h = max((i for i in heads if r <= i < r + PHRASE_MAX), default=None)
        h = h if h is not None else max((i for i in heads if i < r), default=heads[0])
        span = [i for i in run if h - PHRASE_MAX < i <= h]
        if all(words[i].lower() in asked for i in span):
            continue
        inner = [i for i in span if i in topic] or [r]
        cont = sum(words[i].lower() in running for i in inner) / len(inner)
        out.append((prev[ms[span[0]].start():ms[span[-1]].end()], [t for i in span for t in terms[words[i]]],
                    cont, min(score[words[i]] for i in inner), span[0]))
    return out


def _without_overlap(phrase: str, before: str, after: str) -> str:
    """`phrase` less its first words that repeat the word before the pronoun and its last words that
    repeat the word after it (same search term): "predominant it genotype" + "predominant rotavirus
    genotypes" -> "rotavirus", not "predominant predominant rotavirus genotypes genotype"."""
    ms = list(_WORD.finditer(phrase))
    prev_w, next_w = (_words(before) or [""])[-1], (_words(after) or [""])[0]
    lo, hi = 0, len(ms)
    while hi - lo > 1 and prev_w and tokenize(ms[lo].group(0)) == tokenize(prev_w):
        lo += 1
    while hi - lo > 1 and next_w and tokenize(ms[hi - 1].group(0)) == tokenize(next_w):
        hi -= 1
    return phrase[ms[lo].start():ms[hi - 1].end()] if ms else phrase


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


CLAUSE_BREAK = re.compile(r"[,;:]|\b(?:and|but|or)\s+(?=(?:" + "|".join(sorted(QUESTION_WORDS)) + r")\b)", re.I)


def _earlier_clauses(text: str) -> str:
    """The clauses of `text` (a question's words before its pronoun) before the pronoun's own clause:
    up to the last comma, semicolon or "and/but/or" + question word ("Is the BCG vaccine given at birth
    and how long does" -> "Is the BCG vaccine given at birth "); "" when it is one clause. A topic
    there is what the pronoun stands for; a topic in the pronoun's own clause ("Ovarian carcinoma
    cells following it treatment?", "Aim of iodine it?") is not, so the earlier turn's is (dev split
    of benchmarks/followup_retrieval.py, pronoun Recall@3 with the resolved query, any topic before
    the pronoun -> earlier clauses only: guidelines 0.786 -> 0.811, BioASQ 0.431 -> 0.469)."""
    ends = [m.start() for m in CLAUSE_BREAK.finditer(text)]
    return text[:ends[-1]] if ends else ""


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
    each keeps its own scores. A hedge against a wrong referent of "it", measured as the "fused"
    condition of benchmarks/followup_retrieval.py and NOT used by the pipeline: on the dev split,
    with noun-phrase antecedents (Recall@3, resolved query alone -> fused; 2 / 3 turns) guidelines
    0.811 -> 0.786 / 0.768 -> 0.755, BioASQ 0.469 -> 0.411 / 0.402 -> 0.373; a heavier weight for the
    resolved list (3 or 5: BioASQ 0.431 -> 0.383 in an earlier version) or fusing only when no chunk
    holds the referent with the follow-up's words (BioASQ 0.469 -> 0.465) lost too."""
    from dataclasses import replace

    from .fusion import rrf

    by_id = {p.id: p for p in asked}
    by_id.update({p.id: p for p in resolved})
    order = rrf({"resolved": [p.id for p in resolved], "asked": [p.id for p in asked]},
                {"resolved": HISTORY_WEIGHT, "asked": 1.0})
    return [replace(by_id[pid], rank=i) for i, (pid, _) in enumerate(order[:k], 1)]


__all__ = ["Resolution", "resolve", "topic_words", "anaphor", "antecedent", "antecedents", "fuse", "opener",
           "collection_rarity"]
