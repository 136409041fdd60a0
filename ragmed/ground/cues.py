"""Words that change what a clinical sentence says without changing its topic: negation, direction,
bounds, time order, modality, scope words (only/all), populations and the entity (drug, formulation,
route) it is about. `cues(text)` finds them, each with the content terms around it (its context),
so that the checker (ground/meaning.py) can compare a claim's cue with the passage's cue about the
same words.

The lists are fixed and small on purpose: the checker must be deterministic, fast (no parser) and
explainable ("the passage says should, not must"). Negation cues follow NegEx's English trigger
list (Chapman et al., 2001) reduced to the ones that occur in guideline prose, plus "avoid" and
"recommend against", which guidelines use as negative recommendations. negspacy/medspaCy ConText
were not used: they mark negated *entities* found by a medical NER/phrase list, while the checker
needs the negation of a recommendation's verb ("should not be discontinued"), and they add spaCy
(~1 s to load) to every check. Population, entity and modality words come from the wording of the
eight guideline PDFs used in the benchmarks (CDC, WHO, NIDDK) and common drug-name stems (USAN).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from ..tokenize import STOPWORDS, _stemmer

# (family, value, phrases). Longer phrases are matched first and consume their words.
_LEXICON: list[tuple[str, str, str]] = [
    # bounds first: "no more than" is a bound, not a negation
    ("bound", "max", "at most|no more than|not more than|no greater than|not exceed|not to exceed|no higher than|"
                     "up to|maximum|maximal|≤|<=|not above|no longer than"),
    ("bound", "min", "at least|no less than|not less than|no fewer than|minimum|minimal|≥|>=|exceed|"
                     "exceeds|exceeded|exceeding"),
    ("neg", "not", "not|n't|no|never|none|neither|nor|without|avoid|avoids|avoided|avoiding|recommend against|"
                   "recommends against|recommended against|advise against|advises against|argue against|"
                   "contraindicated|stay away from|refrain from|cannot|instead of|rather than"),
    ("dir", "+", "more|greater|higher|increase|increases|increased|increasing|raise|raises|raised|raising|"
                 "larger|above|maximize|maximise|escalate|escalating|"
                 "escalation|longer"),
    ("dir", "-", "less|fewer|lower|lowers|lowered|lowering|decrease|decreases|decreased|decreasing|reduce|"
                 "reduces|reduced|reducing|reduction|smaller|below|minimize|minimise|"
                 "shorter"),
    ("order", "before", "before|prior to|earlier|preceding|beforehand|until"),
    ("order", "after", "after|later|afterwards|subsequently"),
    ("modal", "must", "must|shall|required|mandatory|have to|has to|need to|needs to"),
    ("modal", "should", "should|ought to|recommend|recommends|recommended|advise|advises|advised"),
    ("modal", "may", "may|might|can|could|optional|possibly"),
    ("scope", "only", "only|solely|exclusively|alone"),
    ("scope", "all", "all|every|always|each"),
    ("scope", "some", "some|most|many|certain|selected|several|few"),
    ("pop", "older adults", "older adults|older adult|older patients|older persons|older people|elderly|geriatric|"
                            "aged 65|age 65|over 65"),
    ("pop", "adults", "adults|adult|grown-ups"),
    ("pop", "children", "children|child|pediatric|paediatric|adolescents|adolescent|infants|infant|neonates|"
                        "neonate|newborns|newborn|youth|young people|kids|minors|under 18|aged under 5|childhood|"
                        "under 5|under five"),
    ("pop", "pregnancy", "pregnant|pregnancy|pregnancies|during pregnancy|lactating|breastfeeding|breast-feeding"),
    ("pop", "renal impairment", "renal impairment|renal insufficiency|kidney disease|renal disease|kidney impairment"),
    ("pop", "hepatic impairment", "hepatic impairment|liver disease|hepatic insufficiency"),
    ("pop", "opioid-naive", "opioid-naive|opioid naive|opioid-naïve|opioid naïve|not opioid tolerant"),
    ("pop", "opioid-tolerant", "opioid-tolerant|opioid tolerant|opioid tolerance"),
    ("pop", "women", "women|woman|female|females"),
    ("pop", "men", "men|man|male|males"),
    ("form", "immediate-release", "immediate-release|immediate release|ir|short-acting|short acting"),
    ("form", "extended-release/long-acting", "er/la|extended-release/long-acting|extended-release|"
                                             "extended release|er|long-acting|long acting|la|sustained-release"),
    ("form", "transdermal", "transdermal|patch|patches"),
    ("route", "oral", "oral|orally|by mouth|tablet|tablets"),
    ("route", "intravenous", "intravenous|intravenously|iv"),
    ("route", "intramuscular", "intramuscular|intramuscularly|im"),
    ("route", "rectal", "rectal|rectally|suppository"),
    ("route", "subcutaneous", "subcutaneous|subcutaneously"),
]

DRUGS = frozenset("""
morphine oxycodone hydrocodone hydromorphone oxymorphone fentanyl methadone buprenorphine naloxone
naltrexone tramadol tapentadol codeine meperidine heroin levorphanol nalbuphine butorphanol
benzodiazepines benzodiazepine gabapentin gabapentinoids pregabalin duloxetine antidepressants
acetaminophen paracetamol nsaids nsaid ibuprofen naproxen aspirin celecoxib muscle-relaxants
levothyroxine hydroxocobalamin cyanocobalamin folate praziquantel albendazole mebendazole
artesunate artemether lumefantrine amodiaquine sulfadoxine pyrimethamine sulfadoxine-pyrimethamine
primaquine tafenoquine chloroquine quinine mefloquine atovaquone proguanil dihydroartemisinin
piperaquine pyronaridine artemisinin isoniazid rifampin rifampicin rifapentine ethambutol
pyrazinamide insulin metformin sulfonylurea amlodipine ramipril losartan lisinopril
clonidine lofexidine stimulants cannabis alcohol nicotine tobacco vitamin
""".split())
_DRUG_STEM = re.compile(r"[a-z]{3,}(?:codone|morphone|phine|fentanil|azepam|azolam|pril|sartan|dipine|olol|"
                        r"statin|mycin|cillin|floxacin|oquine|artemisinin|bendazole|conazole|prazole|tidine|"
                        r"quantel)$")


@dataclass(frozen=True)
class Cue:
    family: str  # "neg" | "bound" | "dir" | "order" | "modal" | "scope" | "pop" | "form" | "route" | "drug"
    value: str  # e.g. "not", "+", "before", "should", "children", "methadone"
    word: str  # as written
    index: int  # word position
    after: frozenset[str]  # stemmed content terms following it (its scope)
    around: frozenset[str]  # stemmed content terms on both sides
    phrase: str = ""  # the cue and the words after it, as written (for reasons)


@dataclass(frozen=True)
class Analysis:
    terms: frozenset[str]  # every stemmed content term
    cues: tuple[Cue, ...]

    def of(self, family: str) -> list[Cue]:
        return [c for c in self.cues if c.family == family]


def _compile():
    entries = []
    for fam, val, phrases in _LEXICON:
        for p in phrases.split("|"):
            entries.append((tuple(_words(p)), fam, val))
    entries.sort(key=lambda e: -len(e[0]))
    return entries


_WORD = re.compile(r"≤|≥|<=|>=|[a-zA-Zµμ][a-zA-Zïµμ'’]*(?:[-/][a-zA-Z]+)*|\d+(?:[.,]\d+)?")


def _words(text: str) -> list[str]:
    text = re.sub(r"(\w)n[’']t\b", r"\1 n't", text.replace("cannot", "can not").replace("Cannot", "Can not"))
    out = []
    for w in _WORD.findall(text):
        w = w.lower().replace("’", "'")
        out.append(w if w == "n't" else re.sub(r"'s$|'$", "", w))
    return out


_ENTRIES = None
WINDOW = 4  # content terms on each side that make a cue's context


def _stem_or_none(w: str, stem) -> str | None:
    if w in STOPWORDS or len(w) < 2 or w == "n't":
        return None
    return stem(w) if w.isalpha() else w


@lru_cache(maxsize=8192)
def analyse(text: str) -> Analysis:
    """The content terms and cues of a text (cached: passages are analysed once). A cue's context
    stays inside its own sentence: in "Methadone should not be the first choice. Clinicians should
    consider ...", the "not" is about the first choice, not about what the next sentence says."""
    from ..text import split_sentences

    spans = split_sentences(text, 0, len(text))
    if len(spans) > 1:
        parts = [_analyse_sentence(text[a:b]) for a, b in spans]
        cues, offset = [], 0
        for part, (a, b) in zip(parts, spans):
            cues.extend(replace(c, index=c.index + offset) for c in part.cues)
            offset += len(_words(text[a:b]))
        return Analysis(frozenset().union(*(p.terms for p in parts)), tuple(cues))
    return _analyse_sentence(text)


_PERIODS = frozenset("day days night nights morning evening week weeks month months year years hour hours h hr "
                     "hrs minute minutes min dose doses meal meals visit visits".split())


def _frequency(found: tuple, words: list[str]) -> bool:
    """ "every"/"each" before a period ("each day", "every 6 hours") says how often, not "all": "a
    day" and "each day" are the same dose."""
    s, e, fam, val, raw = found
    if fam != "scope" or raw not in ("every", "each"):
        return False
    nxt = words[e:e + 2]
    return bool(nxt) and (nxt[0] in _PERIODS or (nxt[0][:1].isdigit() and len(nxt) > 1 and nxt[1] in _PERIODS)
                          or nxt[0] in ("other", "second", "third"))


def _analyse_sentence(text: str) -> Analysis:
    global _ENTRIES
    if _ENTRIES is None:
        _ENTRIES = _compile()
    stem = _stemmer()
    words = _words(text)
    found: list[tuple[int, int, str, str, str]] = []  # start, end, family, value, as written
    i = 0
    while i < len(words):
        for phrase, fam, val in _ENTRIES:
            n = len(phrase)
            if tuple(words[i:i + n]) == phrase:
                found.append((i, i + n, fam, val, " ".join(words[i:i + n])))
                i += n
                break
        else:
            w = words[i]
            if w in DRUGS or _DRUG_STEM.match(w):
                found.append((i, i + 1, "drug", w.rstrip("s") if w.endswith("ines") else w, w))
            i += 1
    found = [f for f in found if not _frequency(f, words)]
    cue_pos = {j for s, e, *_ in found for j in range(s, e)}
    content = [(j, _stem_or_none(w, stem)) for j, w in enumerate(words) if j not in cue_pos]
    content = [(j, t) for j, t in content if t]
    terms = frozenset(t for _, t in content) | frozenset(
        _stem_or_none(v, stem) or v for s, e, fam, v, _ in found if fam in ("pop", "drug", "form", "route"))
    cues = []
    for s, e, fam, val, raw in found:
        after = [t for j, t in content if j >= e][:WINDOW]
        before = [t for j, t in content if j < s][-WINDOW:]
        phrase = " ".join(words[s:min(len(words), e + 3)])
        cues.append(Cue(fam, val, raw, s, frozenset(after), frozenset(after) | frozenset(before), phrase))
    return Analysis(terms, tuple(cues))
