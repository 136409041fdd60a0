"""Deterministic distortions of guideline sentences: the adversarial claims benchmark
(benchmarks/adversarial_claims.py, issue 19).

`distortions(id, sentence, passage)` returns `Case` records: controls (the sentence as written, the
fixed-synonym paraphrase of ragmed/eval/trust.py, and a freely reworded version) that the passage
supports, and one distortion of each kind the sentence allows, made on the sentence as written and on
the reworded version. Each distortion changes what the sentence says and nothing else:

- negation: "should" -> "should not", "should not" -> "should", "avoid" -> "use", "is" -> "is not";
- direction: more/less, higher/lower, increase/decrease, before/after, at least/at most, above/below;
- entity: a drug, formulation or route of the claim replaced by another one named in the passage;
- number: a quantity's value replaced by another value the passage states (same unit when it has one);
- unit: a quantity's unit replaced by a confusable one (mg <-> µg, g -> mg, weeks <-> months, ...);
- population: adults <-> children, older adults -> adults, pregnancy -> children, or "in children" added;
- modality: should -> must / may, may -> must, must -> may, "some" -> "all", or "only" added;
- bound: the comparator in front of an amount dropped ("at least 80 percent" -> "80 percent", "a
  maximum of 10 mg" -> "10 mg", "<5 g" -> "5 g"), unless a change or limit verb leads to it ("increase to a
  maximum of 10 mg" -> "increase to 10 mg", "limit salt to less than 5 g" -> "limit salt to 5 g" still
  say where the dose stops; ground/bounds.CHANGE_TO).

One more control, "same-bound", writes such a comparator another way that means the same ("at least
80 percent" -> "80 percent or more", "up to 10 mg" -> "no more than 10 mg", "<5 g" -> "less than 5 g").

Choices that have several options are made by a sha1 of the case id, so the same data always gives
the same cases. The entity kind uses the drug/formulation/route list of ground/cues.py, so it
measures the checker on entities that list knows; unknown drug names are not distorted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..ground.bounds import CHANGE_TO
from ..ground.cues import analyse
from ..ground.quantities import _UNITS, quantities
from .trust import paraphrase

KINDS = ("negation", "direction", "entity", "number", "unit", "population", "modality", "bound")
CONTROLS = ("as-written", "paraphrase", "reworded", "same-bound")


@dataclass(frozen=True)
class Case:
    id: str  # "<source id>:<kind>" or "<source id>:<kind>@reworded"
    source: str  # the gold/sentence id (its split is by this id)
    kind: str  # a control or a distortion kind
    claim: str
    passage: str
    supported: bool  # the truth: controls True, distortions False


def _pick(key: str, options: list):
    return options[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(options)] if options else None


def _sub_first(pattern: str, repl, text: str) -> str | None:
    out, n = re.subn(pattern, repl, text, count=1, flags=re.IGNORECASE)
    return out if n and out != text else None


def _case(m: re.Match, word: str) -> str:
    return word[0].upper() + word[1:] if m.group(0)[0].isupper() else word


# -- controls -------------------------------------------------------------------------------------

_REWORD = [
    (r"^Clinicians should\b", "Doctors are advised to"), (r"\bwith patients\b", "with the people they treat"),
    (r"\bpatients\b", "people"), (r"\bclinicians\b", "health care professionals"),
    (r"\bopioid therapy\b", "opioid treatment"), (r"\bpain\b", "pain"), (r"\bshould be\b", "ought to be"),
    (r"\bshould\b", "ought to"), (r"\bpeople with\b", "people who have"), (r"\bincluding\b", "such as"),
]


def reword(sentence: str) -> str:
    """A free rewording: the synonym paraphrase, a few phrase rewrites and a lead-in clause."""
    text = paraphrase(sentence, min_changes=0) or sentence
    for pat, rep in _REWORD:
        text = re.sub(pat, lambda m, r=rep: _case(m, r), text, count=1)
    text = text.rstrip(" .")
    return "In practice, " + text[0].lower() + text[1:] + "." if text[:2] != text[:2].upper() else \
        "In practice, " + text + "."


# -- distortions ----------------------------------------------------------------------------------

def negate(s: str, key: str) -> str | None:
    for pat, rep in [(r"\b(should|must|may|can|will|do|does|did) not\b", r"\1"), (r"\bcannot\b", "can"),
                     (r"\b(is|are|was|were) not\b", r"\1"), (r"\bnever\b", "always"),
                     (r"\bavoid(ed|ing|s)?\b", r"use\1"), (r"\brecommends? against\b", "recommends"),
                     (r"\bwithout\b", "with"), (r"\bno longer\b", "still")]:
        out = _sub_first(pat, rep, s)
        if out:
            return re.sub(r"\buse(ed)\b", "used", out)
    for pat, rep in [(r"\b(should|must|may|can|will)\b", r"\1 not"), (r"\b(is|are)\b", r"\1 not"),
                     (r"\b(reduces|increases|improves|causes)\b", r"does not \1")]:
        out = _sub_first(pat, rep, s)
        if out:
            return re.sub(r"does not (\w+?)e?s\b", lambda m: "does not " + m.group(0).split()[-1][:-1], out) \
                if "does not" in out and "does not" not in s else out
    return None


_OPPOSITE = {"more": "less", "less": "more", "fewer": "more", "higher": "lower", "lower": "higher",
             "increase": "decrease", "decrease": "increase", "increased": "decreased", "decreased": "increased",
             "increases": "decreases", "decreases": "increases", "increasing": "decreasing",
             "decreasing": "increasing", "reduce": "increase", "reduces": "increases", "reduced": "increased",
             "reducing": "increasing", "before": "after", "after": "before", "prior to": "after",
             "at least": "at most", "at most": "at least", "above": "below", "below": "above",
             "greater": "smaller", "maximize": "minimize", "minimize": "maximize", "longer": "shorter",
             "shorter": "longer", "earlier": "later", "later": "earlier", "exceed": "stay below",
             "exceeds": "stays below", "exceeding": "staying below", "no more than": "at least",
             "minimum": "maximum", "maximum": "minimum", "≥": "≤", "≤": "≥"}
_DIR = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(_OPPOSITE, key=len, reverse=True))
                  + r")(?![\w-])", re.IGNORECASE)


def redirect(s: str, key: str) -> str | None:
    hits = [m for m in _DIR.finditer(s) if not re.search(r"\b" + re.escape(_OPPOSITE[m.group(0).lower()]) + r"\b",
                                                          s, re.IGNORECASE)]  # "more or less": no clean swap
    m = _pick(key, hits)
    if not m:
        return None
    return s[:m.start()] + _case(m, _OPPOSITE[m.group(0).lower()]) + s[m.end():]


def swap_entity(s: str, key: str, passage: str) -> str | None:
    claim_cues = [c for c in analyse(s).cues if c.family in ("drug", "form", "route")]
    have = {c.value for c in claim_cues}
    others = {}
    for c in analyse(passage).cues:
        if c.family in ("drug", "form", "route") and c.value not in have:
            others.setdefault(c.family, []).append(c.word)
    options = [(c, w) for c in claim_cues for w in dict.fromkeys(others.get(c.family, []))]
    choice = _pick(key, options)
    if not choice:
        return None
    c, new = choice
    return _sub_first(r"(?<![\w-])" + re.escape(c.word) + r"(?![\w-])", lambda m: new, s)


def _replace_span(s: str, start: int, end: int, new: str) -> str:
    return s[:start] + new + s[end:]


def _reference(s: str, q) -> bool:
    """A citation of a reference ("(158)", "[12, 13]", "Recommendation 8"): not a stated quantity."""
    before, after = s[:q.start].rstrip(), s[q.end:].lstrip()
    return (not q.unit and (before.endswith(("(", "[", ",")) and after[:1] in (")", "]", ",", "–", "-"))
            or re.search(r"(?:Recommendations?|Box|Table|Figure|Annex|page|p\.)[\s\d,and]*$", before,
                         re.IGNORECASE) is not None)


def renumber(s: str, key: str, passage: str) -> str | None:
    cq = [q for q in quantities(s) if q.unit != "times" and not _reference(s, q)]
    pq = [q for q in quantities(passage) if q.unit != "times"]
    options = []
    for q in cq:
        same_unit = [p for p in pq if p.unit == q.unit and p.high is None and p.low != q.low]
        pool = same_unit or [p for p in pq if p.high is None and p.low != q.low and not p.unit]
        for p in pool:
            options.append((q, p.low))
    choice = _pick(key, options)
    if not choice:
        return None
    q, v = choice
    m = re.search(r"\d+(?:[.,]\d+)*|[a-z]+", s[q.start:q.end], re.IGNORECASE)
    return _replace_span(s, q.start + m.start(), q.start + m.end(), f"{v:g}")


_CONFUSE = {"microgram": "mg", "milligram": "µg", "gram": "mg", "kilogram": "g", "milliliter": "L", "liter": "mL",
            "week": "months", "month": "weeks", "day": "weeks", "hour": "days", "minute": "hours",
            "year": "months", "MME": "mg", "IU": "mg", "millimole": "mg", "percent": "mg", "deciliter": "L"}


def reunit(s: str, key: str) -> str | None:
    options = [q for q in quantities(s) if q.unit in _CONFUSE]
    q = _pick(key, options)
    if not q:
        return None
    aliases = sorted((a for a, (p, _) in _UNITS.items() if p == q.unit), key=len, reverse=True)
    seg = s[q.start:q.end]
    for a in aliases:
        m = re.search(r"(?<=[\d\s-])" + re.escape(a) + r"(?![a-zA-Z])", seg, re.IGNORECASE)
        if m:
            new = _CONFUSE[q.unit]
            if q.unit in ("week", "month", "day", "hour", "minute", "year") and q.low == 1 and q.high is None:
                new = new.rstrip("s")
            return _replace_span(s, q.start + m.start(), q.start + m.end(), new)
    return None


_POP_SWAP = [(r"\bolder adults\b", "children"), (r"\badults\b", "children"), (r"\badult\b", "child"),
             (r"\bchildren\b", "adults"), (r"\bchild\b", "adult"), (r"\bpregnant women\b", "children"),
             (r"\bpregnancy\b", "childhood"), (r"\bwomen\b", "men"), (r"\bopioid-naïve\b", "opioid-tolerant"),
             (r"\bopioid-naive\b", "opioid-tolerant"), (r"\bopioid-tolerant\b", "opioid-naive")]


def repopulate(s: str, key: str) -> str | None:
    for pat, rep in _POP_SWAP:
        if re.search(r"\b" + rep + r"\b", s, re.IGNORECASE):
            continue  # "adults and children" -> "children and children" says nothing new
        out = _sub_first(pat, lambda m, r=rep: _case(m, r), s)
        if out:
            return out
    for pat, rep in [(r"\bpatients\b", "children"), (r"\bpersons\b", "children"), (r"\bpeople\b", "children")]:
        out = _sub_first(pat, lambda m, r=rep: _case(m, r), s)
        if out:
            return out
    return "In children, " + s[0].lower() + s[1:] if s[:2] != s[:2].upper() else None


def restrengthen(s: str, key: str) -> str | None:
    options = []
    for pat, reps in [(r"\bshould\b", ["must", "may"]), (r"\bought to\b", ["must", "may"]), (r"\bmay\b", ["must"]),
                      (r"\bcan\b", ["must"]), (r"\bmust\b", ["may"]), (r"\brecommended\b", ["required"]),
                      (r"\bsome\b", ["all"]), (r"\bmost\b", ["all"])]:
        if re.search(pat, s, re.IGNORECASE):
            options += [(pat, r) for r in reps]
    choice = _pick(key, options)
    if choice:
        return _sub_first(choice[0], lambda m: _case(m, choice[1]), s)
    return _sub_first(r"\b(is|are) (\w+ed)\b", r"\1 only \2", s)


# comparator before an amount -> the same bound written another way (the "same-bound" control)
_SAME_BOUND = {"at least": "{q} or more", "no less than": "at least {q}", "not less than": "at least {q}",
               "at most": "no more than {q}", "no more than": "{q} at most", "not more than": "{q} at most",
               "up to": "no more than {q}", "a maximum of": "at most {q}", "maximum of": "at most {q}",
               "a minimum of": "at least {q}", "minimum of": "at least {q}", "less than": "below {q}",
               "below": "less than {q}", "fewer than": "below {q}", "more than": "above {q}",
               "greater than": "above {q}", "above": "more than {q}", "≥": "at least {q}", "≤": "at most {q}",
               ">=": "at least {q}", "<=": "at most {q}", "<": "less than {q}", ">": "more than {q}",
               "not to exceed": "no more than {q}", "not exceed": "be no more than {q}", "exceeding": "above {q}"}
_CMP_BEFORE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(_SAME_BOUND, key=len, reverse=True))
                         + r")\s*$", re.IGNORECASE)
def _bounded_amounts(s: str) -> list[tuple[re.Match, object, int]]:
    """(comparator match, quantity, where the window starts) for each amount led by a comparator."""
    out = []
    for q in quantities(s):
        lo = max(0, q.start - 24)
        m = _CMP_BEFORE.search(s[lo:q.start])
        if m and not _reference(s, q):
            out.append((m, q, lo))
    return out


def unbound(s: str, key: str) -> str | None:
    options = [(m, q, lo) for m, q, lo in _bounded_amounts(s)
               if not CHANGE_TO.search(s[max(0, lo + m.start() - 60):lo + m.start()])]
    choice = _pick(key, options)
    if not choice:
        return None
    m, q, lo = choice
    return s[:lo + m.start()] + s[q.start:]


def same_bound(s: str, key: str) -> str | None:
    """The "same-bound" control: one comparator written another way with the same meaning."""
    choice = _pick(key, _bounded_amounts(s))
    if not choice:
        return None
    m, q, lo = choice
    new = _SAME_BOUND[m.group(1).lower()].format(q=s[q.start:q.end].strip())
    return s[:lo + m.start()] + _case(m, new) + s[q.end:]


def distort(kind: str, s: str, key: str, passage: str) -> str | None:
    """One distortion of `s` (None when the sentence offers nothing of that kind)."""
    fn = {"negation": lambda: negate(s, key), "direction": lambda: redirect(s, key),
          "entity": lambda: swap_entity(s, key, passage), "number": lambda: renumber(s, key, passage),
          "unit": lambda: reunit(s, key), "population": lambda: repopulate(s, key),
          "modality": lambda: restrengthen(s, key), "bound": lambda: unbound(s, key)}[kind]
    out = fn()
    return out if out and out.strip() != s.strip() else None


def distortions(source: str, sentence: str, passage: str) -> list[Case]:
    """Controls and every distortion kind the sentence allows (module docstring)."""
    out = [Case(f"{source}:as-written", source, "as-written", sentence, passage, True)]
    para = paraphrase(sentence)
    if para:
        out.append(Case(f"{source}:paraphrase", source, "paraphrase", para, passage, True))
    reworded = reword(sentence)
    out.append(Case(f"{source}:reworded", source, "reworded", reworded, passage, True))
    same = same_bound(sentence, f"{source}:same-bound")
    if same and same.strip() != sentence.strip():
        out.append(Case(f"{source}:same-bound", source, "same-bound", same, passage, True))
    for base, tag in ((sentence, ""), (reworded, "@reworded")):
        for kind in KINDS:
            d = distort(kind, base, f"{source}:{kind}{tag}", passage)
            if d:
                out.append(Case(f"{source}:{kind}{tag}", source, kind, d, passage, False))
    return out
