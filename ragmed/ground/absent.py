"""Words a claim adds that its cited passage never mentions.

Word overlap and sentence similarity let a claim through when most of its words and its numbers are
in the passage; a claim that puts the passage's dose under another condition ("amlodipine 5 mg once
daily is the recommended dose for anaphylaxis", citing "Start amlodipine 5 mg once daily") shares
nearly everything with it. What it adds is a rare word: a condition, drug, test or procedure. So a
claim whose rare words (wordfreq Zipf frequency below `RARE_ZIPF`: "anaphylaxis" 2.6,
"tuberculosis" 3.6, "asthma" 3.7; "headache" 4.0, "hospital" 5.1 and "department" 5.2 are everyday)
are not all in the cited passages is not supported: "the cited passage does not mention
anaphylaxis".

Only words that can name a thing count (a noun reading, or a word LemmInflect's lexicon does not
hold, such as a drug name; retrieve/nounphrase.py): "exceed" or "abruptly" name no condition.
A word counts as mentioned when any of its search terms (ragmed's tokenizer: stemmed, "doses" =
"dose") is among the passages' terms, when the word itself occurs in their text, or when a passage
word shares its first `PREFIX` letters ("medicines"/"medications", "anaphylactic"/"anaphylaxis"). `RARE_ZIPF` was chosen on the dev split of
benchmarks/adversarial_claims.py: at 3.75 none of its 2155 dev controls (as written, synonym
paraphrase, reworded) names a rare word its passage lacks; at 4.0, 237 do (the synonym table's
"dangers" for "risks"), so control recall would fall from 0.98 to 0.88.
"""

from __future__ import annotations

import re

from ..tokenize import tokenize
from .asking import zipf

RARE_ZIPF = 3.75
PREFIX = 5  # a passage word sharing this many first letters mentions it (medications/medicines)
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:-[^\W\d_][^\W_]*)*")


def absent_rare_words(claim: str, passages_text: str, passage_terms: set[str] | None = None) -> list[str]:
    """The claim's rare words (see the module docstring) that the passages never mention, in claim
    order, each once. `passage_terms`: tokenize(passages_text) when the caller has it."""
    have = passage_terms if passage_terms is not None else set(tokenize(passages_text))
    low = passages_text.lower()
    prefixes = {w[:PREFIX] for w in _WORD.findall(low) if len(w) >= PREFIX}
    def mentioned(word: str) -> bool:
        terms = tokenize(word)
        return not terms or any(t in have for t in terms) or word in low or word[:PREFIX] in prefixes

    from ..retrieve.nounphrase import can_head, word_classes

    words = [w.lower() for w in _WORD.findall(claim)]
    out: list[str] = []
    for i, key in enumerate(words):
        if len(key) < 4 or zipf(key) >= RARE_ZIPF or not can_head(key) or mentioned(key):
            continue  # a verb or adverb ("exceed", "abruptly") names no condition, drug or test
        nxt = words[i + 1] if i + 1 < len(words) else ""
        noun = nxt and can_head(nxt) and "VERB" not in word_classes(nxt)
        name = f"{key} {nxt}" if noun and not mentioned(nxt) else key  # "folic acid", not "folic"
        if name not in out and not any(key in o.split() for o in out):
            out.append(name)
    return out
