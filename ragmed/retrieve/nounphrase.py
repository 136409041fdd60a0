"""Word classes for noun-phrase antecedents: which words may end ("head") a noun phrase.

    word_classes("prepared") -> {"ADJ", "VERB"}      can_head("prepared") -> False
    word_classes("tuberculosis") -> {"NOUN"}         can_head("tuberculosis") -> True
    word_classes("naloxone") -> set()  (not in the lexicon: a name or term)   can_head -> True
    verb_only("treated") -> True                     modifier("infected") -> True

A pronoun ("How is it treated?") stands for a noun phrase, so the phrase carried into the query
must end on a word that can be a noun: never a verb or participle of the earlier question ("How is
prepared treated?" came from carrying "prepared"), an adjective alone ("acute dental") or an adverb.

Source of the classes: LemmInflect's English lexicon (`lemminflect.getAllLemmas`, universal
part-of-speech tags per word form, built from the Automatically Generated Inflection Database and
the English Wiktionary; shipped inside the PyPI wheel, no download at run time). It is a lexicon
lookup, not a tagger: a word's possible classes, whatever its context. That is the safe side here:
a word is refused as a head only when the lexicon has no noun reading of it, and a word the lexicon
does not hold (drug names, genes, acronyms: "naloxone", "RUNX2") is taken as a name. A context
tagger (spaCy) would need a model that ragmed does not ship (the official English models are not on
PyPI); NLTK's tagger needs a data download.
"""

from __future__ import annotations

from functools import lru_cache

NOUNISH = frozenset({"NOUN", "PROPN"})
VERBISH = frozenset({"VERB", "AUX"})


@lru_cache(maxsize=65536)
def word_classes(word: str) -> frozenset[str]:
    """The universal part-of-speech tags the lexicon gives `word` (its lower-case form too), empty
    when it holds neither (a name or term). A word the lexicon lacks that ends in "-ed" is taken as a
    participle (English's regular ending; nouns in "-ed" such as "seed" are in the lexicon)."""
    from lemminflect import getAllLemmas

    classes = set(getAllLemmas(word)) | set(getAllLemmas(word.lower()))
    if not classes and len(word) >= 5 and word.lower().endswith("ed"):
        classes = {"VERB", "ADJ"}  # "-ed" is the regular participle ending ("breastfed"): a modifier
    return frozenset(classes)


def can_head(word: str) -> bool:
    """Whether `word` can end a noun phrase: the lexicon gives it a noun reading, or does not hold it
    (a name or term). "tuberculosis", "dose", "naloxone": yes; "prepared", "treated", "acute": no."""
    classes = word_classes(word)
    return not classes or bool(classes & NOUNISH)


def verb_only(word: str) -> bool:
    """A verb (or auxiliary) form and nothing else in the lexicon ("treated", "prescribing", "avoid"):
    it cannot stand inside a noun phrase, so it ends one."""
    classes = word_classes(word)
    return bool(classes) and classes <= VERBISH


def adverb_only(word: str) -> bool:
    """An adverb (or an adjective/adverb like "often") with no noun reading: never part of a carried
    phrase's end, and an adverb alone ends a phrase ("however")."""
    classes = word_classes(word)
    return "ADV" in classes and not classes & NOUNISH and not classes & VERBISH and "ADJ" not in classes


def modifier(word: str) -> bool:
    """A word that may stand before a noun inside a noun phrase but not end one: an adjective or a
    participle with no noun reading ("infected", "acute", "preferred")."""
    return not can_head(word) and not verb_only(word) and not adverb_only(word)


__all__ = ["word_classes", "can_head", "verb_only", "adverb_only", "modifier"]


PLURAL_PRONOUNS = frozenset("they them their theirs themselves".split())


def plural(phrase: str) -> bool:
    """Whether a noun phrase is plural, read on its last word: "stable patients" yes, "ramipril" no
    (LemmInflect: a noun whose noun lemma differs from it; a word the lexicon lacks, by its "-s" end).
    "they" stands for a plural phrase: "How often are they seen?" after "... dose of ramipril?" is
    not about ramipril."""
    from lemminflect import getLemma

    w = (phrase.split() or [""])[-1].lower()
    if word_classes(w) & NOUNISH:
        lemma = getLemma(w, upos="NOUN")
        return bool(lemma) and lemma[0] != w
    return w.endswith("s") and not w.endswith(("ss", "is", "us"))
