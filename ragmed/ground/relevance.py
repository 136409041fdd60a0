"""The sentences of retrieved passages and how well each answers a question.

Shared by evidence mode (ground/evidence.py) and prompt compression (prompt/compress.py), so both
see the same sentences and rank them the same way.

- A passage's sentences come from its body (the text without the repeated section-title lines),
  split by `ragmed.text.split_sentences`; a sentence is never cut.
- Boilerplate is marked, not kept: whole lines that are page headers/footers ("Page 3 of 12",
  "- 4 -") or a bare URL/DOI, and sentences without letters or shorter than `MIN_FRAGMENT`
  characters.
- A sentence whose normalised text (lower case, letters and digits only) was already seen in a
  higher-ranked passage, or earlier in the same one, is marked a duplicate: the first copy wins.
- Score: cosine similarity to the question (the collection's embedder) plus `TERM_WEIGHT` times
  the share of the question's terms (ragmed's medical tokenizer) it contains, both of the sentence
  read under its passage's section path ("Follow-up intervals > Stable patients: Once the target
  has been met..."): chunks drop their headings from the body, and the heading often names the
  subject the sentence leaves implicit. On the sample protocol this puts the answer sentence first
  for "How often are stable patients seen for follow-up?" (second without the section path).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..text import split_sentences
from ..tokenize import tokenize
from ..types import Passage

TERM_WEIGHT = 0.3
MIN_FRAGMENT = 12  # characters: shorter sentences are fragments ("Table 2.", "See above")

# "Page 3", "Page 3 of 12", "page 3/12", "3 of 12", "- 3 -" (not "130/80": a bare fraction may be a value)
_PAGE_LINE = re.compile(r"page\s*\d+(?:\s*(?:of|/)\s*\d+)?|\d+\s+of\s+\d+|[-\u2013\u2014]\s*\d+\s*[-\u2013\u2014]",
                        re.IGNORECASE)
_LINK_LINE = re.compile(r"(?:(?:available\s+(?:at|from)|see|url|doi)\s*:?\s*)?"
                        r"(?:https?://\S+|www\.\S+|doi\s*:?\s*10\.\d{4,}/\S+|10\.\d{4,}/\S+)", re.IGNORECASE)
_NORMAL = re.compile(r"[\W_]+")

CONTENT, DUPLICATE, BOILERPLATE = "content", "duplicate", "boilerplate"


@dataclass(frozen=True)
class Sentence:
    n: int  # the passage's number (1-based, rank order): cite as [n]
    i: int  # position among the passage's sentences (document order); -1: a boilerplate line
    text: str  # whitespace collapsed
    kind: str  # CONTENT, DUPLICATE or BOILERPLATE
    heading: str = ""  # units=True: the heading line above it in the passage text (ground/passage_units.py)


def boilerplate_line(line: str) -> bool:
    """A whole line that is a page header/footer or a bare link (URL, DOI)."""
    line = line.strip().strip(".,;()[]")
    return bool(line) and bool(_PAGE_LINE.fullmatch(line) or _LINK_LINE.fullmatch(line))


def _fragment(sent: str) -> bool:
    return len(sent) < MIN_FRAGMENT or not any(c.isalpha() for c in sent) or boilerplate_line(sent)


def normalised(sent: str) -> str:
    """The key under which two sentences count as the same (case, spacing, punctuation ignored)."""
    return _NORMAL.sub(" ", sent.lower()).strip()


def passage_sentences(passages: Sequence[Passage], units: bool = False) -> list[Sentence]:
    """Every sentence of every passage, in rank then document order, each marked CONTENT,
    DUPLICATE or BOILERPLATE. `units=True` (evidence sentences shown to a clinician): each list
    item apart, heading lines and list marks left out (ground/passage_units.py)."""
    from .passage_units import units as split_units
    out: list[Sentence] = []
    seen: set[str] = set()
    for n, p in enumerate(passages, 1):
        lines = p.body.split("\n")
        out.extend(Sentence(n, -1, " ".join(line.split()), BOILERPLATE) for line in lines if boilerplate_line(line))
        text = "\n".join(line for line in lines if not boilerplate_line(line))
        spans = ([(u.text(text), u.heading) for u in split_units(text, (p.title, *p.section))] if units
                 else [(text[s:e], "") for s, e in split_sentences(text, 0, len(text))])
        for i, (raw, heading) in enumerate(spans):
            sent = " ".join(raw.split())
            key = normalised(sent)
            kind = BOILERPLATE if _fragment(sent) else DUPLICATE if key in seen else CONTENT
            if kind == CONTENT:
                seen.add(key)
            out.append(Sentence(n, i, sent, kind, heading))
    return out


_VECTORS: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
_VECTORS_MAX = 4096  # sentence vectors kept (about 6 MB at 384 dimensions)
_VECTORS_LOCK = threading.Lock()


def vectors(embedder, texts: Sequence[str]) -> np.ndarray:
    """Embeddings of `texts` (len(texts), dimension), each text embedded once per process: one
    question's passage sentences are scored by the gate (`gate.sentence_top`), evidence mode and
    prompt compression, so they are embedded for the first and reused by the others (LRU)."""
    family = (getattr(embedder, "id", ""), getattr(embedder, "backend", ""))
    with _VECTORS_LOCK:
        todo = [t for t in dict.fromkeys(texts) if (*family, t) not in _VECTORS]
    new = np.asarray(embedder.embed(todo)) if todo else None
    with _VECTORS_LOCK:
        for t, v in zip(todo, new if new is not None else []):
            _VECTORS[(*family, t)] = v
        out = []
        for t in texts:
            _VECTORS.move_to_end((*family, t))
            out.append(_VECTORS[(*family, t)])
        while len(_VECTORS) > _VECTORS_MAX:
            _VECTORS.popitem(last=False)
    return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


def scores(question: str, sentences: Sequence[Sentence], passages: Sequence[Passage], embedder) -> list[float]:
    """How well each sentence answers `question`, read under its passage's section path (the
    heading often carries the subject: "Stable patients" > "follow-up moves to every 6 months")."""
    if not sentences:
        return []
    texts = [in_context(s.text, passages[s.n - 1]) for s in sentences]
    cos = cosines(question, sentences, passages, embedder)
    q_terms = set(tokenize(question))
    out = []
    for text, c in zip(texts, cos.tolist()):
        overlap = len(q_terms & set(tokenize(text))) / len(q_terms) if q_terms else 0.0
        out.append(c + TERM_WEIGHT * overlap)
    return out


def cosines(question: str, sentences: Sequence[Sentence], passages: Sequence[Passage], embedder) -> np.ndarray:
    """Cosine similarity of `question` to each sentence read under its section path (len(sentences),)."""
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    vecs = vectors(embedder, [question, *(in_context(s.text, passages[s.n - 1], s.heading) for s in sentences)])
    return vecs[1:] @ vecs[0]


def in_context(sentence: str, p: Passage, heading: str = "") -> str:
    """The text scored for a sentence: its passage's section path (and the heading line above it in
    the text, when passage_units found one), then the sentence."""
    path = " > ".join(x for x in (p.section_path, heading) if x)
    return f"{path}: {sentence}" if path else sentence
