"""How a question is asked: its language, its key terms (spelling variants matched to the
collection's vocabulary, everyday words told from rare ones) and the kind of answer it asks for.

The abstention gate (ground/gate.py) reads questions as staff and patients type them:

- **Language**: the embedder (all-MiniLM-L6-v2) and the claim checks read English. A question is
  said to be in another language when it has at least `MIN_FOREIGN` words that are very common in
  that language (Zipf >= 5: function words such as "les", "sont", "est") and at least `MARGIN`
  Zipf points rarer in English, and more such words than words of the opposite kind (English
  function words rarer in that language). Word frequencies come from
  `wordfreq` (deterministic lookup tables, no model): short English queries ("TB spread?") have no
  foreign function words and stay English. A question mostly written in another script (Cyrillic,
  Arabic, CJK, Devanagari...) is not English whatever its words (`other_script`).
- **Key terms**: the question's index terms (ragmed/tokenize.py) less question filler. A term the
  collection's vocabulary lacks is matched to the closest vocabulary term within `max_edits`
  (Optimal String Alignment distance, rapidfuzz; 1 edit for terms of 4-5 letters, 2 for 6-9,
  3 for longer), so "symtoms", "tuberculosys" and "naloxon" count as the words the documents use;
  a code with digits matches a vocabulary code it begins or ends with ("HbA1c" / "A1C").
  Only words rarer than `CORRECT_BELOW` in English are corrected ("bleach" is a word, not a typo of
  "breach"); ties go to the term with the same first letter. A word within one edit of an English
  stopword ("waht", "teh") or of a word that says what is asked ("ofen", "lnog": `FORM_WORDS`) is
  a typo of that word, also when the kind of answer asked for is read ("how ofen" asks how often).
- **Rarity**: each term weighs by how rare its word is in everyday English,
  ``rarity = clip((5.5 - zipf_en) / 3, 0, 1)`` (wordfreq Zipf scale: 7 = "the", 3 = once per
  million words). A rare word the collection lacks ("isotretinoin") is strong evidence of another
  topic; an everyday word it lacks ("contagious", "cured") only means the documents say it another
  way, which the dense match judges. The weights do not depend on the collection, so adding an
  unrelated document does not move them.
- **Answer kind**: a question asking "how long", "how often", "how much/many" or for a dose is
  covered only when a sentence of the top passages states something of that kind (a duration, a
  frequency, a number with a dose unit, a number) within `WINDOW` words of the question's subject:
  of two of its subject words when the passages hold two or more of them, so that "3 weeks" in
  "symptoms of TB include a cough that lasts 3 weeks" does not answer "how many months does TB
  treatment take" (`states_kind`). A "how many X" question is answered by a number of X: the
  counted word X ("sinks", "visitors", "sessions") must follow a number within `COUNT_GAP` words
  ("2 hand wash sinks"), unless X is a unit the kind check already reads (`counted_word`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..tokenize import tokenize
from .typos import form_spelled, stopword_typo as _stopword_typo, zipf  # zipf: also read as asking.zipf

MIN_FOREIGN = 2
CORRECT_BELOW = 3.0  # Zipf: words at least this common in English are taken as typed, not as typos
MARGIN = 1.5  # Zipf points: a function word of one language, rare in the other
LANGUAGES = {"fr": "French", "es": "Spanish", "de": "German", "pt": "Portuguese", "it": "Italian",
             "nl": "Dutch", "ca": "Catalan", "cs": "Czech", "da": "Danish", "fi": "Finnish",
             "fil": "Filipino", "hu": "Hungarian", "id": "Indonesian", "ms": "Malay", "nb": "Norwegian",
             "pl": "Polish", "ro": "Romanian", "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish",
             "tr": "Turkish", "vi": "Vietnamese", "lt": "Lithuanian", "lv": "Latvian", "is": "Icelandic"}
# Other scripts: the embedder's vocabulary is English; a question mostly in another script is
# named by its script (unicodedata), whatever its language.
SCRIPTS = {"CYRILLIC": "a language written in Cyrillic", "ARABIC": "a language written in Arabic script",
           "CJK": "Chinese or Japanese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
           "DEVANAGARI": "a language written in Devanagari", "GREEK": "Greek", "HEBREW": "Hebrew",
           "THAI": "Thai", "BENGALI": "Bengali", "TAMIL": "Tamil", "ETHIOPIC": "Amharic or Tigrinya",
           "GEORGIAN": "Georgian", "ARMENIAN": "Armenian", "GUJARATI": "Gujarati", "GURMUKHI": "Punjabi",
           "TELUGU": "Telugu", "KANNADA": "Kannada", "MALAYALAM": "Malayalam", "SINHALA": "Sinhala",
           "KHMER": "Khmer", "LAO": "Lao", "MYANMAR": "Burmese"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def detect_language(question: str) -> str | None:
    """ISO code of the question's language when it is clearly not English (see the module
    docstring), a `SCRIPTS` key (or "OTHER") when it is mostly in another script, else None."""
    script = other_script(question)
    if script:
        return script
    words = [w.lower() for w in _WORD.findall(question)]
    best, best_n, best_en = None, 0, 0
    for lang in LANGUAGES:
        n = sum(1 for w in words if zipf(w, lang) >= 5.0 and zipf(w, lang) >= zipf(w) + MARGIN)
        en = sum(1 for w in words if zipf(w) >= 5.0 and zipf(w) >= zipf(w, lang) + MARGIN)
        if n > best_n:
            best, best_n, best_en = lang, n, en
    if best is not None and best_n >= MIN_FOREIGN and best_n > best_en:
        return best
    return None


def other_script(question: str) -> str | None:
    """The script of a question whose letters are mostly not Latin (a key of `SCRIPTS`), else None."""
    import unicodedata

    letters = [c for c in question if c.isalpha()]
    if not letters:
        return None
    names = [unicodedata.name(c, "").split(" ")[0] for c in letters]
    latin = sum(n == "LATIN" for n in names)
    if latin * 2 >= len(letters):
        return None
    counts: dict[str, int] = {}
    for n in names:
        if n != "LATIN":
            counts[n] = counts.get(n, 0) + 1
    top = max(sorted(counts), key=counts.get)
    return top if top in SCRIPTS else "OTHER"


def unread_words(question: str, vocabulary: "Vocabulary | None") -> bool:
    """A question of 3 or more words of which at least 2 in 3 are neither English (Zipf >= 2.5),
    nor terms of the collection (spelling variants of 6 letters or more matched), nor typos of English stopwords: written
    in a language that neither wordfreq's tables above nor the documents know ("Kifua kikuu
    kinatibiwa kwa muda gani?")."""
    words = [w.lower() for w in _WORD.findall(question)]
    if len(words) < 3:
        return False

    def known(w: str) -> bool:
        if zipf(w) >= 2.5 or _stopword_typo(w):
            return True
        if vocabulary is None:
            return False
        # spelling variants only for longer words: a short word is within one edit of many terms
        return any(t in vocabulary.terms or (len(t) >= 6 and vocabulary.match(t)) for t in tokenize(w))

    return sum(not known(w) for w in words) * 3 >= 2 * len(words)


def language_name(code: str) -> str:
    """Plain words for a `detect_language` result."""
    return LANGUAGES.get(code) or SCRIPTS.get(code) or "a language other than English"


def rarity(word: str) -> float:
    """0 (everyday English word) to 1 (rare word: drug, disease, jargon); see the module docstring."""
    if not word.isalpha():
        return 1.0  # "hba1c", "covid19", numbers: specific
    return max(0.0, min(1.0, (5.5 - zipf(word)) / 3.0))


def max_edits(term: str) -> int:
    n = len(term)
    return 0 if n < 4 else 1 if n < 6 else 2 if n < 10 else 3


@dataclass(frozen=True)
class Term:
    """One key term of a question."""

    word: str  # as typed (lower case)
    term: str  # index term (stemmed), or the vocabulary term it was matched to
    weight: float  # 0.25-1, more for rare words
    rare: float  # rarity 0-1
    in_vocabulary: bool  # the collection has it (directly or as a spelling variant)
    corrected: bool = False  # matched to a spelling variant


@dataclass
class Vocabulary:
    """The collection's index terms, for spelling variants (`match`)."""

    terms: frozenset[str]
    df: "Callable[[str], int] | None" = None  # term -> chunks holding it (clipped words: ground/shortforms.py)
    _list: list[str] = field(default_factory=list, repr=False)
    _coded: list[str] = field(default_factory=list, repr=False)

    def match(self, term: str) -> str | None:
        """The closest vocabulary term within `max_edits(term)` (None: none; ties: the one met
        first in sorted order, so the result does not depend on the index's internal order)."""
        if term in self.terms:
            return term
        if not self._list:
            self._list = sorted(t for t in self.terms if t.isalpha() and len(t) >= 3)
            self._coded = sorted(t for t in self.terms if len(t) >= 3 and re.search(r"\d", t) and re.search(r"[a-z]", t))
        if re.search(r"\d", term) and re.search(r"[a-z]", term):
            # codes written longer or shorter: "hba1c" / "a1c", "covid19" / "covid" stays unmatched
            for t in self._coded:
                if term.endswith(t) or term.startswith(t) or t.endswith(term) or t.startswith(term):
                    return t
            return None
        k = max_edits(term)
        if k == 0 or not term.isalpha():
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        cands = [t for t in self._list if abs(len(t) - len(term)) <= k]
        hits = process.extract(term, cands, scorer=OSA.distance, score_cutoff=k, limit=None)
        if not hits:
            return self._clipped(term)
        best = min(h[1] for h in hits)
        tied = [h[0] for h in hits if h[1] == best]
        # ties: a British/American spelling of the word ("iodised" -> "iodized", not "iodic"), then the
        # candidate with the same first letter ("efects" -> "effect", not "defect"), then sorted order
        return min(tied, key=lambda t: (_us(t) != _us(term), t[0] != term[0], t))


    def _clipped(self, term: str) -> str | None:
        if self.df is None:
            return None
        from .shortforms import completion

        return completion(term, self._list, self.df)


_UK_US = ((re.compile(r"is(?=e|ing|ation|ed|er|\b)|is$"), "iz"), (re.compile(r"ys(?=e|ing|ed|is)|ys$"), "yz"),
          (re.compile(r"our(?=\b|s|ed|ing|$)"), "or"), (re.compile(r"(?<=[a-z])ae"), "e"), (re.compile(r"(?<=[a-z])oe"), "e"))


def _us(word: str) -> str:
    """A word with British spellings written the American way (-ise/-ize, -yse/-yze, -our/-or,
    ae/oe -> e), to compare spelling variants."""
    for rx, to in _UK_US:
        word = rx.sub(to, word)
    return word


def key_terms(question: str, filler: frozenset[str], vocabulary: Vocabulary | None = None) -> list[Term]:
    """The question's key terms, in order, without repeats (see the module docstring)."""
    out: dict[str, Term] = {}
    for m in re.finditer(r"\S+", question.lower()):
        raw = m.group(0)
        letters = "".join(_WORD.findall(raw))
        if letters and letters == raw.strip("?!.,;:()\"'") and _stopword_typo(letters):
            continue
        for t in tokenize(raw):
            if t in filler or t in out:
                continue
            word = raw.strip("?!.,;:()\"'") or t
            r = 1.0 if re.search(r"\d", t) else rarity(letters or t)
            if vocabulary is None:
                hit = t
            elif t in vocabulary.terms or not letters or zipf(letters) < CORRECT_BELOW:
                hit = vocabulary.match(t)
            else:
                hit = None  # an English word ("bleach"), not a typo of another ("breach")
            if hit is not None and hit in filler:
                continue
            out[t] = Term(word, hit or t, 0.25 + 0.75 * r, r, hit is not None, hit is not None and hit != t)
    return list(out.values())


# -- answer kinds -----------------------------------------------------------------------------------

_NUM = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|a few|half)"
_TIME_UNIT = r"(?:seconds?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|wks?|months?|years?|yrs?|trimesters?)"
_DOSE_UNIT = (r"(?:mg|g|kg|mcg|µg|μg|ug|ng|ml|mL|l|iu|units?|mmol|tablets?|capsules?|doses?|drops?|puffs?|"
              r"teaspoons?|tablespoons?|cups?|ounces?|oz|servings?|portions?|calories|kcal|mg/kg|MME|%)")
KIND_QUESTION = {
    "frequency": re.compile(r"\bhow (?:often|frequently)\b|\bhow many times\b|\bevery how\b|\bfrequency\b", re.I),
    "duration": re.compile(r"\bhow long\b|\bfor how long\b|\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b"
                           r"|\bduration\b|\bhow soon\b|\bwhat age\b|\bat what age\b|\buntil what age\b"
                           r"|\bshelf[- ]?life\b|\bexpir(?:e|es|y|ation)\b", re.I),
    "dose": re.compile(r"(?<![-\w])(?<!multi )(?<!single )dos(?:e|es|age|ing)\b(?![- ]vials?)|\bhow (?:much|many) (?:mg|milligrams?|grams?|units?|tablets?|ml)\b"
                       r"|\bmg\b|\bmg/kg\b", re.I),
    "quantity": re.compile(r"\bhow (?:much|many)\b|\bmax(?:imum)?\b|\bmin(?:imum)?\b|\bwhat (?:percentage|percent|level|number)\b"
                           r"|\bhow (?:big|high|low)\b|\bper (?:day|week|kg)\b|\bratio\b|\blimit\b|\btarget\b|\bthreshold\b"
                           r"|\bwhat (?:temperature|time)\b|(?<!-)\bprice\b|(?<!-)\bcost\b"
                           r"|\bwhat (?:[a-z0-9]+ ){1,2}(?:number|level|value|percentage)\b|\bpercent(?:age)?\b|%"
                           r"|\bdilution\b|\bconcentration\b", re.I),
}
# Words that only say which kind of answer is wanted: left out of the question's subject.
KIND_WORDS = frozenset(tokenize(
    "how often frequently many times every frequency long duration soon much maximum max minimum min "
    "dose doses dosage dosing mg milligram gram grams units tablets ml percentage percent level number big "
    "high low per day days week weeks month months year years hour hours minute minutes second seconds kg "
    "limit target threshold ratio age what temperature time price cost safe ok allowed percent percentage "
    "dilution concentration shelf life expire expiry expiration value"))
_STATES = {
    "frequency": re.compile(rf"\bevery\b|\b{_NUM}\s*times?\b|\b(?:once|twice)\b|\b(?:daily|weekly|monthly|annually|yearly|"
                            rf"hourly|biannual|annual)\b|\bper (?:day|week|month|year|hour)\b|\ba (?:day|week|month|year)\b", re.I),
    "duration": re.compile(rf"\b{_NUM}\s*(?:[-–—]|to|or)?\s*(?:{_NUM}\s*)?{_TIME_UNIT}\b|\buntil\b|\bfor (?:at least|up to)\b", re.I),
    "dose": re.compile(rf"\d\s*{_DOSE_UNIT}(?![a-z])|\b{_NUM}\s+{_DOSE_UNIT}(?![a-z])", re.I),
    "quantity": re.compile(rf"\d|\b(?!one\b){_NUM}\b|\bone\b(?!\s+(?:of|or|another|who|that|which)\b)", re.I),  # not "one of"
}
_CITATION = re.compile(r"\(\s*\d+(?:\s*[,–-]\s*\d+)*\s*\)|\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]|\b(?:19|20)\d\d\b"
                       r"|\b(?:Recommendation|Table|Box|Figure|page|p\.)\s*\d+", re.I)
WINDOW = 14  # words between the stated kind and a word of the question's subject


_YES_NO = re.compile(r"^\s*(?:is|are|am|was|were|should|shall|can|could|does|do|did|will|would|may|might|must|has|have|had)\b"
                     r"|^\s*what does the (?:guideline|document)", re.I)


def asked_kind(question: str) -> str | None:
    """What the question asks for: "frequency", "duration", "dose", "quantity" or None (a yes/no,
    what/why/which question: any retrieved sentence on the subject may answer it). A question
    opening with an auxiliary verb ("Should clinicians use the lowest dose ...?") asks yes or no."""
    question = form_spelled(question)
    if _YES_NO.search(question):
        return None
    for kind, rx in KIND_QUESTION.items():
        if rx.search(question):
            return kind
    return None


def subject_terms(terms: Iterable[Term]) -> set[str]:
    """The terms naming what the question is about: not kind words, not everyday verbs ("take")."""
    return {t.term for t in terms if t.term not in KIND_WORDS and t.rare >= EVERYDAY}


EVERYDAY = 0.05  # rarity below which a word names no subject ("take", "use", "see")
# How many subject terms must sit near the stated kind: durations and frequencies are bound to two
# ("3 weeks" near "TB" alone may be a cough's), amounts and doses to one (measured on the dev split
# of benchmarks/realistic_questions.py: two cost 5 of 24 answerable amount questions, one near-miss).
NEED = {"duration": 2, "frequency": 2, "dose": 1, "quantity": 1}


def states_kind(sentence: str, kind: str, subject: set[str], need: int = 1, given: set[str] = frozenset()) -> bool:
    """Does the sentence state something of `kind` with `need` distinct subject terms within
    `WINDOW` words of it? (Citation markers, years and "Table 3"-style labels are not quantities.)"""
    return states_pattern(sentence, _STATES[kind], subject, need, given)


def states_pattern(sentence: str, rx: "re.Pattern", subject: set[str], need: int = 1,
                   given: set[str] = frozenset()) -> bool:
    """Does the sentence hold a match of `rx` with `need` distinct subject terms within `WINDOW`
    words of it? `given`: subject terms the sentence's heading names ("When You're Sick" > "Check
    your blood glucose every 4 hours"), near every match. (Citation markers, years and "Table
    3"-style labels are removed first.)"""
    text = _CITATION.sub(" ", sentence)
    hits = [m.start() for m in rx.finditer(text)]
    if not hits:
        return False
    if not subject:
        return True
    words = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", text)]
    where = [(i, set(tokenize(w)) & subject) for i, (_, w) in enumerate(words)]
    where = [(i, found) for i, found in where if found]
    if not where:
        return False
    starts = [s for s, _ in words]
    import bisect

    for h in hits:
        i = max(0, bisect.bisect_right(starts, h) - 1)
        near: set[str] = set(given & subject)
        for j, found in where:
            if abs(i - j) <= WINDOW:
                near |= found
        if len(near) >= need:
            return True
    return False


_COUNT_Q = re.compile(r"\bhow many\s+((?:[a-z][a-z-]*\s+){0,3}?[a-z][a-z-]*?)(?=\s+(?:of|per|for|in|on|at|to|can|could|do|does|did|is|are|was|were|should|must|may|might|will|would|a|an|the|allowed|needed|required|recommended|before|after|with|without|when|if|i|you|we|they)\b|\s*[?.!,]|\s*$)", re.I)
COUNT_GAP = 3  # words between the number and the counted word ("2 hand wash sinks")


def counted_word(question: str) -> str:
    """The index term of what a "how many X" question counts ("" when it counts a unit of time or
    dose, or asks no "how many")."""
    m = _COUNT_Q.search(question)
    if not m:
        return ""
    word = m.group(1).split()[-1].lower()
    if re.fullmatch(_TIME_UNIT + "|" + _DOSE_UNIT + "|times", word, re.I):
        return ""
    terms = tokenize(word)
    return terms[0] if terms else ""


def states_count(sentence: str, counted: str) -> bool:
    """Does the sentence give a number of `counted` (a number, then it within `COUNT_GAP` words)?"""
    text = _CITATION.sub(" ", sentence)
    words = re.findall(r"\S+", text)
    for i, w in enumerate(words):
        if re.fullmatch(rf"[(~≈<>≤≥]*{_NUM}[)%,.;:]*", w, re.I) or re.match(r"^\d", w):
            if any(counted in tokenize(x) for x in words[i + 1:i + 2 + COUNT_GAP]):
                return True
    return False
