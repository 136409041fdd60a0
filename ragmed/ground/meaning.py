"""Does the evidence sentence a claim rests on say what the claim says? (issue 19, "claim checks on
meaning")

`compare(claim, evidence, passages)` takes the claim, one aligned evidence unit (a sentence or two
adjacent sentences of the cited passages, chosen by the checker in ground/verify.py) and the whole
cited text, and returns None when they agree, or a `Mismatch` with a plain-words reason. It checks,
in this order:

1. quantities (ground/quantities.py): every quantity of the claim must be stated in the unit with the
   same value in a compatible unit ("the passage says 25 µg, not 25 mg"), and bound to the same thing
   when the unit gives several values of that kind (the claim's words next to the number must not sit
   closer to another value of the passage); then slots (ground/slots.py): aligned word by word, no
   number or named drug/formulation/route/population of the claim may stand where the evidence
   has another one;
2. negation: a negation cue of the claim needs one about the same words in the passage, and a
   negation of the passage about the claim's words needs one in the claim ("the passage says not to");
3. bounds (at least / at most), direction (more / less, increase / decrease), time order
   (before / after): the passage's cue about the same words must have the same value; an amount the
   passage bounds ("at least 80 percent", "a maximum of 10 mg") must keep a bound in the claim
   (ground/bounds.py);
4. modality ("the passage says should, not must") and scope words (only, all);
5. population ("the passage is about adults, not children") and entity: the drug, formulation or
   route the claim names must be the one the aligned sentence names when the passage names several.

Cues are about "the same words" when their contexts (ground/cues.py: up to 4 content terms on each
side) share a term. Every rule was chosen on the dev split of benchmarks/adversarial_claims.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..tokenize import UNITS, tokenize
from .bounds import dropped_bound
from .cues import Analysis, Cue, analyse
from .quantities import Quantity, _close, cached
from .slots import bound_number, slot_mismatch


@dataclass(frozen=True)
class Mismatch:
    kind: str  # "quantity" | "negation" | "bound" | "direction" | "order" | "modality" | "scope" | "population" | "entity"
    reason: str  # plain words, e.g. "the passage says 25 µg, not 25 mg"


_quantities = cached  # ground/quantities.py: parsed once per text, shared with ground/bounds.py


def _context(text: str, qs: tuple[Quantity, ...], i: int) -> frozenset[str]:
    """Content terms next to quantity i (up to the neighbouring quantities), numbers and units left out."""
    q = qs[i]
    left = max(qs[i - 1].end if i else 0, q.start - 70)
    right = min(qs[i + 1].start if i + 1 < len(qs) else len(text), q.end + 40)
    words = tokenize(text[left:q.start]) + tokenize(text[q.end:right])
    return frozenset(w for w in words if not re.search(r"\d", w) and w not in UNITS)


def _quantity(claim: str, evidence: str) -> Mismatch | None:
    cq, eq = _quantities(claim), _quantities(evidence)
    for i, q in enumerate(cq):
        same = [j for j, e in enumerate(eq) if q.same_as(e)]
        if same:
            if len(eq) > 1:  # bound to the right thing?
                ctx = _context(claim, cq, i)
                best_same = max(len(ctx & _context(evidence, eq, j)) for j in same)
                for j, e in enumerate(eq):
                    if j not in same and q.same_as(e) is False:
                        if len(ctx & _context(evidence, eq, j)) > best_same:
                            return Mismatch("quantity", f"the passage says {e.shown}, not {q.shown}, for that")
            continue
        raw = [e for e in eq if _close(e.low, q.low) and ((e.high is None) == (q.high is None))]
        if raw:
            return Mismatch("quantity", f"the passage says {raw[0].shown}, not {q.shown}")
        kind = [j for j, e in enumerate(eq) if q.same_as(e) is False]
        if kind:
            ctx = _context(claim, cq, i)
            j = max(kind, key=lambda j: len(ctx & _context(evidence, eq, j)))
            return Mismatch("quantity", f"the passage says {eq[j].shown}, not {q.shown}")
        return Mismatch("quantity", f"the passage does not state {q.shown}")
    return None


def _slot(claim: str, evidence: str) -> Mismatch | None:
    """A number or named thing of the claim standing where the evidence has another (ground/slots.py)."""
    hit = slot_mismatch(claim, evidence)
    if hit is None:
        bound = bound_number(claim, evidence)
        if bound is None:
            return None
        hit = ("number", *bound)
    kind, theirs, mine = hit
    if kind == "number":
        return Mismatch("quantity", f"the passage says {theirs} there, not {mine}")
    return Mismatch("entity", f"the passage says this of {theirs}, not {mine}")


def _covered(e: Cue, claim: Analysis) -> bool:
    """Is the passage's cue about words the claim states (most of its scope and context)?"""
    if not e.after:
        return False
    return (len(e.after & claim.terms) >= math.ceil(COVER_SHARE * len(e.after))
            and len(e.around & claim.terms) >= math.ceil(COVER_SHARE * len(e.around)))


COVER_SHARE = 0.5  # share of a passage negation's context the claim must state for it to apply
NEG_SHARE = 0.5  # ... for two negations to be about the same words
ABOUT_SHARE = 0.4  # share of a cue's context that another cue's context must share to be "about the same words"


def _about(c: Cue, cands: list[Cue]) -> list[Cue]:
    """The passage cues about the same words as `c` (the ones sharing most of its context)."""
    need = max(1, math.ceil(ABOUT_SHARE * len(c.around)))
    scored = [(len(c.around & e.around), e) for e in cands]
    scored = [(n, e) for n, e in scored if n >= need]
    top = max((n for n, _ in scored), default=0)
    return [e for n, e in scored if n == top]


def _same_negation(c: Cue, cands: list[Cue]) -> bool:
    """Is one of the passage's negations about the claim's negated words? It must share a word of
    the claim's scope (the content words after the cue, when there are any) and `NEG_SHARE` of its
    context."""
    need = max(1, math.ceil(NEG_SHARE * len(c.around)))
    return any((not c.after or c.after & e.after) and len(c.around & e.around) >= need for e in cands)


def _negation(claim: Analysis, ev: Analysis) -> Mismatch | None:
    eneg = ev.of("neg")
    for c in claim.of("neg"):
        if not _same_negation(c, eneg):
            return Mismatch("negation", f'the passage does not say "{c.phrase}"')
    cneg = claim.of("neg")
    covered = [e for e in eneg if _covered(e, claim)]
    for e in covered:
        if not _same_negation(e, cneg):
            return Mismatch("negation", f'the passage says "{e.phrase}": not what the claim says')
    if len(cneg) > len(eneg):  # one negation more than the passage: "can not be limited ... should not"
        return Mismatch("negation", f'the passage does not say "{cneg[-1].phrase}"')
    if len(covered) > len(cneg):
        e = covered[-1]
        return Mismatch("negation", f'the passage says "{e.phrase}": not what the claim says')
    return None




def _signed(claim: Analysis, ev: Analysis, family: str, kind: str) -> Mismatch | None:
    """Bound, direction, order, modality: the passage's cue about the same words has the claim's value."""
    cands = ev.of(family)
    for c in claim.of(family):
        about = _about(c, cands)
        if about:
            if any(e.value == c.value for e in about):
                continue
            return Mismatch(kind, f'the passage says "{about[0].word}", not "{c.word}"')
        values = {e.value for e in cands}
        if values and c.value not in values:
            e = cands[0]
            return Mismatch(kind, f'the passage says "{e.word}", not "{c.word}"')
        if family == "modal" and c.value == "must" and "must" not in values:
            word = next((e.word for e in cands), "")
            return Mismatch(kind, f'the passage says "{word}", not "{c.word}"' if word
                            else f'the passage does not say "{c.word}"')
    return None


def _scope(claim: Analysis, ev: Analysis) -> Mismatch | None:
    cands = ev.of("scope")
    for c in claim.of("scope"):
        if c.value == "some":
            continue  # weaker than the passage's "all": not a distortion of meaning
        about = _about(c, cands)
        if not any(e.value == c.value for e in about) and not any(e.value == c.value for e in cands):
            return Mismatch("scope", f'the passage does not say "{c.word}"' if not about
                            else f'the passage says "{about[0].word}", not "{c.word}"')
    return None


def _named(claim: Analysis, ev: Analysis, whole: Analysis, family: str, kind: str) -> Mismatch | None:
    """Population / entity: what the claim names must be what the aligned evidence names."""
    cands = ev.of(family)
    have = {c.value for c in cands}
    for c in claim.of(family):
        about = _about(c, cands)
        if about and any(e.value == c.value for e in about):
            continue
        if not about and any(e.value == c.value and len(e.around & c.around) >= min(2, len(c.around))
                             for e in cands):
            continue  # named next to some of the same words
        others = " and ".join(sorted({e.value for e in about} or have - {c.value}))
        if others:
            if kind == "population":
                return Mismatch(kind, f"the passage is about {others}, not {c.value}")
            return Mismatch(kind, f"the passage says this of {others}, not {c.value}")
        if kind == "population" or c.value not in {x.value for x in whole.of(family)}:
            return Mismatch(kind, f"the passage does not say this about {c.value}")
    return None


# A dose's role, read beside the bounds: a starting dose is not a maximum ("Losartan is started at
# 50 mg" does not back "the maximum dose of losartan is 50 mg"). Read with a word list, not as cues,
# so the other checks' context terms are unchanged.
_ROLES = {"starting": re.compile(r"\b(?:start|starts|started|starting|initial|initially|begin|begins|began|begun)\b", re.I),
          "maintenance": re.compile(r"\bmaintenance\b", re.I), "loading": re.compile(r"\bloading\b", re.I)}


def _dose_role(claim: str, evidence: str, ca: Analysis, ea: Analysis) -> Mismatch | None:
    """A claim that states an amount as a maximum (bound "max": maximum, not exceed, at most...) needs
    evidence that states a maximum, not a starting/maintenance/loading dose; and the reverse."""
    if not re.search(r"\d", claim):
        return None
    cr = sorted(r for r, rx in _ROLES.items() if rx.search(claim))
    er = sorted(r for r, rx in _ROLES.items() if rx.search(evidence))
    cmax = any(c.value == "max" for c in ca.of("bound"))
    emax = any(e.value == "max" for e in ea.of("bound"))
    if cmax and not emax and er and not cr:
        return Mismatch("bound", f"the passage gives the {er[0]} dose, not a maximum")
    if cr and not er and emax and not cmax:
        return Mismatch("bound", f"the passage gives a maximum, not the {cr[0]} dose")
    if cr and er and not set(cr) & set(er):
        return Mismatch("bound", f"the passage gives the {er[0]} dose, not the {cr[0]} dose")
    return None


def _dropped(claim: str, evidence: str) -> Mismatch | None:
    """An amount the passage bounds ("at least 80 percent") stated without its bound (ground/bounds.py)."""
    hit = dropped_bound(claim, evidence)
    return Mismatch("bound", f'the passage says "{hit[0]}", not just {hit[1]}') if hit else None


def compare(claim: str, evidence: str, whole: str = "") -> Mismatch | None:
    """None when `evidence` says what `claim` says (module docstring), else the first mismatch.
    `whole`: all the cited text (entity names found only outside the aligned unit)."""
    m = _quantity(claim, evidence) or _slot(claim, evidence)
    if m:
        return m
    ca, ea = analyse(claim), analyse(evidence)
    wa = analyse(whole) if whole else ea
    return (_negation(ca, ea) or _signed(ca, ea, "bound", "bound") or _dropped(claim, evidence)
            or _dose_role(claim, evidence, ca, ea)
            or _signed(ca, ea, "dir", "direction")
            or _signed(ca, ea, "order", "order") or _signed(ca, ea, "modal", "modality") or _scope(ca, ea)
            or _named(ca, ea, wa, "pop", "population") or _named(ca, ea, wa, "form", "entity")
            or _named(ca, ea, wa, "route", "entity") or _named(ca, ea, wa, "drug", "entity"))
