"""Citation verification: is each claim of an answer supported by the passages it cites?

The checker is deterministic (same inputs, same verdict) and needs no extra model:

1. **Numbers** — every number in the claim (doses, durations, thresholds, years; "two" counts as 2)
   must appear in the cited passages. One missing number makes the claim unsupported.
2. **Content words** — `overlap` is the share of the claim's content terms (ragmed's medical
   tokenizer: stemmed, stopwords dropped, "5 mg" = "5mg") found in the cited passages.
3. **Meaning** — `similarity` is the best cosine similarity (the collection's embedder) between the
   claim and a sentence, or two adjacent sentences, of the cited passages.

4. **What it says** (ground/meaning.py) — the claim is aligned with the evidence it rests on: the
   sentence, or two adjacent sentences, of the cited passages with the best
   `overlap + SIMILARITY_WEIGHT * similarity` (and any within `ALIGN_MARGIN` of it), and compared
   with it: quantities as number + unit ("25 mg" is not "25 µg"; "1 mg" is "1000 µg"), negation,
   bounds, direction, time order, modality, only/all, population and the drug/formulation/route.
   The claim must agree with at least one aligned unit.

5. **What it adds** (ground/absent.py) — a rare word of the claim (a condition, drug, test: "for
   anaphylaxis") that the cited passages never mention.

A claim is supported when its numbers are all present, it adds no rare word (5), it agrees with its
aligned evidence (4) and `overlap + SIMILARITY_WEIGHT * similarity >= THRESHOLD`. The weight and threshold were chosen on the
dev split of the CDC opioid gold statements (`make bench-trust`, benchmarks/checker_accuracy.py),
the meaning rules on the dev split of benchmarks/adversarial_claims.py. Every unsupported verdict
carries a plain-words `reason`.
With a verifier model (`verifier=` a local cross-encoder or NLI folder), its score replaces the
word and meaning-similarity tests (numbers and the meaning checks still apply).

Support of a claim with several citations is judged on the cited passages together, as in ALCE
(Gao et al., 2023); docs/trust.md defines the answer-level precision and recall.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..text import split_sentences
from ..types import Claim, Passage, Support
from .absent import absent_rare_words
from .meaning import Mismatch, compare
from .citations import _MARK
from .claims import content_terms, is_claim, remove_invalid, sentences
from .cues import analyse

SIMILARITY_WEIGHT = 0.5
THRESHOLD = 0.96
MODEL_THRESHOLD = 0.5
ALIGN_MARGIN = 0.1  # aligned units: the best one and those within this score of it
ALIGN_MAX = 3

_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS.update({"twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
                      "ninety": "90", "hundred": "100", "once": "1", "twice": "2", "half": "0.5"})
_NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\d])")
_WORDS = re.compile(r"[a-z]+")


def numbers(text: str) -> set[str]:
    """The numbers a text states, normalised ("1,000" = "1000", "5.0" = "5", "two" = "2")."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", _MARK.sub(" ", text))
    out = set()
    for m in _NUM.finditer(text):
        v = m.group(0)
        out.add(v.rstrip("0").rstrip(".") if "." in v else (v.lstrip("0") or "0"))
    out.update(_NUMBER_WORDS[w] for w in _WORDS.findall(text.lower()) if w in _NUMBER_WORDS)
    return out


def passage_text(p: Passage) -> str:
    """What the model saw under the passage's number (neighbour context included)."""
    return " ".join(x for x in (p.context_before, p.text, p.context_after) if x)


def _sentences(text: str) -> list[str]:
    return [" ".join(text[s:e].split()) for s, e in split_sentences(text, 0, len(text))] or [text]


def _units(text: str) -> list[str]:
    """What a claim is compared with: each sentence of the passage, and each two adjacent ones."""
    sents = _sentences(text)
    return sents + [f"{a} {b}" for a, b in zip(sents, sents[1:])]


def _unit_vectors(sent_vecs: np.ndarray) -> np.ndarray:
    """Vectors of `_units`: the sentences' own, then each adjacent pair's as the normalised sum of
    its two sentence vectors (MiniLM mean-pools its tokens, so the sum is close to embedding the
    two sentences together; half the embedding work, same verdicts on benchmarks/adversarial_claims
    and checker_accuracy dev)."""
    if len(sent_vecs) < 2:
        return sent_vecs
    pairs = sent_vecs[:-1] + sent_vecs[1:]
    pairs = pairs / np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-12)
    return np.concatenate([sent_vecs, pairs.astype(sent_vecs.dtype)])


@dataclass(frozen=True)
class Verdict:
    supported: bool
    overlap: float
    similarity: float
    missing_numbers: tuple[str, ...]
    model_score: float | None = None
    reason: str = ""  # why it is unsupported, in plain words ("" when supported)
    mismatch: str = ""  # the meaning check's reason ("" = agrees with its aligned evidence)
    evidence: str = ""  # the aligned evidence unit (sentence or two) the claim was compared with
    added: tuple[str, ...] = ()  # rare words the cited passages never mention (ground/absent.py)


MISMATCH_OVERLAP = 0.5  # an off-topic verdict still names the meaning check's reason when the claim shares this much


class SupportChecker:
    """Judges whether passages support a claim (see the module docstring)."""

    def __init__(self, embedder, verifier: str | None = None, similarity_weight: float = SIMILARITY_WEIGHT,
                 threshold: float = THRESHOLD, model_threshold: float = MODEL_THRESHOLD, cache_size: int = 4096):
        self.embedder = embedder
        self.similarity_weight, self.threshold = similarity_weight, threshold
        self.model_threshold = model_threshold
        self._model = _VerifierModel(verifier) if verifier else None
        self._units: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()
        self._claims: OrderedDict[str, np.ndarray] = OrderedDict()  # a streamed sentence is checked again in the final check
        self._lock = threading.Lock()
        self._cache_size = cache_size

    # -- evidence of one passage, cached (answers cite the same passages many times) ---------
    def _passage_units(self, text: str) -> tuple[list[str], np.ndarray]:
        hit = self._units.get(text)
        if hit is not None:
            self._units.move_to_end(text)
            return hit
        units = _units(text)
        vecs = _unit_vectors(np.asarray(self.embedder.embed(_sentences(text))))
        self._units[text] = (units, vecs)
        if len(self._units) > self._cache_size:
            self._units.popitem(last=False)
        return units, vecs

    def prepare(self, texts: Sequence[str]) -> None:
        """Embed many passages at once (benchmarks); later checks reuse the cache."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._units]
        all_sents, owners = [], []
        for t in todo:
            sents = _sentences(t)
            all_sents.extend(sents)
            owners.append((t, len(sents)))
        vecs = np.asarray(self.embedder.embed(all_sents)) if all_sents else None
        i = 0
        for t, n in owners:
            self._units[t] = (_units(t), _unit_vectors(vecs[i:i + n]))
            i += n

    def check(self, claim: str, passages: Sequence[str], claim_vec: np.ndarray | None = None) -> Verdict:
        """Do `passages` (texts, judged together) support `claim`? See the module docstring."""
        joined = " ".join(passages)
        missing = tuple(sorted(numbers(claim) - numbers(joined)))
        terms = set(content_terms(claim))
        have = set(content_terms(joined))
        overlap = len(terms & have) / len(terms) if terms else 0.0
        text = _MARK.sub(" ", claim)
        if claim_vec is None:
            claim_vec = self.embed_claims([text])[0]
        sim, aligned = 0.0, []
        cterms = analyse(text).terms
        for p in passages:
            units, vecs = self._passage_units(p)
            if not len(vecs):
                continue
            sims = vecs @ claim_vec
            sim = max(sim, float(sims.max()))
            for u, s in zip(units, sims):
                share = len(cterms & analyse(u).terms) / len(cterms) if cterms else 0.0
                aligned.append((share + self.similarity_weight * float(s), u))
        aligned.sort(key=lambda x: -x[0])
        top = [u for sc, u in aligned[:ALIGN_MAX] if sc >= aligned[0][0] - ALIGN_MARGIN] if aligned else []
        mismatch = self.meaning(text, top, joined)
        model = None
        if self._model is not None:
            model = self._model.score(text, joined)
            related = model >= self.model_threshold
        else:
            related = self.decide(overlap, sim, ())
        added = absent_rare_words(text, joined)  # rare nouns the passages never mention (ground/absent.py)
        ok = related and not missing and not added
        # the reason a reader can act on: off topic first, then what the aligned evidence says instead
        reason = ""
        if added:  # the most concrete reason: what the claim names that the passage does not
            reason = f"the cited passage does not mention {', '.join(added)}"
        elif not related and mismatch is not None and overlap >= MISMATCH_OVERLAP:
            reason = mismatch.reason  # a short claim on the passage's subject: say what it states instead
        elif not related:
            reason = ("the verifier model does not find it in the cited passage" if model is not None
                      else "the cited passage does not say this")
        elif mismatch is not None:
            reason = mismatch.reason
        elif missing:
            reason = f"the cited passage does not state {', '.join(missing)}"
        return Verdict(ok and mismatch is None, round(overlap, 4), round(sim, 4), missing,
                       None if model is None else round(model, 4), reason,
                       mismatch.reason if mismatch else "", top[0] if top else "", tuple(added))

    @staticmethod
    def meaning(claim: str, units: Sequence[str], joined: str) -> Mismatch | None:
        """None when the claim agrees with one of its aligned units, else the best unit's mismatch."""
        first = None
        for u in units:
            m = compare(claim, u, joined)
            if m is None:
                return None
            first = first or m
        return first

    def decide(self, overlap: float, similarity: float, missing: Sequence[str]) -> bool:
        """The word-and-similarity rule (module docstring) on a claim's measurements."""
        return not missing and overlap + self.similarity_weight * similarity >= self.threshold

    def embed_claims(self, claims: Sequence[str]) -> np.ndarray:
        """(len(claims), dimension) embeddings of the claims without their citation marks; each text
        embedded once per checker (LRU of `cache_size`)."""
        texts = [_MARK.sub(" ", c) for c in claims]
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._claims]
        new = np.asarray(self.embedder.embed(todo)) if todo else []
        with self._lock:
            for t, v in zip(todo, new):
                self._claims[t] = v
            out = []
            for t in texts:
                self._claims.move_to_end(t)
                out.append(self._claims[t])
            while len(self._claims) > self._cache_size:
                self._claims.popitem(last=False)
        return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


class _VerifierModel:
    """A local sentence-transformers CrossEncoder: an NLI model (the "entailment" probability) or a
    relevance cross-encoder with one output (its sigmoid score)."""

    def __init__(self, path: str):
        from pathlib import Path

        from ..errors import ConfigError

        if not Path(path).expanduser().is_dir():
            raise ConfigError(f"Verifier model folder {path!r} not found: give a local cross-encoder or NLI folder.")
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(str(Path(path).expanduser()), device="cpu", local_files_only=True)
        labels = {v.lower(): int(k) for k, v in (self.model.config.id2label or {}).items()}
        self.entail = labels.get("entailment")

    def score(self, claim: str, evidence: str) -> float:
        raw = np.asarray(self.model.predict([(evidence, claim)], convert_to_numpy=True,
                                            apply_softmax=self.entail is not None))[0]
        if self.entail is not None and np.ndim(raw) == 1 and len(raw) > 1:
            return float(raw[self.entail])
        value = float(np.ravel(raw)[0])
        return value if 0.0 <= value <= 1.0 else float(1 / (1 + np.exp(-value)))


@dataclass
class Verification:
    answer: str  # the answer with citations to missing passages removed
    claims: list[Claim]
    support: Support
    removed: list[int]  # citation numbers removed (they named no passage given to the model)

    def to_dict(self) -> dict:
        """JSON of `ragmed check --json` and `POST /v1/check`."""
        return {"answer": self.answer, "claims": [c.to_dict() for c in self.claims],
                "support": self.support.to_dict(), "removed": list(self.removed)}


def verify(answer: str, passages: Sequence[Passage], checker: SupportChecker) -> Verification:
    """Check every claim of `answer` against the passages it cites (passage n = passages[n-1])."""
    text, removed = remove_invalid(answer, len(passages))
    sents = [s for s in sentences(text) if is_claim(s)]
    texts = [passage_text(p) for p in passages]
    vecs = checker.embed_claims([s.text for s in sents]) if sents else []
    claims: list[Claim] = []
    precise = citations = recall = 0
    for s, vec in zip(sents, vecs):
        cites = s.cites
        if not cites:
            suggested = _any_support(checker, s.text, texts, vec)
            claims.append(Claim(s.text, "uncited", suggested=suggested, reason="it cites no passage"))
            continue
        joint = checker.check(s.text, [texts[n - 1] for n in cites], vec)
        alone = {n: checker.check(s.text, [texts[n - 1]], vec).supported for n in cites} if len(cites) > 1 else \
            {cites[0]: joint.supported}
        citations += len(cites)
        if joint.supported:
            recall += 1
            for n in cites:  # ALCE: a citation is precise if it supports alone or is needed by the rest
                rest = [texts[m - 1] for m in cites if m != n]
                precise += 1 if alone[n] or not checker.check(s.text, rest, vec).supported else 0
        status = "supported" if joint.supported else "unsupported"
        suggested = None if joint.supported else _any_support(checker, s.text, texts, vec, exclude=cites)
        claims.append(Claim(s.text, status, tuple(cites), tuple(n for n in cites if alone[n]),
                            joint.overlap, joint.similarity, joint.missing_numbers, joint.model_score, suggested,
                            joint.reason))
    n = len(claims)
    support = Support(
        claims=n, supported=recall, unsupported=sum(c.status == "unsupported" for c in claims),
        uncited=sum(c.status == "uncited" for c in claims), citations=citations,
        supported_share=round(recall / n, 4) if n else 1.0,
        citation_precision=round(precise / citations, 4) if citations else 0.0,
        citation_recall=round(recall / n, 4) if n else 0.0,
    )
    return Verification(text, claims, support, removed)


def check_text(text: str, passages: Sequence[Passage | str], checker: SupportChecker) -> Verification:
    """Check any text (a model's answer, a draft) against passages: `Passage` records or plain
    strings (passage n = passages[n-1], cited as [n]). Strings get minimal provenance (source
    "text", page 0). Returns the claims with verdicts and reasons, as `verify`."""
    given = [p if isinstance(p, Passage) else _text_passage(str(p), n) for n, p in enumerate(passages, 1)]
    return verify(text, given, checker)


def _text_passage(text: str, n: int) -> Passage:
    import hashlib

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Passage(id=f"text-{digest[:16]}", text=text, source="text", file_sha256=digest, page_start=0,
                   page_end=0, page_labels=(), section=(), start=0, end=len(text), score=0.0, rank=n)


def _any_support(checker, claim, texts, vec, exclude=()) -> int | None:
    for n, t in enumerate(texts, 1):
        if n not in exclude and checker.check(claim, [t], vec).supported:
            return n
    return None
