"""Lexical tokenisation for medical text: keeps doses, units, decimals and hyphenated names searchable.

    "Give 0.5 mg/kg of co-trimoxazole (TMP-SMX) for COVID-19; HbA1c < 7%"
    -> 0.5 mg kg 0.5mg co trimoxazol cotrimoxazol tmp smx tmpsmx covid 19 covid19 hba1c 7 %...

Rules (the same for documents and queries, so either spelling finds the other):
- text is NFKC-normalised and lower-cased; "1,000" becomes "1000"; a decimal comma stays a decimal;
- a hyphenated or slashed compound ("co-trimoxazole", "IL-6", "mg/kg") yields its parts and the
  parts joined ("cotrimoxazole", "il6"), so "IL6", "IL-6" and "IL 6" all match;
- a number directly followed by a unit ("5 mg", "5mg") also yields the joined token "5mg";
- micro units have one spelling: "µg", "μg" (micro sign and Greek mu), "mcg", "ug", "microgram(s)"
  and "microgramme(s)" are all "mcg"; "µmol"/"umol"/"micromole(s)" are "umol"; "µL"/"mcL"/
  "microlitre(s)" are "ul" (so "25µg", "25 mcg" and "25 micrograms" all yield "25mcg");
- alphabetic words are Snowball-stemmed (PyStemmer) and English stopwords dropped; tokens with
  digits are never stemmed ("hba1c", "covid19", "0.5").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A token: letters/digits with internal '.', ',' (only between digits), '-', '/', '+' joining parts.
_TOKEN = re.compile(r"[^\W_]+(?:(?:(?<=\d)[.,](?=\d)|[-/+'’])[^\W_]+)*|%|‰")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_SPLIT = re.compile(r"[-/+'’]")
_HAS_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_GREEK = re.compile(r"^[\u0370-\u03ff]$")

_MICRO = (
    (re.compile(r"(?<![^\W\d_])(?:[µμ]g|mcg|ug|micrograms?|microgrammes?)(?![^\W\d_])"), "mcg"),
    (re.compile(r"(?<![^\W\d_])(?:[µμ]mol|umol|micromol(?:es?)?)(?![^\W\d_])"), "umol"),
    (re.compile(r"(?<![^\W\d_])(?:[µμ]l|mcl|microlit(?:re|er)s?)(?![^\W\d_])"), "ul"),
)

UNITS = frozenset(
    "mg g kg mcg umol ul µg ug ng pg ml l dl mmol mol meq iu u units unit mmhg h hr hrs min mins s sec d "
    "wk wks mo y yr yrs cm mm m km % bpm mosm kcal cal ms".split()
)

# A compact English stopword list (the usual IR list, minus words that carry clinical meaning:
# negations and comparison words such as "no", "not", "without", "over", "under", "more", "less").
STOPWORDS = frozenset(
    """a about after again all am an and any are as at be because been before being between both but
    by can could did do does doing down during each few for from further had has have having he her
    here hers herself him himself his how i if in into is it its itself just me my myself now of off
    on once only or other our ours ourselves out own same she should so some such than that the their
    theirs them themselves then there these they this those through to too until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves""".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer  # PyStemmer

        return Stemmer.Stemmer("english").stemWord
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        return lambda w: w


def _word(w: str, stem) -> str | None:
    if w in STOPWORDS:
        return None
    if _HAS_DIGIT.search(w):
        return w  # "hba1c", "covid19", "0.5": never stemmed
    if len(w) == 1 and w not in UNITS and not _GREEK.match(w):
        return None
    return stem(w)


def tokenize(text: str) -> list[str]:
    """Index/query terms of a text (see the module docstring)."""
    stem = _stemmer()
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text).lower())
    if "μ" in text or "mc" in text or "ug" in text or "micro" in text or "ul" in text or "umol" in text:
        for pattern, canonical in _MICRO:
            text = pattern.sub(canonical, text)
    out: list[str] = []
    prev_number: str | None = None
    for m in _TOKEN.finditer(text):
        tok = m.group(0).replace(",", ".") if _NUMBER.match(m.group(0).replace(",", ".")) else m.group(0)
        parts = [p for p in _SPLIT.split(tok) if p]
        if len(parts) > 1:
            for p in parts:
                w = _word(p, stem)
                if w:
                    out.append(w)
            joined = "".join(parts)
            if len(joined) <= 30:
                out.append(joined if _HAS_DIGIT.search(joined) else stem(joined))
            if prev_number is not None and parts[0] in UNITS:  # "0.5 mg/kg" -> "0.5mg"
                out.append(prev_number + parts[0])
            prev_number = None
            continue
        # split a leading number from an attached unit: "5mg" -> "5", "mg", "5mg"
        num_unit = re.match(r"^(\d+(?:\.\d+)?)([a-zµ%]+)$", tok)
        if num_unit and num_unit.group(2) in UNITS:
            out.extend([num_unit.group(1), num_unit.group(2), tok])
            prev_number = None
            continue
        w = _word(tok, stem)
        if w:
            out.append(w)
        if prev_number is not None and tok in UNITS:
            out.append(prev_number + tok)
        prev_number = tok if _NUMBER.match(tok) else None
    return out
