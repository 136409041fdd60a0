"""The abstention gate: can the collection answer this question at all?

Before any generation, the retrieval evidence of the question is summarised in six features,
none of which depends on documents that are not retrieved (an unrelated document added to the
collection moves them only when it changes which passages hybrid retrieval returns, through BM25's
term weights; benchmarks/realistic_questions.py measures it):

| feature     | what it measures                                                                     |
|-------------|--------------------------------------------------------------------------------------|
| dense_top   | best cosine similarity between the question and a retrieved passage                  |
| dense_mean  | mean cosine similarity of the 3 most similar retrieved passages                      |
| sentence_top| best cosine similarity between the question and a sentence of the top 3 passages     |
|             | (read under its section path, as evidence mode does): short queries match a sentence  |
|             | better than a whole passage                                                          |
| coverage    | share of the question's key terms found in the top 3 passages, weighted by rarity     |
| rare_absent | rarity-weighted share of key terms the collection lacks (spelling variants matched)  |
| sentence_coverage | the coverage of the best sentence, or two adjacent sentences, of the top 3      |
|             | passages (with the section path): the question's terms must meet where one thing is   |
|             | said, not be scattered over a page ("alcohol" in one sentence, "TB medicine" in another)|

Key terms, spelling variants, rarity weights, the language check and answer kinds are in
ground/asking.py. A logistic model turns the features into an answerability score in 0-1; below the
threshold ragmed abstains ("not_covered"). Two checks come beside the score:

- a question in a language the models do not read gets reason "language" (not "not covered");
- a question asking for a kind of answer (how long, how often, a dose, an amount) that no sentence
  of the top passages states near the question's subject gets "no_answer_of_kind": every word of
  "how many months does TB treatment take" may occur in the collection without any passage saying it;
  a question naming the form of its answer ("how many hours", "percent", "price") or a value
  ("after 10 years") needs a sentence stating that form or value (ground/forms.py).

Before the passages are judged again in the collection's words (ground/searched.py), clipped words
("schisto") and initialisms the documents write out but never define ("mdv") are read by
ground/shortforms.py, and brand names the documents do not use ("xanax") by ground/drugnames.py;
a question naming a drug no top passage mentions gets "no_answer_of_kind" too.

`ragmed calibrate` fits the model and the threshold on the clinic's own answerable and unanswerable
questions and stores them with the collection (store/collection.py keeps the JSON of
`Calibration.to_dict()`; `stored` reads it back); until then `DEFAULT` applies,
fitted on the dev split of the guideline benchmarks (benchmarks/realistic_questions.py). A
calibration fitted on other features is refused with a message saying to calibrate again.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from ..tokenize import tokenize
from ..types import Passage
from . import asking, forms, searched
from .claims import FILLER
from .vocabulary import vocabulary_of  # noqa: F401 (gate.vocabulary_of: api.py, tests, benchmarks)

FEATURES = ("dense_top", "dense_mean", "sentence_top", "coverage", "rare_absent", "sentence_coverage")
# Words that shape a question but name no topic ("how often", "what kind of"): left out of the terms
# the collection must cover.
QUESTION_FILLER = FILLER | frozenset(tokenize(
    "guideline guidelines tell explain describe know need information often frequently many much long "
    "usual usually typical typically kind type types way possible exactly please hello thanks thank "
    "anyone someone something anything done happen happens happened"))
TOP = forms.TOP  # passages whose terms and sentences count
REASONS = ("covered", "not_covered", "no_answer_of_kind", "language")
KIND_WORDS = forms.KIND_WORDS


@dataclass(frozen=True)
class Calibration:
    """A fitted gate: standardisation, logistic weights and the abstention threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: dict = field(default_factory=dict)  # counts, date, metrics on the fitting data
    source: str = "default"  # "default" or "calibrated"

    def score(self, x: Sequence[float]) -> float:
        z = sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(FEATURES)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        if tuple(d.get("features", ())) != FEATURES:
            raise ValueError("calibration was fitted on other gate features (an older ragmed); "
                             "run `ragmed calibrate` again")
        return cls(tuple(d["mean"]), tuple(d["scale"]), tuple(d["weights"]), float(d["bias"]),
                   float(d["threshold"]), dict(d.get("fitted_on", {})), d.get("source", "calibrated"))


# Fitted by `gate.fit` on the dev split of benchmarks/realistic_questions.py (its `fit_default`: this
# set's dev questions and the first 50 dev questions of each kind of benchmarks/abstention.py's sets,
# `--old-per-split 50`), after brand names were read as the documents' drug names and clipped words
# by word family, and the question's drug, subject and asked norm checked (ground/drugnames.py,
# ground/shortforms.py, ground/subject.py, ground/forms.py); recorded in
# benchmarks/results/realistic_questions.json ("fitted_on_dev"). `ragmed calibrate` fits the same six
# on a clinic's own questions.
DEFAULT = Calibration(
    mean=(0.503652, 0.458663, 0.555868, 0.735694, 0.134124, 0.679143),
    scale=(0.184951, 0.184323, 0.195107, 0.308766, 0.260062, 0.314901),
    weights=(0.53644, 0.602785, 1.080028, 0.353059, 0.008879, 1.27343), bias=0.328907, threshold=0.514,
    fitted_on={"answerable": 185, "unanswerable": 136,
               "data": "benchmarks/realistic_questions.py --old-per-split 50, dev split (with benchmarks/abstention.py's sets)"},
    source="default",
)


@dataclass(frozen=True)
class GateDecision:
    """The gate's decision. `reason`: "covered", "not_covered", "no_answer_of_kind" or "language";
    `explanation`: the same in plain words for the reader (no scores); `asked`: the kind of answer
    the question asks for ("" = any); `corrected`: typed word -> the collection's spelling."""

    answerable: bool
    score: float
    threshold: float
    features: dict[str, float]
    calibrated: bool
    reason: str = "covered"
    explanation: str = ""
    asked: str = ""
    language: str = ""
    corrected: dict[str, str] = field(default_factory=dict)
    query: str = ""  # the question as searched when spelling variants were corrected ("" = as asked)

    def to_dict(self) -> dict:
        return asdict(self)


def _passage_terms(p: Passage) -> set[str]:
    return set(tokenize(" ".join((p.title, p.section_path, p.text))))


def sentence_top(question: str, passages: Sequence[Passage], embedder) -> float:
    """Best cosine similarity of the question to a sentence of the top passages (0 without an embedder)."""
    if embedder is None:
        return 0.0
    from .relevance import CONTENT, in_context, passage_sentences, vectors

    top = list(passages)[:TOP]
    sents = [s for s in passage_sentences(top) if s.kind == CONTENT]
    if not sents:
        return 0.0
    vecs = vectors(embedder, [question, *(in_context(s.text, top[s.n - 1]) for s in sents)])
    return float((vecs[1:] @ vecs[0]).max())


def features(question: str, passages: Sequence[Passage], vocabulary: asking.Vocabulary | None,
             terms: list[asking.Term] | None = None, embedder=None) -> list[float]:
    """The gate's features (see the module docstring) from hybrid-retrieval passages; `embedder`:
    the collection's (for sentence_top)."""
    terms = asking.key_terms(question, QUESTION_FILLER, vocabulary) if terms is None else terms
    top = list(passages)[:TOP]
    seen: set[str] = set()
    for p in top:
        seen |= _passage_terms(p)
    terms = in_passages(terms, seen)
    total = sum(t.weight for t in terms)
    coverage = sum(t.weight for t in terms if t.term in seen) / total if total else 0.0
    rare = sum(t.rare for t in terms)
    rare_absent = sum(t.rare for t in terms if not t.in_vocabulary) / max(1.0, rare) if terms else 1.0
    dense = sorted((p.scores.get("dense", 0.0) for p in passages), reverse=True)
    dense_top = dense[0] if dense else 0.0
    dense_mean = sum(dense[:TOP]) / len(dense[:TOP]) if dense else 0.0
    sent = sentence_top(question, passages, embedder)
    sent_cov = sentence_coverage(terms, top)
    return [round(float(v), 6) for v in (dense_top, dense_mean, sent, coverage, rare_absent, sent_cov)]


def in_passages(terms: list[asking.Term], seen: set[str]) -> list[asking.Term]:
    """The terms with each one the passages lack, as typed, matched to a spelling variant the
    passages hold (`asking.Vocabulary.match` over the passages' terms; only words that are not
    everyday English, as for the collection's spelling). So coverage does not depend on whether
    some other document of the collection happens to hold the typed form: "recheck" counts as the
    passages' "check" whether or not an unrelated protocol adds "recheck" to the vocabulary."""
    from dataclasses import replace

    local = None
    out = []
    for t in terms:
        typed = tokenize(t.word)
        if t.term not in seen and len(typed) == 1 and t.word.isalpha() and asking.zipf(t.word) < asking.CORRECT_BELOW:
            local = local or asking.Vocabulary(frozenset(seen))
            hit = local.match(typed[0])
            if hit is not None:
                t = replace(t, term=hit)
        out.append(t)
    return out


def sentence_coverage(terms: list[asking.Term], passages: Sequence[Passage]) -> float:
    """Best rarity-weighted share of the key terms found in one sentence, or two adjacent
    sentences, of one passage, read with its title and section path (0-1)."""
    from .relevance import CONTENT, passage_sentences

    total = sum(t.weight for t in terms)
    if not total:
        return 0.0
    best = 0.0
    sents = [s for s in passage_sentences(passages) if s.kind == CONTENT]
    heads = {n: set(tokenize(" ".join((p.title, p.section_path)))) for n, p in enumerate(passages, 1)}
    bags = [(s.n, s.i, set(tokenize(s.text))) for s in sents]
    for j, (n, i, bag) in enumerate(bags):
        window = bag | heads[n]
        if j + 1 < len(bags) and bags[j + 1][0] == n:
            window = window | bags[j + 1][2]
        best = max(best, sum(t.weight for t in terms if t.term in window) / total)
    return best


def decide(x: Sequence[float], calibration: Calibration) -> GateDecision:
    """The score-only decision of a feature vector (no language or answer-kind check)."""
    score = calibration.score(x)
    ok = score >= calibration.threshold
    return GateDecision(ok, round(score, 4), calibration.threshold, dict(zip(FEATURES, x)),
                        calibration.source == "calibrated", "covered" if ok else "not_covered",
                        COVERED if ok else NOT_COVERED)


kind_stated, unstated = forms.kind_stated, forms.unstated  # is the asked answer stated? (ground/forms.py)

COVERED = "The retrieved passages match the question."
NOT_COVERED = "The indexed documents do not seem to cover this question: the closest passages are about something else."


# the question as searched again: spelling corrected, abbreviations and drug names written out
corrected_question, searched_question = searched.corrected_question, searched.searched_question


def assess(question: str, passages: Sequence[Passage], vocabulary: asking.Vocabulary | None,
           calibration: Calibration, embedder=None, written_out: Sequence[str] = ()) -> GateDecision:
    """The gate's full decision: language, score, answer kind (see the module docstring); `written_out`:
    short forms the question also writes out ("blood pressure (BP)"): not counted as missing words."""
    passages = list(passages)[:TOP]  # fitted on the top 3; a longer list (the evidence pool) changes nothing
    skip = {w.lower() for w in written_out}
    terms = [t for t in asking.key_terms(question, QUESTION_FILLER, vocabulary) if t.word.lower() not in skip]
    x = features(question, passages, vocabulary, terms, embedder)
    d = decide(x, calibration)
    corrected = {t.word: t.term for t in terms if t.corrected}
    kind = asking.asked_kind(question) or ""
    base = dict(score=d.score, threshold=d.threshold, features=d.features, calibrated=d.calibrated,
                asked=kind, corrected=corrected)
    lang = asking.detect_language(question) or ("UNKNOWN" if asking.unread_words(question, vocabulary) else None)
    if lang:
        name = asking.language_name(lang)
        return GateDecision(False, reason="language", language=lang, explanation=(
            f"This question seems to be written in {name}. ragmed's search and answer-checking models read "
            "English only, so it cannot tell whether the documents answer it. Please ask the question in English."),
            **base)
    if not d.answerable:
        missing = [t.word for t in terms if not t.in_vocabulary and t.rare >= 0.5]
        extra = f" No indexed document mentions {', '.join(repr(w) for w in missing[:3])}." if missing else ""
        return GateDecision(False, reason="not_covered", explanation=NOT_COVERED + extra, **base)
    missing = unstated(kind, terms, passages, question)
    if missing:
        return GateDecision(False, reason="no_answer_of_kind", explanation=missing, **base)
    return GateDecision(True, reason="covered", explanation=COVERED, **base)


# -- stored with the collection ----------------------------------------------------------------

def stored(record: dict | None, where: str = "the stored calibration") -> Calibration:
    """The gate of a stored record (`Collection.read_calibration()`), `DEFAULT` when there is none;
    a record of other features or a damaged one is ignored with a warning, never half-used."""
    if record is None:
        return DEFAULT
    try:
        return Calibration.from_dict(record)
    except (ValueError, KeyError, TypeError) as exc:
        import logging

        logging.getLogger(__name__).warning("ignoring %s (%s); using the default gate", where, exc)
        return DEFAULT


# -- fitting ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GateMetrics:
    """Abstention as a detector of unanswerable questions (abstaining = predicting "unanswerable")."""

    answerable: int
    unanswerable: int
    abstained_unanswerable: float  # recall: share of unanswerable questions abstained
    abstained_answerable: float  # share of answerable questions wrongly abstained
    precision: float  # share of abstentions that were on unanswerable questions

    def to_dict(self) -> dict:
        return asdict(self)


def metrics(pos_scores: Sequence[float], neg_scores: Sequence[float], threshold: float) -> GateMetrics:
    """`pos` = answerable questions' scores, `neg` = unanswerable ones'."""
    abst_pos = sum(s < threshold for s in pos_scores)
    abst_neg = sum(s < threshold for s in neg_scores)
    return GateMetrics(len(pos_scores), len(neg_scores), round(abst_neg / len(neg_scores), 4) if neg_scores else 0.0,
                       round(abst_pos / len(pos_scores), 4) if pos_scores else 0.0,
                       round(abst_neg / (abst_neg + abst_pos), 4) if abst_neg + abst_pos else 1.0)


def fit(pos: Sequence[Sequence[float]], neg: Sequence[Sequence[float]], l2: float = 0.01,
        steps: int = 3000) -> Calibration:
    """Logistic regression (answerable = 1) by gradient descent, then the threshold that maximises
    balanced accuracy (ties: the middle of the best interval). Deterministic."""
    if len(pos) < 3 or len(neg) < 3:
        raise ValueError("calibration needs at least 3 answerable and 3 unanswerable questions")
    X = np.asarray(list(pos) + list(neg), dtype=np.float64)
    y = np.asarray([1.0] * len(pos) + [0.0] * len(neg))
    mean, scale = X.mean(0), X.std(0)
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    sw = np.where(y == 1, 0.5 / len(pos), 0.5 / len(neg))  # both classes weigh the same
    w, b = np.zeros(Z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = (p - y) * sw
        w -= 1.0 * (Z.T @ g + l2 * w)
        b -= 1.0 * g.sum()
    cal = Calibration(tuple(mean.round(6)), tuple(scale.round(6)), tuple(w.round(6)), round(float(b), 6), 0.5)
    ps = [cal.score(x) for x in pos]
    ns = [cal.score(x) for x in neg]
    cands = sorted(set(ps + ns))
    cuts = [0.0] + [(a + c) / 2 for a, c in zip(cands, cands[1:])] + [1.0]

    def bacc(t):
        m = metrics(ps, ns, t)
        return (m.abstained_unanswerable + 1 - m.abstained_answerable) / 2

    best = max(bacc(t) for t in cuts)
    good = [t for t in cuts if bacc(t) >= best - 1e-12]
    threshold = round(good[len(good) // 2], 6)
    m = metrics(ps, ns, threshold)
    fitted = {"answerable": len(pos), "unanswerable": len(neg), "date": time.strftime("%Y-%m-%d"),
              "metrics": m.to_dict()}
    return Calibration(cal.mean, cal.scale, cal.weights, cal.bias, threshold, fitted, "calibrated")
