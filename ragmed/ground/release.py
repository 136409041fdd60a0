"""Releasing a model's answer one checked sentence at a time, and what a refusal tells staff.

The trust rule (docs/trust.md): model text reaches a user only as checked sentences. `CheckedStream`
takes the answer as it is generated and releases each sentence once it is complete and checked;
a supported sentence is released as answer text (`shown`), any other only as its claim (verdict
and reason). `supported_text` is the same rule on a whole answer. `unreadable_pages` names the
pages without extractable text that may hold an answer the gate could not find.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..types import Abstention, Claim, Passage
from .citations import _MARK
from .claims import sentences


WITHHELD = ("ragmed withheld the model's answer: none of its statements is supported by the passages "
            "it cites.")
WITHHELD_UNCITED = "ragmed withheld the model's answer: none of its statements cites a passage."
MODEL_NOT_FOUND = "The model found no answer in the passages."


def for_clinician(notices: list[str]) -> list[str]:
    """The notices that belong with the answer itself (not technical warnings): superseded editions
    and disagreeing sources (ground/currency.py), and who the guidance is for (ground/population.py).
    Front ends without a place for notices (the OpenAI-compatible `content`) append these."""
    from .currency import CHANGED, DISAGREE, SUPERSEDED
    from .population import NOTICE

    return [n for n in notices if n.startswith((SUPERSEDED, DISAGREE, CHANGED, NOTICE))]


def shown_answer(v, closed: bool, evidence_text: str, nearest: Callable[[], str]):
    """(the answer text shown, Abstention or None, the model's own text kept for research), for a
    verified answer `v` (ground/verify.py's result).

    Only supported sentences are shown. No supported sentence: the answer is withheld and the
    evidence sentences (`evidence_text`, else the `nearest()` sources) are shown instead, headed by
    why (`WITHHELD`, or `WITHHELD_UNCITED` when no sentence cites a passage). The model's "not in the
    passages" reply states nothing: it is said as such (`MODEL_NOT_FOUND`), followed by the evidence
    sentences when retrieval found some, for the clinician to judge (stage "model"). A trace that
    never closed produced no answer: nothing is shown."""
    from .claims import says_not_found

    if not closed:
        return "", None, v.answer
    if says_not_found(v.answer) and not v.support.supported:
        shown = f"{MODEL_NOT_FOUND} The passages' best sentences are:\n{evidence_text}" if evidence_text else v.answer
        return shown, Abstention("model", "the model found no answer in the passages"), ""
    if not v.support.supported:
        if not v.answer.strip():
            return "", None, ""
        uncited = bool(v.support.claims) and v.support.uncited == v.support.claims
        head = WITHHELD_UNCITED if uncited else WITHHELD
        why = ("none of the answer's statements cites a passage" if uncited else
               "no statement of the answer is supported by the passages it cites" if v.support.claims
               else "the answer states nothing that could be checked against the passages")
        shown = (f"{head} The passages' best sentences are:\n{evidence_text}" if evidence_text else
                 f"{head} Read the sources it was given:\n{nearest()}")
        return shown, Abstention("verification", why), v.answer
    text = supported_text(v.answer, v.claims)
    return text, None, ("" if text == v.answer else v.answer)


@dataclass(frozen=True)
class Released:
    """One checked sentence: `shown` (supported: `text` is answer text, with its separator) or not."""

    claim: Claim
    shown: bool
    text: str = ""


class CheckedStream:
    """Releases an answer being generated one checked sentence at a time.

    `feed(piece)` takes answer text (reasoning already split off) and returns the events of the
    sentences that became complete: a sentence is complete once text with letters follows it (so a
    citation marker after its full stop, "... 6 hours. [2]", still belongs to it). `flush()` checks
    the last sentence. Every released sentence was checked by `check_one` (the same checks as the
    final verification, sentence by sentence, so the verdicts agree).
    """

    def __init__(self, check_one: Callable[[str], list[Claim]]):
        self.check_one = check_one
        self.text = ""
        self.released = 0  # sentences released so far
        self.last_end: int | None = None  # end offset of the last released supported sentence

    def feed(self, piece: str) -> list[Released]:
        self.text += piece
        sents = sentences(self.text)
        if len(sents) < 2 or not _has_words(sents[-1].text):
            return []
        return self._release(sents[:-1])

    def flush(self) -> list[Released]:
        return self._release(sentences(self.text))

    def _release(self, sents) -> list[Released]:
        out: list[Released] = []
        for s in sents[self.released:]:
            for claim in self.check_one(s.text):
                if claim.status == "supported":
                    sep = "" if self.last_end is None else ("\n" if "\n" in self.text[self.last_end:s.start] else " ")
                    out.append(Released(claim, True, sep + claim.text))
                    self.last_end = s.end
                else:
                    out.append(Released(claim, False))
        self.released = len(sents)
        return out


def _has_words(text: str) -> bool:
    return any(c.isalpha() for c in _MARK.sub(" ", text))


def supported_text(text: str, claims: list[Claim]) -> str:
    """The answer reduced to its supported sentences, in order, with the model's own separators
    (a newline between two kept sentences when one stood between them in the answer)."""
    keep = {c.text for c in claims if c.status == "supported"}
    out, last = "", None
    for s in sentences(text):
        if s.text in keep:
            if last is not None:
                out += "\n" if "\n" in text[last:s.start] else " "
            out += s.text
            last = s.end
    return out


def unreadable_pages(manifest, passages: list[Passage], limit: int = 3) -> str:
    """A sentence naming pages without extractable text that may hold the answer: those of the
    retrieved documents first, then any in the collection (a small collection's scan is likely
    the page asked about)."""
    if manifest is None:
        return ""
    m = manifest
    near = list(dict.fromkeys(p.source for p in passages))
    docs = [(src, m.documents[src]) for src in near if src in m.documents]
    docs += [(src, d) for src, d in sorted(m.documents.items()) if src not in near]
    found = [(src, d["pages_without_text"]) for src, d in docs if d.get("pages_without_text")]
    if not found:
        return ""
    parts = []
    for src, pages in found[:limit]:
        labels = m.documents[src].get("page_labels", {}) or {}  # printed labels, by physical page
        shown = [str(labels.get(str(p), p)) for p in pages[:5]]
        more = f" and {len(pages) - 5} more" if len(pages) > 5 else ""
        word = "page" if len(pages) == 1 else "pages"
        parts.append(f"{word} {', '.join(shown)}{more} of {Path(src).name}")
    verb = "has" if len(found) == 1 and len(found[0][1]) == 1 else "have"
    return (f"Note: {'; '.join(parts)} {verb} no readable text (a scan or image) and may hold the "
            "answer (ragmed cannot read scanned pages yet): read them in the document, or ask your administrator for a text version.")
